//! WIT worlds implemented in Python: the world read with wit-parser, the
//! Python bindings (`wit_world`, in the shape componentize-py 0.25.1
//! generates, so its apps build unchanged) and the canonical-ABI glue
//! between component values and Python objects.
//!
//! The glue has two halves. [`glue::c_source`] is C compiled with the target
//! SDK into the component's interpreter: one core-wasm export per exported
//! function (named as wit-component's legacy name mangling expects), one
//! core-wasm import per imported function and resource intrinsic, each with
//! the flat signature of the Canonical ABI (`CanonicalABI.md`, "Flattening"),
//! plus `cabi_realloc` and the built-in module `_wasiwheel_abi` (raw calls,
//! linear memory as a `memoryview`). The other half is Python
//! (`embed/wit_runtime.py`, module `_wasiwheel_wit`): it lifts and lowers
//! values by the layout tables this module computes with wit-parser's
//! `SizeAlign` and `push_flat` (module `wit_world._abi`).

pub mod glue;
pub mod python;

use std::collections::{BTreeMap, HashMap};

use camino::Utf8Path;
use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, LiftLowerAbi, ManglingAndAbi, Resolve, ResourceIntrinsic, SizeAlign,
    Type, TypeDefKind, TypeId, TypeOwner, WasmExport, WasmExportKind, WasmImport, WorldId, WorldItem, WorldKey,
};

use wit_parser::abi::WasmType;

use crate::error::{Error, Result};

/// The Python runtime of the glue (`_wasiwheel_wit`): lifting and lowering.
pub const RUNTIME_PY: &str = include_str!("../embed/wit_runtime.py");

/// The legacy name mangling wit-component reads from core modules
/// (`module#function`, `[export]module`, `cabi_post_…`), synchronous ABI.
const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

/// A world read from WIT files.
#[derive(Debug, Clone)]
pub struct World {
    /// Every package read, with its dependencies.
    pub resolve: Resolve,
    /// The selected world.
    pub id: WorldId,
}

impl World {
    /// Read `wit_path` (a `.wit` file, or a directory of them with
    /// dependencies under `deps/`) with wit-parser and select `world`
    /// (a name such as `proxy` or `wasi:http/proxy@0.2.0`; `None`: the
    /// package's only world).
    ///
    /// Errors: [`Error::Config`] (key `component-wit-path`) when the path is
    /// missing or the WIT does not parse (wit-parser's message, which names
    /// the file and line); [`Error::Config`] (key `component-world`) when the
    /// world is not found or is ambiguous.
    pub fn load(wit_path: &Utf8Path, world: Option<&str>) -> Result<World> {
        if !wit_path.exists() {
            return Err(Error::config(
                "component-wit-path",
                format!("{wit_path} does not exist: give a .wit file or a directory of them (with deps/)"),
            ));
        }
        let mut resolve = Resolve::new();
        let pushed = resolve.push_path(wit_path.as_std_path());
        let (pkg, _) = pushed.map_err(|e| {
            // wit-parser's rendering: the message, then `--> file:line:column` and the line.
            let rendered = resolve.render_error(&e);
            let text = if rendered.trim().is_empty() { chain(&e) } else { rendered };
            Error::config("component-wit-path", format!("cannot read the WIT at {wit_path}: {}", text.trim_end()))
        })?;
        let id = resolve.select_world(&[pkg], world).map_err(|e| {
            let worlds: Vec<String> = resolve
                .worlds
                .iter()
                .filter(|(_, w)| w.package.is_some())
                .map(|(id, w)| match w.package.map(|p| &resolve.packages[p].name) {
                    Some(n) => format!("{}:{}/{}", n.namespace, n.name, resolve.worlds[id].name),
                    None => w.name.clone(),
                })
                .collect();
            Error::config("component-world", format!("{} (worlds in {wit_path}: {})", chain(&e), worlds.join(", ")))
        })?;
        Ok(World { resolve, id })
    }

    /// The world's full name, `namespace:package/world[@version]`.
    pub fn name(&self) -> String {
        let w = &self.resolve.worlds[self.id];
        match w.package {
            Some(p) => {
                let n = &self.resolve.packages[p].name;
                match &n.version {
                    Some(v) => format!("{}:{}/{}@{v}", n.namespace, n.name, w.name),
                    None => format!("{}:{}/{}", n.namespace, n.name, w.name),
                }
            }
            None => w.name.clone(),
        }
    }
}

/// Write the Python bindings of `world` into `dir` (created; files of the
/// same names replaced; a half-written set is never left: each file is
/// written atomically). Returns the number of files.
///
/// Errors: [`Error::Config`] for unsupported WIT; [`Error::Io`] when `dir`
/// cannot be written.
pub fn write_bindings(world: &World, dir: &Utf8Path) -> Result<usize> {
    use crate::error::IoContext;
    use std::io::Write;
    let names = world.names();
    let glue = world.glue(&names)?;
    let files = python::files(world, &names, &glue, true);
    for (path, text) in &files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).context(|| format!("cannot create {parent}"))?;
        }
        crate::files::write_atomic(&p, |f| f.write_all(text.as_bytes()).context(|| format!("cannot write {p}")))?;
    }
    Ok(files.len())
}

/// wit-parser's error with its causes (its context names the file; the
/// innermost message has the line and column).
fn chain(e: &anyhow::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

/// One core-wasm import of the glue.
#[derive(Debug, Clone)]
pub struct ImportFn {
    /// Core module name (`wasi:http/types@0.2.0`, `$root`, `[export]pkg:x/y`).
    pub module: String,
    /// Core field name (`[method]fields.get`, `[resource-drop]fields`).
    pub name: String,
    /// Flat core parameter types.
    pub params: Vec<CoreType>,
    /// Flat core result (at most one).
    pub result: Option<CoreType>,
    /// The Python descriptor (a literal), `None` for raw resource intrinsics.
    pub descriptor: String,
    /// The bindings module that calls it (`wit_world.imports.types`), `None`
    /// for resource intrinsics.
    pub module_key: Option<String>,
}

/// One core-wasm export of the glue.
#[derive(Debug, Clone)]
pub struct ExportFn {
    /// Core export name (`wasi:http/incoming-handler@0.2.0#handle`, `eval`).
    pub name: String,
    /// Flat core parameter types.
    pub params: Vec<CoreType>,
    /// Flat core result (at most one).
    pub result: Option<CoreType>,
    /// Export `cabi_post_{name}` too (the results hold memory to free).
    pub post_return: bool,
    /// The Python descriptor (a literal).
    pub descriptor: String,
}

/// A core WebAssembly value type of a flat signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreType {
    I32,
    I64,
    F32,
    F64,
}

impl CoreType {
    fn of(t: WasmType) -> CoreType {
        match t {
            WasmType::I32 | WasmType::Pointer | WasmType::Length => CoreType::I32,
            WasmType::I64 | WasmType::PointerOrI64 => CoreType::I64,
            WasmType::F32 => CoreType::F32,
            WasmType::F64 => CoreType::F64,
        }
    }
    /// The one-letter code the Python runtime uses (`i`, `I`, `f`, `F`).
    fn code(self) -> char {
        match self {
            CoreType::I32 => 'i',
            CoreType::I64 => 'I',
            CoreType::F32 => 'f',
            CoreType::F64 => 'F',
        }
    }
}

/// Where a Python class of the bindings lives: `(module, name)`.
type ClassRef = (String, String);

/// An object the app provides for exports: a class to instantiate at
/// initialization (`app.WitWorld`, `app.IncomingHandler`).
#[derive(Debug, Clone)]
pub struct ExportObject {
    /// The class name looked up in the app module.
    pub class: String,
    /// What it implements, for messages (`the world's exports`, `wasi:cli/run@0.2.0`).
    pub implements: String,
    /// The methods it must define (Python names).
    pub methods: Vec<String>,
}

/// Everything generated for a world: the tables, the imports and exports.
pub struct Glue {
    /// `wit_world._abi`'s source: TYPES, RESOURCES, IMPORTS, EXPORTS, OBJECTS.
    pub abi_py: String,
    /// The core imports, in call-index order.
    pub imports: Vec<ImportFn>,
    /// The core exports, in call-index order.
    pub exports: Vec<ExportFn>,
}

/// The Python-facing names of a world: interface modules and their direction.
pub struct Names {
    /// Interface → Python module name (snake case, unique in the world).
    pub interfaces: HashMap<InterfaceId, String>,
    /// Interfaces the world exports (the rest of those named are imported).
    pub exported: Vec<InterfaceId>,
    /// Interfaces the world imports.
    pub imported: Vec<InterfaceId>,
}

/// Python identifiers: snake case, keywords escaped with a trailing `_`
/// (as componentize-py does).
pub fn snake(name: &str) -> String {
    escape(heck::ToSnakeCase::to_snake_case(name))
}

/// Python class names: upper camel case, keywords escaped.
pub fn camel(name: &str) -> String {
    escape(heck::ToUpperCamelCase::to_upper_camel_case(name))
}

/// Enum and flag member names: shouty snake case.
pub fn shouty(name: &str) -> String {
    escape(heck::ToShoutySnakeCase::to_shouty_snake_case(name))
}

fn escape(s: String) -> String {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ];
    if KEYWORDS.contains(&s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

impl World {
    /// The Python module names of the world's interfaces: the interface's own
    /// name when it is unique in the world, else prefixed with its package
    /// (`wasi_http_types`), and with its version when one package is there in
    /// two versions (componentize-py's rule).
    pub fn names(&self) -> Names {
        let r = &self.resolve;
        let w = &r.worlds[self.id];
        let mut imported = Vec::new();
        let mut exported = Vec::new();
        for (items, out) in [(&w.imports, &mut imported), (&w.exports, &mut exported)] {
            for item in items.values() {
                if let WorldItem::Interface { id, .. } = item {
                    out.push(*id);
                }
            }
        }
        let all: Vec<InterfaceId> = imported.iter().chain(&exported).copied().collect();
        let mut by_name: BTreeMap<String, Vec<InterfaceId>> = BTreeMap::new();
        for id in &all {
            let name = r.interfaces[*id].name.clone().unwrap_or_else(|| "interface".into());
            let v = by_name.entry(name).or_default();
            if !v.contains(id) {
                v.push(*id);
            }
        }
        let mut interfaces = HashMap::new();
        for (name, ids) in by_name {
            let packages: std::collections::BTreeSet<(String, String)> = ids
                .iter()
                .filter_map(|id| r.interfaces[*id].package)
                .map(|p| (r.packages[p].name.namespace.clone(), r.packages[p].name.name.clone()))
                .collect();
            for id in &ids {
                let pkg = r.interfaces[*id].package.map(|p| &r.packages[p].name);
                let n = match pkg {
                    _ if ids.len() == 1 => name.clone(),
                    Some(p) if packages.len() == ids.len() => format!("{}-{}-{name}", p.namespace, p.name),
                    Some(p) => format!(
                        "{}-{}-{name}-{}",
                        p.namespace,
                        p.name,
                        p.version.as_ref().map(|v| v.to_string().replace('.', "-")).unwrap_or_default()
                    ),
                    None => name.clone(),
                };
                interfaces.insert(*id, snake(&n));
            }
        }
        Names { interfaces, exported, imported }
    }
}

/// The module of the bindings a named type's class lives in.
pub fn type_module(world: &World, names: &Names, owner: TypeOwner) -> String {
    match owner {
        TypeOwner::Interface(i) => {
            let dir = if names.imported.contains(&i) { "imports" } else { "exports" };
            format!("wit_world.{dir}.{}", names.interfaces[&i])
        }
        TypeOwner::World(_) | TypeOwner::None => {
            let _ = world;
            "wit_world".into()
        }
    }
}

/// Follow `type x = y` aliases to the type they name.
pub fn dealias(r: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty {
        match &r.types[id].kind {
            TypeDefKind::Type(t) => ty = *t,
            _ => break,
        }
    }
    ty
}

/// Whether a function's result is a `result` whose error Python raises
/// (as `componentize_py_types.Err`) instead of returning.
pub fn raises(r: &Resolve, f: &Function) -> bool {
    matches!(f.result.map(|t| dealias(r, t)), Some(Type::Id(id)) if matches!(r.types[id].kind, TypeDefKind::Result(_)))
}

/// The resource a function belongs to, if it is a method, static or constructor.
pub fn resource_of(f: &Function) -> Option<TypeId> {
    match f.kind {
        FunctionKind::Method(id) | FunctionKind::Static(id) | FunctionKind::Constructor(id) => Some(id),
        _ => None,
    }
}

/// The Python name of a function: snake case; for resource functions the
/// part after the `.` of `[method]res.name`.
pub fn function_name(f: &Function) -> String {
    snake(f.item_name())
}

/// Layout tables and call descriptors for the Python runtime.
struct Tables<'a> {
    world: &'a World,
    names: &'a Names,
    sizes: SizeAlign,
    types: Vec<String>,
    index: HashMap<Type, usize>,
    resources: Vec<String>,
    resource_index: HashMap<TypeId, usize>,
    /// Exported resources: id → index of their dtor/new/rep imports.
    imports: Vec<ImportFn>,
}

impl<'a> Tables<'a> {
    fn flat(&self, ty: &Type) -> String {
        let mut storage = [WasmType::I32; 64];
        let mut flat = wit_parser::abi::FlatTypes::new(&mut storage);
        if !self.world.resolve.push_flat(ty, &mut flat) {
            // Too wide to flatten (never passed flat): the runtime never asks.
            return String::new();
        }
        flat.to_vec().into_iter().map(|t| CoreType::of(t).code()).collect()
    }

    fn class(&self, id: TypeId) -> ClassRef {
        let def = &self.world.resolve.types[id];
        (type_module(self.world, self.names, def.owner), camel(def.name.as_deref().unwrap_or("anonymous")))
    }

    /// The index in TYPES of `ty`, adding it (and what it contains) if new.
    fn ty(&mut self, ty: Type) -> Result<usize> {
        let ty = dealias(&self.world.resolve, ty);
        if let Some(i) = self.index.get(&ty) {
            return Ok(*i);
        }
        let size = self.sizes.size(&ty).size_wasm32();
        let align = self.sizes.align(&ty).align_wasm32();
        let flat = self.flat(&ty);
        let head = |kind: &str| format!("({kind:?}, {size}, {align}, {flat:?}");
        let text = match ty {
            Type::Bool
            | Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::S8
            | Type::S16
            | Type::S32
            | Type::S64
            | Type::F32
            | Type::F64
            | Type::Char
            | Type::String => format!("{}, )", head(&format!("{ty:?}").to_lowercase())),
            Type::ErrorContext => return Err(unsupported("error-context")),
            Type::Id(id) => {
                // Reserve the slot first: types can contain themselves through resources.
                let r = &self.world.resolve;
                let def = r.types[id].clone();
                match &def.kind {
                    TypeDefKind::List(t) => {
                        let e = self.ty(*t)?;
                        format!("{}, {e})", head("list"))
                    }
                    TypeDefKind::Option(t) => {
                        let e = self.ty(*t)?;
                        let off = self.sizes.payload_offset(wit_parser::Int::U8, [Some(t)]).size_wasm32();
                        let nested =
                            matches!(dealias(r, *t), Type::Id(i) if matches!(r.types[i].kind, TypeDefKind::Option(_)));
                        format!("{}, {e}, {off}, {})", head("option"), py_bool(nested))
                    }
                    TypeDefKind::Result(res) => {
                        let ok = res.ok.map(|t| self.ty(t)).transpose()?;
                        let err = res.err.map(|t| self.ty(t)).transpose()?;
                        let off = self
                            .sizes
                            .payload_offset(wit_parser::Int::U8, [res.ok.as_ref(), res.err.as_ref()])
                            .size_wasm32();
                        format!("{}, {}, {}, {off})", head("result"), py_opt(ok), py_opt(err))
                    }
                    TypeDefKind::Tuple(t) => {
                        let offs: Vec<usize> = self
                            .sizes
                            .field_offsets(t.types.iter())
                            .into_iter()
                            .map(|(o, _)| o.size_wasm32())
                            .collect();
                        let mut fields = Vec::new();
                        for (t, o) in t.types.iter().zip(offs) {
                            fields.push(format!("({}, {o})", self.ty(*t)?));
                        }
                        format!("{}, [{}])", head("tuple"), fields.join(", "))
                    }
                    TypeDefKind::Record(rec) => {
                        let offs: Vec<usize> = self
                            .sizes
                            .field_offsets(rec.fields.iter().map(|f| &f.ty))
                            .into_iter()
                            .map(|(o, _)| o.size_wasm32())
                            .collect();
                        let mut fields = Vec::new();
                        for (f, o) in rec.fields.iter().zip(offs) {
                            fields.push(format!("({:?}, {}, {o})", snake(&f.name), self.ty(f.ty)?));
                        }
                        format!("{}, {:?}, [{}])", head("record"), self.class(id), fields.join(", "))
                    }
                    TypeDefKind::Variant(v) => {
                        let tag = int_size(v.tag());
                        let off =
                            self.sizes.payload_offset(v.tag(), v.cases.iter().map(|c| c.ty.as_ref())).size_wasm32();
                        let (module, name) = self.class(id);
                        let mut cases = Vec::new();
                        for c in &v.cases {
                            let t = c.ty.map(|t| self.ty(t)).transpose()?;
                            let case_flat = c.ty.map(|t| self.flat(&t)).unwrap_or_default();
                            cases.push(format!(
                                "(({module:?}, {:?}), {}, {case_flat:?})",
                                format!("{name}_{}", camel(&c.name)),
                                py_opt(t)
                            ));
                        }
                        format!("{}, {tag}, {off}, [{}])", head("variant"), cases.join(", "))
                    }
                    TypeDefKind::Enum(e) => {
                        format!("{}, {}, {:?}, {})", head("enum"), int_size(e.tag()), self.class(id), e.cases.len())
                    }
                    TypeDefKind::Flags(f) => {
                        format!("{}, {:?}, {})", head("flags"), self.class(id), f.flags.len())
                    }
                    TypeDefKind::Handle(Handle::Own(res)) => {
                        let ri = self.resource(*res)?;
                        format!("{}, {ri})", head("own"))
                    }
                    TypeDefKind::Handle(Handle::Borrow(res)) => {
                        let ri = self.resource(*res)?;
                        format!("{}, {ri})", head("borrow"))
                    }
                    TypeDefKind::Map(..) => return Err(unsupported("map")),
                    TypeDefKind::FixedLengthList(..) => return Err(unsupported("fixed-length list")),
                    TypeDefKind::Future(_) => return Err(unsupported("future")),
                    TypeDefKind::Stream(_) => return Err(unsupported("stream")),
                    TypeDefKind::Resource | TypeDefKind::Type(_) | TypeDefKind::Unknown => {
                        return Err(Error::Other(format!("unexpected WIT type {:?}", def.name)))
                    }
                }
            }
        };
        let i = self.types.len();
        self.types.push(text);
        self.index.insert(ty, i);
        Ok(i)
    }

    /// The index in RESOURCES of a resource (following aliases to its definition).
    fn resource(&mut self, id: TypeId) -> Result<usize> {
        let id = match dealias(&self.world.resolve, Type::Id(id)) {
            Type::Id(i) => i,
            _ => id,
        };
        if let Some(i) = self.resource_index.get(&id) {
            return Ok(*i);
        }
        let r = &self.world.resolve;
        let def = &r.types[id];
        let name = def.name.clone().unwrap_or_default();
        let TypeOwner::Interface(iface) = def.owner else {
            return Err(unsupported("resources defined at world level"));
        };
        let key = world_key(self.world, iface);
        let exported = self.names.exported.contains(&iface) && !self.names.imported.contains(&iface);
        let text = if exported {
            // The app's implementation: class `Camel` in the top-level module named after the interface.
            let intr = |x| {
                let (module, field) = r.wasm_import_name(
                    MANGLING,
                    WasmImport::ResourceIntrinsic { interface: Some(&key), resource: id, intrinsic: x },
                );
                (module, field)
            };
            let mut idx = Vec::new();
            for (x, result) in [
                (ResourceIntrinsic::ExportedNew, Some(CoreType::I32)),
                (ResourceIntrinsic::ExportedRep, Some(CoreType::I32)),
                (ResourceIntrinsic::ExportedDrop, None),
            ] {
                let (module, field) = intr(x);
                idx.push(self.imports.len());
                self.imports.push(ImportFn {
                    module,
                    name: field,
                    params: vec![CoreType::I32],
                    result,
                    descriptor: "None".into(),
                    module_key: None,
                });
            }
            format!(
                "(True, ({:?}, {:?}), {}, {}, {})",
                self.names.interfaces[&iface],
                camel(&name),
                idx[0],
                idx[1],
                idx[2]
            )
        } else {
            let (module, field) = r.wasm_import_name(
                MANGLING,
                WasmImport::ResourceIntrinsic {
                    interface: Some(&key),
                    resource: id,
                    intrinsic: ResourceIntrinsic::ImportedDrop,
                },
            );
            let drop = self.imports.len();
            self.imports.push(ImportFn {
                module,
                name: field,
                params: vec![CoreType::I32],
                result: None,
                descriptor: "None".into(),
                module_key: None,
            });
            format!("(False, {:?}, {drop}, None, None)", self.class(id))
        };
        let i = self.resources.len();
        self.resources.push(text);
        self.resource_index.insert(id, i);
        Ok(i)
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn py_opt(i: Option<usize>) -> String {
    i.map(|i| i.to_string()).unwrap_or_else(|| "None".into())
}

fn int_size(i: wit_parser::Int) -> usize {
    match i {
        wit_parser::Int::U8 => 1,
        wit_parser::Int::U16 => 2,
        wit_parser::Int::U32 => 4,
        wit_parser::Int::U64 => 8,
    }
}

fn unsupported(what: &str) -> Error {
    Error::config(
        "component-world",
        format!(
            "the world uses {what}, which wasiwheel's Python bindings do not support yet (synchronous functions \
         and the types of WIT 0.2 are supported)"
        ),
    )
}

/// The world key an interface is imported or exported under.
fn world_key(world: &World, iface: InterfaceId) -> WorldKey {
    let w = &world.resolve.worlds[world.id];
    for (k, item) in w.imports.iter().chain(&w.exports) {
        if matches!(item, WorldItem::Interface { id, .. } if *id == iface) {
            return k.clone();
        }
    }
    WorldKey::Interface(iface)
}

fn signature_types(sig: &wit_parser::abi::WasmSignature) -> (Vec<CoreType>, Option<CoreType>) {
    (sig.params.iter().map(|t| CoreType::of(*t)).collect(), sig.results.first().map(|t| CoreType::of(*t)))
}

fn func_descriptor(t: &mut Tables, f: &Function, sig: &wit_parser::abi::WasmSignature) -> Result<String> {
    if f.kind.is_async() {
        return Err(unsupported("async functions"));
    }
    let mut params = Vec::new();
    for p in &f.params {
        params.push(t.ty(p.ty)?.to_string());
    }
    let result = f.result.map(|r| t.ty(r)).transpose()?;
    Ok(format!(
        "({:?}, ({}{}), {}, {}, {}, {})",
        f.name,
        params.join(", "),
        if params.len() == 1 { "," } else { "" },
        py_opt(result),
        py_bool(raises(&t.world.resolve, f)),
        py_bool(sig.indirect_params),
        py_bool(sig.retptr),
    ))
}

/// Whether values of `ty` hold memory (strings or lists) the producer frees.
fn holds_memory(r: &Resolve, ty: Type) -> bool {
    match dealias(r, ty) {
        Type::String => true,
        Type::Id(id) => match &r.types[id].kind {
            TypeDefKind::List(_) => true,
            TypeDefKind::Option(t) => holds_memory(r, *t),
            TypeDefKind::Result(res) => {
                res.ok.is_some_and(|t| holds_memory(r, t)) || res.err.is_some_and(|t| holds_memory(r, t))
            }
            TypeDefKind::Tuple(tu) => tu.types.iter().any(|t| holds_memory(r, *t)),
            TypeDefKind::Record(rec) => rec.fields.iter().any(|f| holds_memory(r, f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| c.ty.is_some_and(|t| holds_memory(r, t))),
            _ => false,
        },
        _ => false,
    }
}

impl World {
    /// Compute the glue of this world: every import and export with its core
    /// signature and name, and the runtime's tables.
    ///
    /// Errors: [`Error::Config`] (key `component-world`) for what the
    /// bindings do not support (async functions, futures, streams, maps,
    /// fixed-length lists, world-level resources).
    pub fn glue(&self, names: &Names) -> Result<Glue> {
        let r = &self.resolve;
        let w = &r.worlds[self.id];
        let mut sizes = SizeAlign::default();
        sizes.fill(r).map_err(|e| Error::config("component-wit-path", chain(&e)))?;
        let mut t = Tables {
            world: self,
            names,
            sizes,
            types: Vec::new(),
            index: HashMap::new(),
            resources: Vec::new(),
            resource_index: HashMap::new(),
            imports: Vec::new(),
        };
        // Imports: functions of imported interfaces and the world's own.
        for (key, item) in &w.imports {
            let module_key = python::bindings_module(
                names,
                match item {
                    WorldItem::Interface { id, .. } => Some(*id),
                    _ => None,
                },
            );
            let funcs: Vec<(Option<&WorldKey>, &Function)> = match item {
                WorldItem::Interface { id, .. } => {
                    r.interfaces[*id].functions.values().map(|f| (Some(key), f)).collect()
                }
                WorldItem::Function(f) => vec![(None, f)],
                WorldItem::Type { .. } => vec![],
            };
            for (iface, f) in funcs {
                let sig = r.wasm_signature(wit_parser::abi::AbiVariant::GuestImport, f);
                let descriptor = func_descriptor(&mut t, f, &sig)?;
                let (module, name) = r.wasm_import_name(MANGLING, WasmImport::Func { interface: iface, func: f });
                let (params, result) = signature_types(&sig);
                t.imports.push(ImportFn {
                    module,
                    name,
                    params,
                    result,
                    descriptor,
                    module_key: Some(module_key.clone()),
                });
            }
            // Every imported resource gets its drop, used or not.
            if let WorldItem::Interface { id, .. } = item {
                for ty in r.interfaces[*id].types.values() {
                    if matches!(r.types[*ty].kind, TypeDefKind::Resource) {
                        t.resource(*ty)?;
                    }
                }
            }
        }
        // Exports: the world's own functions (one object, WitWorld) and each interface's (one object each).
        let mut exports = Vec::new();
        let mut objects: Vec<ExportObject> = Vec::new();
        let mut world_funcs = Vec::new();
        for (key, item) in &w.exports {
            match item {
                WorldItem::Function(f) => world_funcs.push((key, f)),
                WorldItem::Interface { id, .. } => {
                    let iface = &r.interfaces[*id];
                    let obj = objects.len();
                    let mut methods = Vec::new();
                    for f in iface.functions.values() {
                        let sig = r.wasm_signature(wit_parser::abi::AbiVariant::GuestExport, f);
                        let d = func_descriptor(&mut t, f, &sig)?;
                        let (kind, target) = match (f.kind.clone(), resource_of(f)) {
                            (FunctionKind::Freestanding, _) => {
                                methods.push(function_name(f));
                                ("func", obj)
                            }
                            (FunctionKind::Constructor(_), Some(res)) => ("ctor", t.resource(res)?),
                            (FunctionKind::Method(_), Some(res)) => ("method", t.resource(res)?),
                            (_, Some(res)) => ("static", t.resource(res)?),
                            _ => return Err(unsupported("async functions")),
                        };
                        let name = r.wasm_export_name(
                            MANGLING,
                            WasmExport::Func { interface: Some(key), func: f, kind: WasmExportKind::Normal },
                        );
                        let (params, result) = signature_types(&sig);
                        exports.push(ExportFn {
                            name,
                            params,
                            result,
                            post_return: sig.retptr || f.result.is_some_and(|ty| holds_memory(r, ty)),
                            descriptor: format!("({kind:?}, {target}, {:?}, {d})", function_name(f)),
                        });
                    }
                    for ty in iface.types.values() {
                        if matches!(r.types[*ty].kind, TypeDefKind::Resource) {
                            let ri = t.resource(*ty)?;
                            let name = r
                                .wasm_export_name(MANGLING, WasmExport::ResourceDtor { interface: key, resource: *ty });
                            exports.push(ExportFn {
                                name,
                                params: vec![CoreType::I32],
                                result: None,
                                post_return: false,
                                descriptor: format!("(\"dtor\", {ri}, \"\", None)"),
                            });
                        }
                    }
                    objects.push(ExportObject {
                        class: camel(iface.name.as_deref().unwrap_or("interface")),
                        implements: r.name_world_key(key),
                        methods,
                    });
                }
                WorldItem::Type { .. } => {}
            }
        }
        if !world_funcs.is_empty() {
            let obj = objects.len();
            let mut methods = Vec::new();
            for (_, f) in world_funcs {
                let sig = r.wasm_signature(wit_parser::abi::AbiVariant::GuestExport, f);
                let d = func_descriptor(&mut t, f, &sig)?;
                methods.push(function_name(f));
                let name = r.wasm_export_name(
                    MANGLING,
                    WasmExport::Func { interface: None, func: f, kind: WasmExportKind::Normal },
                );
                let (params, result) = signature_types(&sig);
                exports.push(ExportFn {
                    name,
                    params,
                    result,
                    post_return: sig.retptr || f.result.is_some_and(|ty| holds_memory(r, ty)),
                    descriptor: format!("(\"func\", {obj}, {:?}, {d})", function_name(f)),
                });
            }
            objects.push(ExportObject {
                class: "WitWorld".into(),
                implements: format!("the exports of world {}", self.name()),
                methods,
            });
        }
        let mut abi = String::from(
            "# Generated by wasiwheel: the layout tables of the world's canonical-ABI glue.\nfrom typing import \
             Any\n\n",
        );
        abi.push_str(&format!("WORLD: str = {:?}\n", self.name()));
        abi.push_str("TYPES: list[tuple[Any, ...]] = [\n");
        for (i, ty) in t.types.iter().enumerate() {
            abi.push_str(&format!("    {ty},  # {i}\n"));
        }
        abi.push_str("]\nRESOURCES: list[tuple[Any, ...]] = [\n");
        for res in &t.resources {
            abi.push_str(&format!("    {res},\n"));
        }
        abi.push_str("]\nIMPORTS: list[Any] = [\n");
        for f in &t.imports {
            abi.push_str(&format!("    {},  # {} {}\n", f.descriptor, f.module, f.name));
        }
        abi.push_str("]\nEXPORTS: list[Any] = [\n");
        for f in &exports {
            abi.push_str(&format!("    {},  # {}\n", f.descriptor, f.name));
        }
        abi.push_str("]\nOBJECTS: list[tuple[str, str, list[str]]] = [\n");
        for o in &objects {
            abi.push_str(&format!("    ({:?}, {:?}, {:?}),\n", o.class, o.implements, o.methods));
        }
        abi.push_str("]\n");
        Ok(Glue { abi_py: abi, imports: t.imports, exports })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(src: &str, name: Option<&str>) -> Result<World> {
        let dir = tempfile::tempdir().unwrap();
        let p = Utf8Path::from_path(dir.path()).unwrap().join("w.wit");
        std::fs::write(&p, src).unwrap();
        let w = World::load(&p, name);
        drop(dir);
        w
    }

    #[test]
    fn names_follow_componentize_py() {
        assert_eq!(snake("incoming-handler"), "incoming_handler");
        assert_eq!(camel("incoming-handler"), "IncomingHandler");
        assert_eq!(shouty("dns-timeout"), "DNS_TIMEOUT");
        assert_eq!(snake("from"), "from_");
        assert_eq!(camel("none"), "None_");
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        let e = world("package a:b;\nworld w {\n  export f: func() -> nope;\n}\n", None).unwrap_err().to_string();
        assert!(e.contains("w.wit:3"), "{e}");
        assert!(e.contains("component-wit-path"), "{e}");
        let e = world("package a:b;\nworld w {}\n", Some("other")).unwrap_err().to_string();
        assert!(e.contains("component-world") && e.contains("a:b/w"), "{e}");
    }

    #[test]
    fn glue_of_a_small_world() {
        let w = world(
            "package a:b;\ninterface i { resource r { constructor(x: u32); get: func() -> string; }\n \
             f: func(x: list<u8>) -> result<string, u32>; }\nworld w { import i; export g: func(s: string) -> string; \
              }\n",
            None,
        )
        .unwrap();
        let names = w.names();
        let g = w.glue(&names).unwrap();
        let imports: Vec<String> = g.imports.iter().map(|f| format!("{} {}", f.module, f.name)).collect();
        assert!(imports.contains(&"a:b/i [constructor]r".to_string()), "{imports:?}");
        assert!(imports.contains(&"a:b/i [resource-drop]r".to_string()), "{imports:?}");
        let f = g.imports.iter().find(|f| f.name == "f").unwrap();
        // list<u8> flattens to (ptr, len), and the result goes through a return pointer.
        assert_eq!(f.params, vec![CoreType::I32, CoreType::I32, CoreType::I32]);
        assert_eq!(f.result, None);
        assert_eq!(g.exports[0].name, "g");
        assert!(g.exports[0].post_return);
        assert!(g.abi_py.contains("(\"WitWorld\", "), "{}", g.abi_py);
        assert!(g.abi_py.contains("(\"string\", 8, 4, \"ii\", )"), "{}", g.abi_py);
    }

    #[test]
    fn each_bindings_module_imports_what_it_refers_to() {
        // Two exported interfaces whose protocols name other modules' types:
        // exports/__init__.py imports those modules, and exports/x.py only its own.
        let w = world(
            "package a:b;\ninterface t { record p { x: u32 } }\n\
             interface x { use t.{p}; resource r; f: func(v: p) -> r; }\n\
             interface y { use x.{r}; record q { y: u8 } g: func(v: borrow<r>, w: q) -> q; }\n\
             world w { export x; export y; }\n",
            None,
        )
        .unwrap();
        let names = w.names();
        let files = python::files(&w, &names, &w.glue(&names).unwrap(), true);
        let file = |p: &str| files.iter().find(|(path, _)| path == p).map(|(_, text)| text.clone()).unwrap();
        let init = file("wit_world/exports/__init__.py");
        for m in ["from wit_world.exports import x\n", "from wit_world.exports import y\n", "import t\n"] {
            assert!(init.contains(m), "{m:?} missing from:\n{init}");
        }
        let y = file("wit_world/exports/y.py");
        assert!(!y.contains("import t\n"), "{y}");
    }
}
