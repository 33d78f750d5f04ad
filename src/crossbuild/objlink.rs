//! Keeping extension modules apart in static links.
//!
//! Relinking CPython with the static archives of several extension modules
//! puts all their objects in one symbol namespace: two modules with the same
//! last name component (`markupsafe._speedups`, `simplejson._speedups`) both
//! define `PyInit__speedups`, a module named like a standard-library one
//! (`pkg._json`) defines CPython's own `PyInit__json`, and any other global
//! symbol (`helper`, a vendored library) can clash or silently bind to another
//! module's definition.
//!
//! So each module's objects become one relocatable object (`wasm-ld -r`)
//! whose `linking` custom section is rewritten (tool-conventions, "Linking",
//! `WASM_SYMBOL_TABLE`): every defined symbol except the init function gets
//! local binding, the init function gets the name [`unique_init`] derives from
//! the full dotted module name, and undefined symbols (what the module needs
//! from CPython, libc or its link libraries) stay as they are. Symbol indices
//! and the order of sections do not change, so the object's relocations stay
//! valid. The `WASM_COMDAT_INFO` subsection is dropped: a COMDAT group of local
//! symbols must not be discarded in favour of another module's copy.

use std::borrow::Cow;
use std::process::Command;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use wasm_encoder::Encode;
use wasmparser::{BinaryReader, Parser, Payload, SectionLimited, SymbolFlags, SymbolInfo};

use crate::error::{Error, Result};
use crate::toolchain::sdk::WasiSdk;

/// The init function CPython's import machinery looks for in a dynamically
/// loaded extension module: `PyInit_{last name component}` (PEP 489, for the
/// ASCII names wasiwheel allows). Dylibs export this one.
pub fn standard_init(module: &str) -> String {
    format!("PyInit_{}", module.rsplit('.').next().unwrap_or(module))
}

/// The init symbol a namespaced static object defines for the dotted module
/// `module`: `PyInit_` followed by each name component prefixed with its
/// length in bytes, e.g. `PyInit_10markupsafe9_speedups` for
/// `markupsafe._speedups` (the scheme of C++ name mangling).
///
/// Two different dotted names never give the same symbol (the length
/// prefixes make the encoding reversible), and no `PyInit_{identifier}` of a
/// standard or legacy module can equal one, because a Python identifier does
/// not start with a digit. Only the same dotted name twice collides, and that
/// is a real clash (two providers of one module).
pub fn unique_init(module: &str) -> String {
    let mut s = String::from("PyInit_");
    for part in module.split('.') {
        s.push_str(&format!("{}{part}", part.len()));
    }
    s
}

/// What [`namespace_symbols`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaced {
    /// Defined global symbols that became local.
    pub localized: usize,
    /// Symbols left global (the init function, renamed).
    pub kept: usize,
    /// Undefined symbols, left as they were.
    pub undefined: usize,
    /// Whether a COMDAT subsection was dropped.
    pub dropped_comdats: bool,
}

/// Symbol-table subsection id (tool-conventions Linking.md).
const WASM_SYMBOL_TABLE: u8 = 8;
/// COMDAT-info subsection id.
const WASM_COMDAT_INFO: u8 = 7;
/// Symbol kinds in the symbol table.
const SYMTAB_FUNCTION: u8 = 0;
const SYMTAB_DATA: u8 = 1;
const SYMTAB_GLOBAL: u8 = 2;
const SYMTAB_SECTION: u8 = 3;
const SYMTAB_EVENT: u8 = 4;
const SYMTAB_TABLE: u8 = 5;

fn bad_object(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Toolchain(format!("{what} is not a WebAssembly object file wasiwheel can read: {e}"))
}

/// Rewrite the relocatable WebAssembly object `obj` (one module's objects,
/// combined by `wasm-ld -r`) so that it keeps to itself in a static link: the
/// defined function symbol `PyInit_{leaf}` of `module` ([`standard_init`])
/// is renamed to [`unique_init`]`(module)` and stays global; every other
/// defined non-local symbol becomes local (its weak and exported flags
/// cleared) and is renamed `{module}:{name}` ([`local_name`]); undefined
/// symbols are unchanged; the COMDAT subsection is
/// dropped. All other sections, and the order of sections and symbols, are
/// kept byte for byte, so relocations (which name symbols by index and
/// sections by position) remain valid ([`rewrite_symbols`]). `what` names the
/// object in errors. Returns the new object and what changed.
///
/// Spec: WebAssembly tool-conventions, "Linking" (Object file linking,
/// `linking` section version 2, `WASM_SYMBOL_TABLE`).
///
/// Errors: [`Error::Toolchain`] when `obj` is not a WebAssembly object with a
/// version-2 `linking` section, or defines no (or more than one) global
/// `PyInit_{leaf}` function.
pub fn namespace_symbols(obj: &[u8], module: &str, what: &str) -> Result<(Vec<u8>, Namespaced)> {
    let init = standard_init(module);
    let unique = unique_init(module);
    let mut stats = Namespaced::default();
    let mut inits = 0;
    let (out, dropped_comdats) = rewrite_symbols(obj, what, true, |sym| {
        let flags = sym.flags;
        if sym.kind == SymbolKind::Section {
            return (flags, None);
        }
        if flags.contains(SymbolFlags::UNDEFINED) {
            stats.undefined += 1;
            return (flags, None);
        }
        if flags.contains(SymbolFlags::BINDING_LOCAL) {
            return (flags, None);
        }
        if sym.kind == SymbolKind::Function && sym.name == Some(init.as_str()) {
            inits += 1;
            stats.kept += 1;
            return (flags, Some(unique.clone()));
        }
        // Local binding for a defined global symbol: not weak, not exported,
        // and a name nothing else asks for.
        stats.localized += 1;
        (
            (flags - SymbolFlags::BINDING_WEAK - SymbolFlags::EXPORTED) | SymbolFlags::BINDING_LOCAL,
            sym.name.map(|n| local_name(module, n)),
        )
    })?;
    stats.dropped_comdats = dropped_comdats;
    match inits {
        1 => Ok((out, stats)),
        0 => Err(Error::Toolchain(format!(
            "{what} defines no global function `{init}`: the extension module `{module}` needs one (PEP 489)"
        ))),
        n => Err(Error::Toolchain(format!("{what} defines `{init}` {n} times"))),
    }
}

/// The name a symbol of `module` gets when [`namespace_symbols`] makes it
/// local: `{module}:{name}` (a colon is in no C, C++ or Rust symbol). The
/// rename is needed, not cosmetic: wasm-ld 19 indexes an archive member's
/// defined symbols for lazy loading without looking at their binding, so a
/// local `__multi3` (Rust's compiler-builtins, in every Rust module) would
/// still capture wasi-libc's call to `__multi3` and leave it unresolved.
pub fn local_name(module: &str, name: &str) -> String {
    format!("{module}:{name}")
}

/// The kind of a symbol-table entry (tool-conventions, "Linking", `WASM_SYMBOL_TABLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// `SYMTAB_FUNCTION`.
    Function,
    /// `SYMTAB_DATA`.
    Data,
    /// `SYMTAB_GLOBAL`.
    Global,
    /// `SYMTAB_SECTION`.
    Section,
    /// `SYMTAB_EVENT` (a tag).
    Event,
    /// `SYMTAB_TABLE`.
    Table,
}

/// One entry of an object's symbol table.
#[derive(Debug, Clone, Copy)]
pub struct Symbol<'a> {
    /// What it names.
    pub kind: SymbolKind,
    /// Its `WASM_SYM_*` flags (binding, visibility, undefined, …).
    pub flags: SymbolFlags,
    /// Its name; `None` for a section and for an undefined entry that takes
    /// its import's name.
    pub name: Option<&'a str>,
}

impl Symbol<'_> {
    /// True for a definition other objects can bind to: defined, not local, not a section.
    pub fn is_defined_global(&self) -> bool {
        self.kind != SymbolKind::Section
            && !self.flags.contains(SymbolFlags::UNDEFINED)
            && !self.flags.contains(SymbolFlags::BINDING_LOCAL)
    }
}

/// The symbol table of the relocatable WebAssembly object `obj` (its
/// `linking` section), in table order; `what` names the object in errors.
///
/// Errors: [`Error::Toolchain`] when `obj` is not a WebAssembly object with a
/// version-2 `linking` section.
pub fn symbols<'a>(obj: &'a [u8], what: &str) -> Result<Vec<Symbol<'a>>> {
    let mut out = Vec::new();
    let mut found_linking = false;
    for payload in Parser::new(0).parse_all(obj) {
        let Payload::CustomSection(c) = payload.map_err(|e| bad_object(what, e))? else { continue };
        if c.name() != "linking" {
            continue;
        }
        found_linking = true;
        let mut r = BinaryReader::new(c.data(), c.data_offset());
        let version = r.read_var_u32().map_err(|e| bad_object(what, e))?;
        if version != 2 {
            return Err(bad_object(what, format!("its `linking` section has version {version}, not 2")));
        }
        while !r.eof() {
            let id = r.read_u8().map_err(|e| bad_object(what, e))?;
            let len = r.read_var_u32().map_err(|e| bad_object(what, e))? as usize;
            let pos = r.original_position();
            let payload = r.read_bytes(len).map_err(|e| bad_object(what, e))?;
            if id == WASM_SYMBOL_TABLE {
                let table = SectionLimited::<SymbolInfo>::new(BinaryReader::new(payload, pos))
                    .map_err(|e| bad_object(what, e))?;
                for sym in table {
                    out.push(symbol_of(sym.map_err(|e| bad_object(what, e))?));
                }
            }
        }
    }
    if !found_linking {
        return Err(bad_object(what, "it has no `linking` section (not a relocatable object)"));
    }
    Ok(out)
}

fn symbol_of(info: SymbolInfo<'_>) -> Symbol<'_> {
    let (kind, flags, name) = match info {
        SymbolInfo::Func { flags, name, .. } => (SymbolKind::Function, flags, name),
        SymbolInfo::Data { flags, name, .. } => (SymbolKind::Data, flags, Some(name)),
        SymbolInfo::Global { flags, name, .. } => (SymbolKind::Global, flags, name),
        SymbolInfo::Section { flags, .. } => (SymbolKind::Section, flags, None),
        SymbolInfo::Event { flags, name, .. } => (SymbolKind::Event, flags, name),
        SymbolInfo::Table { flags, name, .. } => (SymbolKind::Table, flags, name),
    };
    Symbol { kind, flags, name }
}

/// Rewrite the symbol table of the relocatable WebAssembly object `obj`:
/// `rule` sees each entry in table order and returns its new flags and, for
/// an entry that has a name, `Some(new name)` to rename it. With
/// `drop_comdats` the `WASM_COMDAT_INFO` subsection is dropped. Every other
/// section and subsection, and the order of sections and symbols, is kept
/// byte for byte, so relocations (which name symbols by index and sections
/// by position) remain valid. `what` names the object in errors. Returns the
/// new object and whether a COMDAT subsection was dropped.
///
/// Spec: WebAssembly tool-conventions, "Linking" (`linking` section version 2).
///
/// Errors: [`Error::Toolchain`] when `obj` is not a WebAssembly object with
/// one version-2 `linking` section, or `rule` renames an entry without a name.
pub fn rewrite_symbols(
    obj: &[u8],
    what: &str,
    drop_comdats: bool,
    mut rule: impl FnMut(&Symbol<'_>) -> (SymbolFlags, Option<String>),
) -> Result<(Vec<u8>, bool)> {
    let mut out = wasm_encoder::Module::new();
    let mut found_linking = false;
    let mut dropped = false;
    for payload in Parser::new(0).parse_all(obj) {
        let payload = payload.map_err(|e| bad_object(what, e))?;
        if let Payload::CustomSection(c) = &payload {
            if c.name() == "linking" {
                if found_linking {
                    return Err(bad_object(what, "it has two `linking` sections"));
                }
                found_linking = true;
                let data = rewrite_linking(c.data(), c.data_offset(), drop_comdats, &mut dropped, &mut rule)
                    .map_err(|e| bad_object(what, e))?;
                out.section(&wasm_encoder::CustomSection { name: Cow::Borrowed("linking"), data: Cow::Owned(data) });
                continue;
            }
        }
        if let Some((id, range)) = payload.as_section() {
            let data = &obj[range.start as usize..range.end as usize];
            out.section(&wasm_encoder::RawSection { id, data });
        }
    }
    if !found_linking {
        return Err(bad_object(what, "it has no `linking` section (not a relocatable object)"));
    }
    Ok((out.finish(), dropped))
}

/// The new payload of a `linking` section (`data`, at `offset` in the file).
fn rewrite_linking(
    data: &[u8],
    offset: u64,
    drop_comdats: bool,
    dropped: &mut bool,
    rule: &mut impl FnMut(&Symbol<'_>) -> (SymbolFlags, Option<String>),
) -> std::result::Result<Vec<u8>, String> {
    let mut r = BinaryReader::new(data, offset);
    let version = r.read_var_u32().map_err(|e| e.to_string())?;
    if version != 2 {
        return Err(format!("its `linking` section has version {version}, not 2"));
    }
    let mut out = Vec::new();
    version.encode(&mut out);
    while !r.eof() {
        let id = r.read_u8().map_err(|e| e.to_string())?;
        let len = r.read_var_u32().map_err(|e| e.to_string())? as usize;
        let pos = r.original_position();
        let payload = r.read_bytes(len).map_err(|e| e.to_string())?;
        match id {
            WASM_COMDAT_INFO if drop_comdats => *dropped = true,
            WASM_SYMBOL_TABLE => {
                let table = symbol_table(BinaryReader::new(payload, pos), rule)?;
                out.push(id);
                table.as_slice().encode(&mut out);
            }
            _ => {
                out.push(id);
                payload.encode(&mut out);
            }
        }
    }
    Ok(out)
}

/// Re-encode a `WASM_SYMBOL_TABLE` subsection with `rule`'s flags and names.
fn symbol_table(
    reader: BinaryReader<'_>,
    rule: &mut impl FnMut(&Symbol<'_>) -> (SymbolFlags, Option<String>),
) -> std::result::Result<Vec<u8>, String> {
    let symbols = SectionLimited::<SymbolInfo>::new(reader).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    symbols.count().encode(&mut out);
    for info in symbols {
        let info = info.map_err(|e| e.to_string())?;
        let sym = symbol_of(info);
        let (flags, rename) = rule(&sym);
        if rename.is_some() && sym.name.is_none() {
            return Err(format!("a {:?} symbol without a name cannot be renamed", sym.kind));
        }
        let name = rename.as_deref().or(sym.name);
        let flags = flags.bits();
        match info {
            SymbolInfo::Func { index, .. } => indexed(&mut out, SYMTAB_FUNCTION, flags, index, name),
            SymbolInfo::Global { index, .. } => indexed(&mut out, SYMTAB_GLOBAL, flags, index, name),
            SymbolInfo::Event { index, .. } => indexed(&mut out, SYMTAB_EVENT, flags, index, name),
            SymbolInfo::Table { index, .. } => indexed(&mut out, SYMTAB_TABLE, flags, index, name),
            SymbolInfo::Data { symbol, .. } => {
                out.push(SYMTAB_DATA);
                flags.encode(&mut out);
                name.unwrap_or_default().encode(&mut out);
                if let Some(d) = symbol {
                    d.index.encode(&mut out);
                    d.offset.encode(&mut out);
                    d.size.encode(&mut out);
                }
            }
            SymbolInfo::Section { section, .. } => {
                out.push(SYMTAB_SECTION);
                flags.encode(&mut out);
                section.encode(&mut out);
            }
        }
    }
    Ok(out)
}

/// A function, global, event or table symbol entry.
fn indexed(out: &mut Vec<u8>, kind: u8, flags: u32, index: u32, name: Option<&str>) {
    out.push(kind);
    flags.encode(out);
    index.encode(out);
    if let Some(n) = name {
        n.encode(out);
    }
}

/// Combine `inputs` (objects, or archives whose members are all taken) into
/// one relocatable object with the SDK's `wasm-ld -r`, namespace it with
/// [`namespace_symbols`] for the dotted `module`, and write it to `out`
/// (only when its content changes, so later steps can reuse their results).
/// Returns the linker's run time.
///
/// Errors: [`Error::ToolFailed`] with the linker's output; as
/// [`namespace_symbols`]; [`Error::Io`] when files cannot be read or written.
pub fn namespace_objects(
    sdk: &WasiSdk,
    inputs: &[Utf8PathBuf],
    module: &str,
    out: &Utf8Path,
    verbose: bool,
) -> Result<Duration> {
    use crate::error::IoContext;
    let combined = Utf8PathBuf::from(format!("{out}.r"));
    let mut cmd = Command::new(sdk.wasm_ld());
    cmd.arg("-r").arg("--whole-archive").args(inputs.iter().map(|i| i.as_str())).arg("-o").arg(&combined);
    if verbose {
        crate::progress::status(&format!("{cmd:?}"));
    }
    let start = Instant::now();
    let o = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", sdk.wasm_ld())))?;
    let took = start.elapsed();
    if !o.status.success() {
        return Err(Error::ToolFailed {
            what: format!("combining the objects of extension module `{module}`"),
            status: o.status.to_string(),
            output: format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
                .trim_end()
                .to_string(),
            command: format!("{cmd:?}"),
        });
    }
    let data = std::fs::read(&combined).context(|| format!("cannot read {combined}"))?;
    let _ = std::fs::remove_file(&combined);
    let (rewritten, _) = namespace_symbols(&data, module, &format!("the combined object of `{module}`"))?;
    if std::fs::read(out).ok().as_deref() != Some(rewritten.as_slice()) {
        crate::files::write_atomic(out, |f| {
            std::io::Write::write_all(f, &rewritten).context(|| format!("cannot write {out}"))
        })?;
    }
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names() {
        assert_eq!(unique_init("markupsafe._speedups"), "PyInit_10markupsafe9_speedups");
        assert_eq!(unique_init("_core"), "PyInit_5_core");
        assert_ne!(unique_init("a.bc"), unique_init("ab.c"));
        assert_ne!(unique_init("a1.b"), unique_init("a.1b"));
        assert_eq!(standard_init("pkg._json"), "PyInit__json");
        assert_eq!(standard_init("_json"), "PyInit__json");
    }

    /// The cached SDK 25 equivalent, or `None` (skipped, with a message)
    /// outside CI; in CI (`CI` set) its absence fails the test.
    fn sdk() -> Option<WasiSdk> {
        let root = crate::toolchain::cache::root().expect("cache root").join("sdk/wasi-sdk-25-debian");
        if !root.join("bin/clang").exists() {
            let why = format!("missing test input {root} (.ci/setup installs the WASI SDK 25 equivalent)");
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            return None;
        }
        Some(WasiSdk::open(&root).expect("open the SDK"))
    }

    fn compile(sdk: &WasiSdk, dir: &Utf8Path, name: &str, code: &str, cxx: bool) -> Utf8PathBuf {
        let src = dir.join(name);
        std::fs::write(&src, code).unwrap();
        let obj = dir.join(format!("{name}.o"));
        let cc = if cxx { sdk.clangxx() } else { sdk.clang() };
        let o = Command::new(cc)
            .args(["--target=wasm32-wasip1", "-fPIC", "-O1", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        obj
    }

    /// (name, flags) of every symbol of `obj` (undefined functions named by their import).
    fn symbols(obj: &[u8]) -> Vec<(Option<String>, SymbolFlags)> {
        let mut out = Vec::new();
        let mut func_imports = Vec::new();
        for p in Parser::new(0).parse_all(obj) {
            let p = p.unwrap();
            if let Payload::ImportSection(imports) = &p {
                for i in imports.clone().into_imports() {
                    let i = i.unwrap();
                    if matches!(i.ty, wasmparser::TypeRef::Func(_)) {
                        func_imports.push(i.name.to_string());
                    }
                }
            }
            if let Payload::CustomSection(c) = p {
                if let wasmparser::KnownCustom::Linking(l) = c.as_known() {
                    for sub in l {
                        if let wasmparser::Linking::SymbolTable(t) = sub.unwrap() {
                            for s in t {
                                out.push(match s.unwrap() {
                                    SymbolInfo::Func { flags, name: None, index } => {
                                        (func_imports.get(index as usize).cloned(), flags)
                                    }
                                    SymbolInfo::Func { flags, name, .. }
                                    | SymbolInfo::Global { flags, name, .. }
                                    | SymbolInfo::Event { flags, name, .. }
                                    | SymbolInfo::Table { flags, name, .. } => (name.map(String::from), flags),
                                    SymbolInfo::Data { flags, name, .. } => (Some(name.to_string()), flags),
                                    SymbolInfo::Section { flags, .. } => (None, flags),
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn flags_of(syms: &[(Option<String>, SymbolFlags)], name: &str) -> SymbolFlags {
        syms.iter().find(|(n, _)| n.as_deref() == Some(name)).unwrap_or_else(|| panic!("no symbol {name}")).1
    }

    const MOD_A: &str = "int helper(int x) { return x + 1; }\n\
        static int twice(int x) { return 2 * x; }\n\
        int counter = 1;\n\
        __attribute__((weak)) int tunable = 3;\n\
        extern int from_elsewhere(int);\n\
        __attribute__((constructor)) static void setup(void) { counter = 5; }\n\
        int PyInit__speedups(void) { return helper(twice(counter)) + tunable; }\n\
        int uses_elsewhere(void) { return from_elsewhere(1); }\n";
    const MOD_B: &str = "int helper(int x) { return x * 100; }\n\
        int counter = 7;\n\
        int PyInit__speedups(void) { return helper(counter); }\n";

    #[test]
    fn defined_symbols_become_local_and_init_is_renamed() {
        let Some(sdk) = sdk() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let a = compile(&sdk, dir, "a.c", MOD_A, false);
        let out = dir.join("a.ns.o");
        namespace_objects(&sdk, &[a], "alpha._speedups", &out, false).unwrap();
        let before = std::fs::read(dir.join("a.c.o")).unwrap();
        let after = std::fs::read(&out).unwrap();
        let syms = symbols(&after);
        // The same number of symbols (indices unchanged), all defined ones local but the init.
        assert_eq!(symbols(&before).len(), syms.len());
        let init = flags_of(&syms, "PyInit_5alpha9_speedups");
        assert!(!init.contains(SymbolFlags::BINDING_LOCAL) && !init.contains(SymbolFlags::UNDEFINED));
        assert!(syms.iter().all(|(n, _)| n.as_deref() != Some("PyInit__speedups")));
        for name in ["helper", "counter", "tunable", "uses_elsewhere"] {
            assert!(syms.iter().all(|(n, _)| n.as_deref() != Some(name)), "{name} kept its name");
            let f = flags_of(&syms, &local_name("alpha._speedups", name));
            assert!(f.contains(SymbolFlags::BINDING_LOCAL), "{name}: {f:?}");
            assert!(!f.contains(SymbolFlags::BINDING_WEAK), "{name}: {f:?}");
        }
        // Undefined references stay undefined and global.
        let f = flags_of(&syms, "from_elsewhere");
        assert!(f.contains(SymbolFlags::UNDEFINED) && !f.contains(SymbolFlags::BINDING_LOCAL));
        // The result is still a valid module.
        wasmparser::Validator::new().validate_all(&after).unwrap();
    }

    /// Two modules with the same leaf and the same global helper: the plain
    /// objects do not link together; the namespaced ones do, and each init
    /// runs its own module's code.
    #[cfg(feature = "run")]
    #[test]
    fn namespaced_modules_link_and_keep_their_own_code() {
        let Some(sdk) = sdk() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let a = compile(&sdk, dir, "a.c", MOD_A, false);
        let b = compile(&sdk, dir, "b.c", MOD_B, false);
        let main_plain = compile(
            &sdk,
            dir,
            "main_plain.c",
            "int PyInit__speedups(void);\nint from_elsewhere(int x) { return x; }\n\
             int main(void) { return PyInit__speedups(); }\n",
            false,
        );
        let link = |objs: &[&Utf8Path], out: &str| {
            let mut cmd = Command::new(sdk.clang());
            cmd.arg("--target=wasm32-wasip1").args(objs.iter().map(|o| o.as_str())).arg("-o").arg(dir.join(out));
            cmd.output().unwrap()
        };
        let o = link(&[&a, &b, &main_plain], "plain.wasm");
        assert!(!o.status.success(), "plain objects with the same symbols linked");
        assert!(String::from_utf8_lossy(&o.stderr).contains("duplicate symbol"));

        let (na, nb) = (dir.join("alpha.o"), dir.join("beta.o"));
        namespace_objects(&sdk, &[a], "alpha._speedups", &na, false).unwrap();
        namespace_objects(&sdk, &[b], "beta._speedups", &nb, false).unwrap();
        // `helper` in the main program is a third definition, also kept apart.
        let main = compile(
            &sdk,
            dir,
            "main.c",
            "int PyInit_5alpha9_speedups(void);\nint PyInit_4beta9_speedups(void);\n\
             int helper(int x) { return -x; }\nint from_elsewhere(int x) { return x; }\n\
             int main(void) {\n  int a = PyInit_5alpha9_speedups(), b = PyInit_4beta9_speedups();\n\
             return (a == 14 ? 10 : a == 0 ? 1 : 2) + (b == 700 ? 20 : 3) + helper(0); }\n",
            false,
        );
        let o = link(&[&na, &nb, &main], "ns.wasm");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // alpha: constructor sets counter = 5, helper(2 * 5) + 3 = 14; beta: 7 * 100 = 700.
        let spec = crate::runtime::wasm::RunSpec { args: vec!["ns".into()], env: vec![], dirs: vec![] };
        let status = crate::runtime::wasm::run_module(&dir.join("ns.wasm"), &spec).unwrap();
        assert_eq!(status, 30, "exit status {status}");
    }

    /// A module's localized symbols no longer answer references from
    /// archives linked after it: `helper`, defined by the namespaced module
    /// (in an archive) and by a later archive, is the later one's for a third
    /// archive that calls it (wasm-ld 19 would bind it to the module's local
    /// copy by name and leave the call unresolved).
    #[cfg(feature = "run")]
    #[test]
    fn localized_names_do_not_capture_later_references() {
        let Some(sdk) = sdk() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let a = compile(&sdk, dir, "a.c", MOD_A, false);
        let na = dir.join("alpha.o");
        namespace_objects(&sdk, &[a], "alpha._speedups", &na, false).unwrap();
        let user =
            compile(&sdk, dir, "user.c", "int helper(int);\nint use_helper(void) { return helper(5); }\n", false);
        let other = compile(&sdk, dir, "other.c", "int helper(int x) { return x * 1000; }\n", false);
        let archive = |name: &str, obj: &Utf8Path| {
            let out = dir.join(name);
            let o = Command::new(sdk.ar()).arg("rcs").arg(&out).arg(obj).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            out
        };
        let (la, lu, lo) = (archive("liba.a", &na), archive("libu.a", &user), archive("libo.a", &other));
        let main = compile(
            &sdk,
            dir,
            "main.c",
            "int PyInit_5alpha9_speedups(void);\nint use_helper(void);\nint from_elsewhere(int x) { return x; }\n\
             int main(void) { return (PyInit_5alpha9_speedups() == 14) + 2 * (use_helper() == 5000); }\n",
            false,
        );
        let out = dir.join("lazy.wasm");
        let o = Command::new(sdk.clang())
            .arg("--target=wasm32-wasip1")
            .args([main.as_str(), la.as_str(), lu.as_str(), lo.as_str(), "-o", out.as_str()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        wasmparser::Validator::new().validate_all(&std::fs::read(&out).unwrap()).unwrap();
        let spec = crate::runtime::wasm::RunSpec { args: vec!["lazy".into()], env: vec![], dirs: vec![] };
        assert_eq!(crate::runtime::wasm::run_module(&out, &spec).unwrap(), 3);
    }

    /// C++ inline functions live in COMDAT groups; two modules with different
    /// bodies for the same inline function each keep their own.
    #[cfg(feature = "run")]
    #[test]
    fn comdat_copies_stay_apart() {
        let Some(sdk) = sdk() else { return };
        if !sdk.has_cxx(crate::model::target::WasiTarget::P1) {
            assert!(std::env::var_os("CI").is_none(), "the SDK has no C++ library");
            eprintln!("skipped: the SDK has no C++ library");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let src = |v: i32| {
            format!(
                "inline int shared_inline(int x) {{ return x + {v}; }}\n\
                 int (*volatile keep)(int) = shared_inline;\n\
                 extern \"C\" int PyInit__m(void) {{ return keep({v}); }}\n"
            )
        };
        let a = compile(&sdk, dir, "a.cc", &src(1), true);
        let b = compile(&sdk, dir, "b.cc", &src(20), true);
        let (na, nb) = (dir.join("p.o"), dir.join("q.o"));
        namespace_objects(&sdk, &[a], "p._m", &na, false).unwrap();
        namespace_objects(&sdk, std::slice::from_ref(&b), "q._m", &nb, false).unwrap();
        let data = std::fs::read(dir.join("b.cc.o")).unwrap();
        let (_, stats) = namespace_symbols(&data, "q._m", "b.cc.o").unwrap();
        assert!(stats.dropped_comdats, "{stats:?}");
        let main = compile(
            &sdk,
            dir,
            "main.c",
            "int PyInit_1p2_m(void);\nint PyInit_1q2_m(void);\n\
             int main(void) { return PyInit_1p2_m() * 10 + PyInit_1q2_m(); }\n",
            false,
        );
        let out = dir.join("cxx.wasm");
        let o = Command::new(sdk.clang())
            .arg("--target=wasm32-wasip1")
            .args([na.as_str(), nb.as_str(), main.as_str(), "-o", out.as_str()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let spec = crate::runtime::wasm::RunSpec { args: vec!["cxx".into()], env: vec![], dirs: vec![] };
        // p: 1 + 1 = 2; q: 20 + 20 = 40.
        assert_eq!(crate::runtime::wasm::run_module(&out, &spec).unwrap(), 60);
    }

    #[test]
    fn bad_objects_are_refused() {
        let e = namespace_symbols(b"not wasm", "a._b", "x.o").unwrap_err().to_string();
        assert!(e.contains("x.o is not a WebAssembly object"), "{e}");
        // A module without a linking section (not an object).
        let e = namespace_symbols(&wasm_encoder::Module::new().finish(), "a._b", "y.o").unwrap_err().to_string();
        assert!(e.contains("no `linking` section"), "{e}");
        let Some(sdk) = sdk() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let a = compile(&sdk, dir, "a.c", "int PyInit_other(void) { return 0; }\n", false);
        let e = namespace_objects(&sdk, &[a], "pkg._core", &dir.join("o.o"), false).unwrap_err().to_string();
        assert!(e.contains("defines no global function `PyInit__core`"), "{e}");
        assert!(!dir.join("o.o").exists());
    }
}
