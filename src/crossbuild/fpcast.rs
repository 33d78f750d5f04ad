//! The function-pointer-cast repair for WebAssembly.
//!
//! C extensions often register callbacks with fewer parameters than CPython
//! calls them with: a `METH_NOARGS` method declared `f(PyObject *self)` put in
//! a `PyMethodDef` table as `(PyCFunction)f` (CPython calls it with two
//! arguments), a `PyGetSetDef` getter without its `void *closure`. Native ABIs
//! ignore the extra arguments; WebAssembly's `call_indirect` checks the
//! callee's exact signature and traps ("indirect call type mismatch").
//!
//! The repair works on one translation unit at a time, with clang's own view
//! of it (its JSON AST dump, `-Xclang -ast-dump=json -fsyntax-only`, read as a
//! stream so that the dump of `Python.h` is never held in memory):
//!
//! 1. [`parse_ast`] finds every explicit cast chain ending in the name of a
//!    function (`(PyCFunction)f`, `(PyCFunction)(void (*)(void))f`, `&f`) and
//!    the outermost function-pointer type of the chain;
//! 2. [`analyze`] compares the two on their lowered WebAssembly signatures
//!    (pointers, `int`, `long`, enums → `i32`; `long long` → `i64`; `float` →
//!    `f32`; `double` → `f64`; structs and unions by value, `long double`,
//!    variadic functions → cannot be lowered): a target with MORE parameters
//!    whose shared prefix and return agree gets an adapter; so does a target
//!    whose parameters (all, or a prefix) agree and whose result differs only
//!    in being there or not (a `void` function cast to `inquiry` for
//!    `tp_clear`: the adapter returns zero; an `int` function cast to
//!    `destructor`: it drops the result); a target with fewer parameters is
//!    left alone (type erasure: the code casts back before the call, as
//!    CPython does for `METH_VARARGS | METH_KEYWORDS`); anything else that
//!    would not match at run time is reported;
//! 3. [`rewrite`] writes a copy of the source where each adapted name is
//!    replaced by `__wasiwheel_fpcast_N`, with a prototype of each adapter (in
//!    builtin types only, valid C and C++) before a `#line 1 "<original>"`
//!    and each adapter's definition at the end, calling the original function
//!    with its exact parameter types and ignoring the extra parameters.
//!
//! Slots filled without a cast (`{Py_tp_clear, f}`: `PyType_Slot.pfunc` is
//! `void *`) are not seen here; the result repair of linked interpreters
//! ([`super::resultcast`]) covers those whose result differs.
//!
//! Which sources are analysed at all is decided by [`needs_analysis`] from
//! the compiler's `-Wcast-function-type-strict` warnings and the source text,
//! so sources without such casts cost nothing.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use camino::Utf8Path;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The warning flag whose diagnostics tell which sources have casts to a
/// function-pointer type with another signature.
pub const WARNING_FLAG: &str = "-Wcast-function-type-strict";

/// Prefix of the adapters' names.
pub const ADAPTER_PREFIX: &str = "__wasiwheel_fpcast_";

/// Version of the analysis and rewrite, part of every repaired object's cache key.
pub const VERSION: u32 = 3;

/// A WebAssembly value type, as a C value of one lowered kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lowered {
    /// A data or function pointer (`i32` on wasm32).
    Ptr,
    /// An integer of at most 32 bits, an enum (`i32`).
    I32,
    /// A 64-bit integer (`i64`).
    I64,
    /// `float` (`f32`).
    F32,
    /// `double` (`f64`).
    F64,
}

impl Lowered {
    fn wasm(self) -> &'static str {
        match self {
            Lowered::Ptr | Lowered::I32 => "i32",
            Lowered::I64 => "i64",
            Lowered::F32 => "f32",
            Lowered::F64 => "f64",
        }
    }

    /// The builtin C type an adapter uses for a value of this kind.
    fn c_type(self) -> &'static str {
        match self {
            Lowered::Ptr => "void *",
            Lowered::I32 => "int",
            Lowered::I64 => "long long",
            Lowered::F32 => "float",
            Lowered::F64 => "double",
        }
    }
}

/// A lowered function signature: parameters and result (`None` = `void`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Parameter kinds.
    pub params: Vec<Lowered>,
    /// Result kind, `None` for `void`.
    pub result: Option<Lowered>,
}

impl Signature {
    fn same_wasm(a: &[Lowered], b: &[Lowered]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.wasm() == y.wasm())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p: Vec<&str> = self.params.iter().map(|l| l.wasm()).collect();
        write!(f, "({}) -> {}", p.join(", "), self.result.map(|r| r.wasm()).unwrap_or("()"))
    }
}

/// A source location: file (as clang names it), line, column, byte offset,
/// token length, and whether it is in the main file outside any macro.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loc {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub col: u64,
    /// Byte offset in the file.
    pub offset: u64,
    /// Length of the token there.
    pub tok_len: u64,
    /// In an included file (a header).
    pub in_header: bool,
    /// Spelled inside a macro expansion (this is the expansion location).
    pub in_macro: bool,
}

/// One explicit cast of a function name to a function-pointer type.
#[derive(Debug, Clone)]
pub struct Cast {
    /// Where the outermost function-pointer cast starts (its `(`).
    pub at: Loc,
    /// Where the function's name is (the token to replace).
    pub name_at: Loc,
    /// The function's name.
    pub function: String,
    /// The declaration clang resolved the name to.
    pub decl_id: String,
    /// The function's type as clang prints it, e.g. `PyObject *(PyObject *)`.
    pub function_type: String,
    /// The target type as written (`PyCFunction`).
    pub target_type: String,
    /// The target type with its outer typedefs resolved
    /// (`PyObject *(*)(PyObject *, PyObject *)`).
    pub target_desugared: String,
    /// The name was written with a qualifier (`ns::f`), which the rewrite cannot replace.
    pub qualified: bool,
}

/// What the AST dump of one translation unit says about function-pointer casts.
#[derive(Debug, Clone, Default)]
pub struct Ast {
    /// Every explicit cast of a function name to a function-pointer type.
    pub casts: Vec<Cast>,
    /// Typedef name → underlying type (desugared at the top level).
    pub typedefs: BTreeMap<String, String>,
    /// Names of enums.
    pub enums: BTreeSet<String>,
    /// Function declarations at file scope: id → the qualifier to call them with
    /// (`""`, or `ns::` for a function in namespace `ns`).
    pub file_scope: BTreeMap<String, String>,
}

/// An adapter to generate: it has the target's lowered signature and calls
/// `function` with the first `call_types.len()` arguments converted to the
/// function's exact parameter types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// The adapter's name, `__wasiwheel_fpcast_N`.
    pub name: String,
    /// The function it calls, with its qualifier.
    pub function: String,
    /// The function's parameter types as spelled by clang (casts in the call).
    pub call_types: Vec<String>,
    /// The function's result type as spelled by clang (`void` = none).
    pub function_result: Option<String>,
    /// The adapter's (the target's) lowered signature.
    pub signature: Signature,
}

/// One replacement of a name token by an adapter's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// Byte offset of the token in the source.
    pub offset: usize,
    /// Its length.
    pub len: usize,
    /// Index into [`Analysis::adapters`].
    pub adapter: usize,
}

/// The result of [`analyze`]: adapters, replacements in the source, and
/// warnings about casts that cannot be repaired.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Adapters to generate.
    pub adapters: Vec<Adapter>,
    /// Name tokens to replace.
    pub replacements: Vec<Replacement>,
    /// Warnings, each `file:line:col: warning: …`.
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------
// Reading clang's JSON AST dump.

#[derive(Default)]
struct State {
    file: String,
    line: u64,
    ast: Ast,
}

/// A pruned JSON value: AST nodes keep only what the analysis needs.
#[derive(Debug, Clone)]
enum J {
    Null,
    Str(String),
    Num(u64),
    Obj(Vec<(String, J)>),
    Arr(Vec<J>),
    Loc(Loc),
    Node(Box<Node>),
}

#[derive(Debug, Clone, Default)]
struct Node {
    kind: String,
    id: String,
    name: Option<String>,
    qual_type: Option<String>,
    desugared: Option<String>,
    cast_kind: Option<String>,
    opcode: Option<String>,
    begin: Option<Loc>,
    end: Option<Loc>,
    referenced: Option<Box<Node>>,
    inner: Vec<Node>,
    /// File-scope function declarations under this node: (id, qualifier).
    fns: Vec<(String, String)>,
}

const CHAIN_KINDS: &[&str] = &[
    "CStyleCastExpr",
    "ParenExpr",
    "ImplicitCastExpr",
    "UnaryOperator",
    "DeclRefExpr",
    "CXXReinterpretCastExpr",
    "CXXStaticCastExpr",
    "CXXFunctionalCastExpr",
];

const EXPLICIT_CASTS: &[&str] =
    &["CStyleCastExpr", "CXXReinterpretCastExpr", "CXXStaticCastExpr", "CXXFunctionalCastExpr"];

struct Walk<'a>(&'a RefCell<State>);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = J;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("clang's JSON AST dump")
    }
    fn visit_bool<E>(self, _: bool) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_i64<E>(self, v: i64) -> Result<J, E> {
        Ok(J::Num(v.max(0) as u64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<J, E> {
        Ok(J::Num(v))
    }
    fn visit_f64<E>(self, _: f64) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_str<E>(self, v: &str) -> Result<J, E> {
        Ok(J::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<J, E> {
        Ok(J::Str(v))
    }
    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Walk(self.0))? {
            if !matches!(v, J::Null) {
                out.push(v);
            }
        }
        Ok(J::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut entries: Vec<(String, J)> = Vec::new();
        let mut included = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "includedFrom" {
                map.next_value::<IgnoredAny>()?;
                included = true;
                continue;
            }
            let v = map.next_value_seed(Walk(self.0))?;
            match (key.as_str(), &v) {
                ("file", J::Str(s)) => self.0.borrow_mut().file = s.clone(),
                ("line", J::Num(n)) => self.0.borrow_mut().line = *n,
                _ => {}
            }
            entries.push((key, v));
        }
        let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let num = |k: &str| match get(k) {
            Some(J::Num(n)) => *n,
            _ => 0,
        };
        if get("offset").is_some() {
            let st = self.0.borrow();
            return Ok(J::Loc(Loc {
                file: st.file.clone(),
                line: st.line,
                col: num("col"),
                offset: num("offset"),
                tok_len: num("tokLen"),
                in_header: included,
                in_macro: false,
            }));
        }
        if let (Some(J::Loc(sp)), Some(J::Loc(ex))) = (get("spellingLoc"), get("expansionLoc")) {
            // The expansion location, marked as a macro; a name spelled in a
            // macro argument is still not rewritable in place reliably.
            let _ = sp;
            return Ok(J::Loc(Loc { in_macro: true, ..ex.clone() }));
        }
        if let Some(J::Str(kind)) = get("kind") {
            let kind = kind.clone();
            return Ok(node(self.0, kind, entries));
        }
        Ok(J::Obj(entries))
    }
}

fn take_str(v: J) -> Option<String> {
    match v {
        J::Str(s) => Some(s),
        _ => None,
    }
}

fn range_end(range: &J, which: &str) -> Option<Loc> {
    match range {
        J::Obj(e) => e.iter().find(|(k, _)| k == which).and_then(|(_, v)| match v {
            J::Loc(l) => Some(l.clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// Build (and prune) an AST node from its JSON entries.
fn node(st: &RefCell<State>, kind: String, entries: Vec<(String, J)>) -> J {
    let mut n = Node { kind, ..Node::default() };
    let mut inner = Vec::new();
    for (k, v) in entries {
        match k.as_str() {
            "id" => n.id = take_str(v).unwrap_or_default(),
            "name" => n.name = take_str(v),
            "castKind" => n.cast_kind = take_str(v),
            "opcode" => n.opcode = take_str(v),
            "range" => {
                n.begin = range_end(&v, "begin");
                n.end = range_end(&v, "end");
            }
            "type" => {
                if let J::Obj(t) = v {
                    for (tk, tv) in t {
                        match tk.as_str() {
                            "qualType" => n.qual_type = take_str(tv),
                            "desugaredQualType" => n.desugared = take_str(tv),
                            _ => {}
                        }
                    }
                }
            }
            "referencedDecl" => {
                if let J::Node(r) = v {
                    n.referenced = Some(r)
                }
            }
            "inner" => {
                if let J::Arr(a) = v {
                    inner = a.into_iter().filter_map(|j| if let J::Node(b) = j { Some(*b) } else { None }).collect();
                }
            }
            _ => {}
        }
    }
    let mut s = st.borrow_mut();
    match n.kind.as_str() {
        "TypedefDecl" | "TypeAliasDecl" => {
            if let (Some(name), Some(t)) = (&n.name, n.desugared.clone().or(n.qual_type.clone())) {
                s.ast.typedefs.insert(name.clone(), t);
            }
        }
        "EnumDecl" => {
            if let Some(name) = &n.name {
                s.ast.enums.insert(name.clone());
            }
        }
        "FunctionDecl" => n.fns.push((n.id.clone(), String::new())),
        "NamespaceDecl" | "LinkageSpecDecl" => {
            let prefix = match (&n.kind[..], &n.name) {
                ("NamespaceDecl", Some(name)) => format!("{name}::"),
                _ => String::new(),
            };
            for c in &inner {
                n.fns.extend(c.fns.iter().map(|(id, q)| (id.clone(), format!("{prefix}{q}"))));
            }
        }
        "TranslationUnitDecl" => {
            for c in &inner {
                s.ast.file_scope.extend(c.fns.iter().cloned());
            }
        }
        _ => {}
    }
    if CHAIN_KINDS.contains(&n.kind.as_str()) {
        n.inner = inner;
    } else {
        for c in &inner {
            if CHAIN_KINDS.contains(&c.kind.as_str()) {
                scan(c, None, &mut s.ast.casts);
            }
        }
    }
    J::Node(Box::new(n))
}

fn is_function_pointer(t: &str) -> bool {
    split_function_type(t).is_some_and(|(_, _, ptr)| ptr)
}

/// Walk a cast chain from its top; `outer` is the outermost explicit cast to a
/// function-pointer type seen so far.
fn scan(n: &Node, outer: Option<&Node>, out: &mut Vec<Cast>) {
    let kind = n.kind.as_str();
    if EXPLICIT_CASTS.contains(&kind) {
        let fp = n.desugared.as_deref().or(n.qual_type.as_deref()).is_some_and(is_function_pointer);
        let outer = if outer.is_none() && fp { Some(n) } else { outer };
        for c in &n.inner {
            scan(c, outer, out);
        }
        return;
    }
    let transparent = matches!(kind, "ParenExpr" | "ImplicitCastExpr")
        || (kind == "UnaryOperator" && n.opcode.as_deref() == Some("&"));
    if transparent {
        for c in &n.inner {
            scan(c, outer, out);
        }
        return;
    }
    if kind == "DeclRefExpr" {
        if let (Some(cast), Some(r)) = (outer, &n.referenced) {
            if r.kind == "FunctionDecl" {
                // An expression's range runs from its qualifier (if any) to its name.
                let name_at = n.end.clone().or(n.begin.clone()).unwrap_or_default();
                let qualified = n.begin.as_ref().is_some_and(|b| b.offset != name_at.offset);
                out.push(Cast {
                    at: cast.begin.clone().unwrap_or_default(),
                    name_at,
                    function: r.name.clone().unwrap_or_default(),
                    decl_id: r.id.clone(),
                    function_type: r.qual_type.clone().unwrap_or_default(),
                    target_type: cast.qual_type.clone().unwrap_or_default(),
                    target_desugared: cast.desugared.clone().or(cast.qual_type.clone()).unwrap_or_default(),
                    qualified,
                });
            }
        }
        return;
    }
    // Not part of a chain: chains may start again below.
    for c in &n.inner {
        scan(c, None, out);
    }
}

/// Read clang's JSON AST dump (`-Xclang -ast-dump=json -fsyntax-only`) of one
/// translation unit from `reader`, as a stream.
///
/// Returns the casts of function names to function-pointer types, the
/// typedefs and enums, and the file-scope functions. Errors: the JSON
/// parser's message when the dump is not valid JSON.
pub fn parse_ast(reader: impl std::io::Read) -> std::result::Result<Ast, String> {
    let st = RefCell::new(State::default());
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    de.disable_recursion_limit();
    Walk(&st).deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(st.into_inner().ast)
}

// ---------------------------------------------------------------------------
// Types as clang prints them.

/// Split a function type (`R (P1, P2)`) or function-pointer type
/// (`R (*)(P1, P2)`) into result, parameters and whether it is a pointer.
/// `None` for anything else.
pub fn split_function_type(t: &str) -> Option<(String, Vec<String>, bool)> {
    let mut t = t.trim();
    for suffix in [" noexcept", " __attribute__((noreturn))"] {
        t = t.strip_suffix(suffix).unwrap_or(t).trim_end();
    }
    if !t.ends_with(')') {
        return None;
    }
    // The parameter list is the last balanced (...) group.
    let bytes = t.as_bytes();
    let mut depth = 0i32;
    let mut start = None;
    for i in (0..bytes.len()).rev() {
        match bytes[i] {
            b')' => depth += 1,
            b'(' => {
                depth -= 1;
                if depth == 0 {
                    start = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let start = start?;
    let params_text = &t[start + 1..t.len() - 1];
    let head = t[..start].trim_end();
    let (result, ptr) = match head.strip_suffix("(*)") {
        Some(r) => (r.trim_end(), true),
        None => (head, false),
    };
    if result.is_empty() || result.contains("(*") {
        return None;
    }
    let mut params = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in params_text.chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            params.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        params.push(cur.trim().to_string());
    }
    if params.len() == 1 && params[0] == "void" {
        params.clear();
    }
    Some((result.to_string(), params, ptr))
}

/// Lower one C type (as clang prints it) to its WebAssembly value kind.
/// `Ok(None)` is `void`; `Err(())` is a type that cannot be lowered (a struct
/// or union by value, `long double`, `__int128`, an unknown name).
#[allow(clippy::result_unit_err)]
pub fn lower(t: &str, ast: &Ast) -> std::result::Result<Option<Lowered>, ()> {
    lower_depth(t, ast, 0)
}

fn lower_depth(t: &str, ast: &Ast, depth: u32) -> std::result::Result<Option<Lowered>, ()> {
    let t = t.trim();
    if depth > 32 || t.is_empty() || t == "..." {
        return Err(());
    }
    if t.ends_with('*') || t.ends_with('&') || t.ends_with(']') || t.contains("(*") || t.ends_with("*const") {
        return Ok(Some(Lowered::Ptr));
    }
    let words: Vec<&str> = t
        .split_whitespace()
        .filter(|w| !matches!(*w, "const" | "volatile" | "restrict" | "__restrict" | "__restrict__"))
        .collect();
    let joined = words.join(" ");
    if let Some(first) = words.first() {
        match *first {
            "struct" | "union" | "class" => return Err(()),
            "enum" => return Ok(Some(Lowered::I32)),
            _ => {}
        }
    }
    match joined.as_str() {
        "void" => return Ok(None),
        "float" => return Ok(Some(Lowered::F32)),
        "double" => return Ok(Some(Lowered::F64)),
        "_Bool" | "bool" | "wchar_t" | "char8_t" | "char16_t" | "char32_t" => return Ok(Some(Lowered::I32)),
        _ => {}
    }
    const INT_WORDS: &[&str] = &["signed", "unsigned", "char", "short", "int", "long"];
    if !words.is_empty() && words.iter().all(|w| INT_WORDS.contains(w)) {
        return Ok(Some(if words.iter().filter(|w| **w == "long").count() >= 2 { Lowered::I64 } else { Lowered::I32 }));
    }
    if words.len() == 1 {
        let name = words[0].trim_start_matches("::");
        let short = name.rsplit("::").next().unwrap_or(name);
        if let Some(u) = ast.typedefs.get(name).or_else(|| ast.typedefs.get(short)) {
            return lower_depth(u, ast, depth + 1);
        }
        if ast.enums.contains(name) || ast.enums.contains(short) {
            return Ok(Some(Lowered::I32));
        }
    }
    Err(())
}

/// Lower a function or function-pointer type: its signature, its parameter
/// and result spellings; `None` when it cannot be lowered.
fn lower_function(t: &str, ast: &Ast) -> Option<(Signature, Vec<String>, String)> {
    let (result, params, _) = split_function_type(t)?;
    let result_l = lower(&result, ast).ok()?;
    let mut ps = Vec::new();
    for p in &params {
        ps.push(lower(p, ast).ok()?.ok_or(()).ok()?);
    }
    Some((Signature { params: ps, result: result_l }, params, result))
}

// ---------------------------------------------------------------------------
// Deciding and rewriting.

/// Decide, for every cast in `ast` of the translation unit whose main file is
/// `main_file` (the path given to the compiler), whether it needs an adapter,
/// is harmless, or cannot be repaired (a warning naming the function, both
/// types and `file:line:col`).
pub fn analyze(ast: &Ast, main_file: &str) -> Analysis {
    let mut a = Analysis::default();
    let mut seen_warnings = BTreeSet::new();
    for c in &ast.casts {
        let from = lower_function(&c.function_type, ast);
        let to = lower_function(&c.target_desugared, ast);
        let pos = |l: &Loc| format!("{}:{}:{}", if l.file.is_empty() { main_file } else { &l.file }, l.line, l.col);
        let types = format!(
            "`{}` of type `{}` cast to `{}` (`{}`)",
            c.function, c.function_type, c.target_type, c.target_desugared
        );
        let mut warn = |why: String| {
            let w = format!("{}: warning: wasiwheel: function-pointer cast of {types} {why}", pos(&c.at));
            if seen_warnings.insert(w.clone()) {
                a.warnings.push(w);
            }
        };
        let (Some((fsig, call_types, fresult)), Some((tsig, _, _))) = (from, to) else {
            // Fewer parameters in the target is type erasure whatever the types are.
            let counts = split_function_type(&c.function_type).zip(split_function_type(&c.target_desugared));
            if counts.is_some_and(|((_, fp, _), (_, tp, _))| tp.len() < fp.len()) {
                continue;
            }
            warn(
                "cannot be adapted safely: a parameter or result type has no single WebAssembly value type \
                 (a struct or union by value, long double, varargs); a call through it traps on WebAssembly"
                    .to_string(),
            );
            continue;
        };
        if tsig.params.len() < fsig.params.len() {
            continue; // type erasure: cast back before the call
        }
        let params_ok = Signature::same_wasm(&fsig.params, &tsig.params[..fsig.params.len()]);
        let result_same = fsig.result.map(|r| r.wasm()) == tsig.result.map(|r| r.wasm());
        // A void function where a result is expected (the adapter returns zero),
        // or a result where none is (the adapter drops it).
        let result_adaptable = fsig.result.is_none() != tsig.result.is_none();
        let prefix_ok = params_ok && (result_same || result_adaptable);
        if tsig.params.len() == fsig.params.len() && (!prefix_ok || result_same) {
            if !prefix_ok {
                warn(format!(
                    "cannot be adapted safely: the WebAssembly signatures {fsig} and {tsig} differ in a type; a \
                     call through it traps on WebAssembly"
                ));
            }
            continue;
        }
        if !prefix_ok {
            warn(format!(
                "cannot be adapted safely: the target {tsig} has more parameters than {fsig} but the shared ones \
                 or the result differ; a call through it traps on WebAssembly"
            ));
            continue;
        }
        let rewritable = !c.name_at.in_header
            && !c.name_at.in_macro
            && !c.qualified
            && (c.name_at.file.is_empty() || c.name_at.file == main_file);
        if !rewritable {
            let where_ = if c.name_at.in_macro {
                "in a macro expansion"
            } else if c.qualified {
                "written with a qualifier"
            } else {
                "in a header"
            };
            warn(format!(
                "needs an adapter (the target {tsig}, the function {fsig}) but it is {where_}, which wasiwheel \
                 does not rewrite; a call through it traps on WebAssembly"
            ));
            continue;
        }
        let Some(qualifier) = ast.file_scope.get(&c.decl_id) else {
            warn(
                "needs an adapter but the function is not declared at file scope, so an adapter cannot call it; \
                 a call through it traps on WebAssembly"
                    .to_string(),
            );
            continue;
        };
        let function = format!("{qualifier}{}", c.function);
        let function_result = (fresult.trim() != "void").then(|| fresult.trim().to_string());
        let idx = match a.adapters.iter().position(|ad| ad.function == function && ad.signature == tsig) {
            Some(i) => i,
            None => {
                a.adapters.push(Adapter {
                    name: format!("{ADAPTER_PREFIX}{}", a.adapters.len()),
                    function,
                    call_types: call_types.clone(),
                    function_result,
                    signature: tsig.clone(),
                });
                a.adapters.len() - 1
            }
        };
        let r = Replacement { offset: c.name_at.offset as usize, len: c.name_at.tok_len as usize, adapter: idx };
        if !a.replacements.contains(&r) {
            a.replacements.push(r);
        }
    }
    a.replacements.sort_by_key(|r| r.offset);
    a
}

fn c_string_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// C++ templates that name parameter `I` of a function-pointer type `F`
/// (`__wasiwheel_fpcast_param<I, F>::type`), without any header.
const CXX_PARAM_TEMPLATES: &str = "template <unsigned I, class H, class... T> struct __wasiwheel_fpcast_nth \
{ typedef typename __wasiwheel_fpcast_nth<I - 1, T...>::type type; };\n\
template <class H, class... T> struct __wasiwheel_fpcast_nth<0, H, T...> { typedef H type; };\n\
template <unsigned I, class F> struct __wasiwheel_fpcast_param;\n\
template <unsigned I, class R, class... A> struct __wasiwheel_fpcast_param<I, R (*)(A...)> \
{ typedef typename __wasiwheel_fpcast_nth<I, A...>::type type; };\n\
#if __cpp_noexcept_function_type\n\
template <unsigned I, class R, class... A> struct __wasiwheel_fpcast_param<I, R (*)(A...) noexcept> \
{ typedef typename __wasiwheel_fpcast_nth<I, A...>::type type; };\n\
#endif\n";

/// The rewritten source: adapter prototypes, `#line 1 "<original_path>"`, the
/// original text with each replaced token, and the adapter definitions.
///
/// Errors: a message when a replacement does not cover the function's name
/// in `source` (the AST and the text disagree).
pub fn rewrite(source: &str, original_path: &str, analysis: &Analysis) -> std::result::Result<String, String> {
    let mut out = String::new();
    out.push_str("/* wasiwheel: function-pointer cast adapters (see docs/toolchains.md) */\n");
    let params = |ad: &Adapter, named: bool| -> String {
        if ad.signature.params.is_empty() {
            return "void".to_string();
        }
        let ps: Vec<String> = ad
            .signature
            .params
            .iter()
            .enumerate()
            .map(|(i, l)| if named { format!("{} a{i}", l.c_type()) } else { l.c_type().to_string() })
            .collect();
        ps.join(", ")
    };
    let result = |ad: &Adapter| ad.signature.result.map(|r| r.c_type()).unwrap_or("void");
    for ad in &analysis.adapters {
        out.push_str(&format!("static {} {}({});\n", result(ad), ad.name, params(ad, false)));
    }
    out.push_str(&format!("#line 1 {}\n", c_string_literal(original_path)));
    let mut last = 0usize;
    for r in &analysis.replacements {
        let ad = &analysis.adapters[r.adapter];
        let plain = ad.function.rsplit("::").next().unwrap_or(&ad.function);
        if r.offset < last || source.get(r.offset..r.offset + r.len) != Some(plain) {
            return Err(format!(
                "the name `{plain}` is not at byte {} of {original_path} as clang's AST says",
                r.offset
            ));
        }
        out.push_str(&source[last..r.offset]);
        out.push_str(&ad.name);
        last = r.offset + r.len;
    }
    out.push_str(&source[last..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("#line 1 \"<wasiwheel fpcast adapters>\"\n");
    // C++: the function's parameter types as clang prints them may be names
    // only valid inside a namespace (`Constraint *` for
    // `kiwisolver::Constraint *`), so the adapters, at file scope, take each
    // parameter type from the function's own type instead.
    let cxx = crate::model::lang::source_language(Utf8Path::new(original_path), crate::model::lang::Language::C)
        == crate::model::lang::Language::Cxx;
    if cxx && !analysis.adapters.is_empty() {
        out.push_str(CXX_PARAM_TEMPLATES);
    }
    for ad in &analysis.adapters {
        let args: Vec<String> = ad
            .call_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if cxx {
                    format!("(__wasiwheel_fpcast_param<{i}, decltype(&{})>::type)a{i}", ad.function)
                } else {
                    format!("({t})a{i}")
                }
            })
            .collect();
        let call = format!("{}({})", ad.function, args.join(", "));
        let unused: String =
            (ad.call_types.len()..ad.signature.params.len()).map(|i| format!(" (void)a{i};")).collect();
        let body = match (ad.signature.result, &ad.function_result) {
            (Some(r), Some(_)) => format!("return ({}){call};", r.c_type()),
            (Some(r), None) => format!("{call}; return ({})0;", r.c_type()),
            (None, Some(_)) => format!("(void){call};"),
            (None, None) => format!("{call};"),
        };
        out.push_str(&format!("static {} {}({}) {{{unused} {body} }}\n", result(ad), ad.name, params(ad, true)));
    }
    Ok(out)
}

/// Whether a source must be analysed: the compiler warned about a cast to an
/// incompatible function type (`-Wcast-function-type-strict`), or the source
/// casts through `void (*)(void)`, which that warning does not report.
pub fn needs_analysis(diagnostics: &str, source: &str) -> bool {
    diagnostics.contains("[-Wcast-function-type-strict]") || casts_through_void_fn(source)
}

fn casts_through_void_fn(source: &str) -> bool {
    let squeezed: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    squeezed.contains("(void(*)(void))") || squeezed.contains("(void(*)())")
}

/// Remove the `-Wcast-function-type-strict` warnings (with their source
/// lines, carets and notes) that wasiwheel asked for from a compiler's
/// diagnostics, and the "N warnings generated." line when nothing else is left.
pub fn strip_cast_warnings(diagnostics: &str) -> String {
    let is_head = |l: &str| {
        [": warning: ", ": error: ", ": fatal error: ", ": note: "].iter().any(|k| l.contains(k))
            || l.ends_with(" generated.")
    };
    let mut out: Vec<&str> = Vec::new();
    // "In file included from" lines belong to the next diagnostic.
    let mut pending: Vec<&str> = Vec::new();
    let mut skipping = false;
    let mut kept_other = false;
    for l in diagnostics.lines() {
        if l.starts_with("In file included from") || l.starts_with("                 from ") {
            pending.push(l);
            continue;
        }
        if is_head(l) {
            if l.contains(": note: ") && skipping {
                pending.clear();
                continue;
            }
            skipping = l.contains("[-Wcast-function-type-strict]");
            if skipping || (l.ends_with(" generated.") && !kept_other) {
                pending.clear();
                continue;
            }
            if !l.ends_with(" generated.") {
                kept_other = true;
            }
            out.append(&mut pending);
        } else if skipping {
            continue;
        }
        out.push(l);
    }
    if !kept_other {
        return String::new();
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_types() {
        let (r, p, ptr) = split_function_type("PyObject *(*)(PyObject *, PyObject *)").unwrap();
        assert_eq!((r.as_str(), p, ptr), ("PyObject *", vec!["PyObject *".to_string(), "PyObject *".into()], true));
        let (r, p, ptr) = split_function_type("int (bitarrayobject *, int (*)(int, int))").unwrap();
        assert_eq!((r.as_str(), p.len(), ptr), ("int", 2, false));
        assert_eq!(split_function_type("void (*)(void)").unwrap().1.len(), 0);
        assert!(split_function_type("PyObject *").is_none());
        assert!(split_function_type("struct S").is_none());
    }

    #[test]
    fn lowering() {
        let mut ast = Ast::default();
        ast.typedefs.insert("Py_ssize_t".into(), "ssize_t".into());
        ast.typedefs.insert("ssize_t".into(), "long".into());
        ast.typedefs.insert("PyObject".into(), "struct _object".into());
        ast.typedefs.insert("i64".into(), "long long".into());
        assert_eq!(lower("Py_ssize_t", &ast), Ok(Some(Lowered::I32)));
        assert_eq!(lower("const i64", &ast), Ok(Some(Lowered::I64)));
        assert_eq!(lower("unsigned long long", &ast), Ok(Some(Lowered::I64)));
        assert_eq!(lower("PyObject *", &ast), Ok(Some(Lowered::Ptr)));
        assert_eq!(lower("PyObject", &ast), Err(()));
        assert_eq!(lower("long double", &ast), Err(()));
        assert_eq!(lower("double", &ast), Ok(Some(Lowered::F64)));
        assert_eq!(lower("void", &ast), Ok(None));
        assert_eq!(lower("enum color", &ast), Ok(Some(Lowered::I32)));
        assert_eq!(lower("mystery_t", &ast), Err(()));
    }

    #[test]
    fn strips_only_the_requested_warnings() {
        let d = "a.c:3:5: warning: cast from 'A' to 'B' converts to incompatible function type \
                 [-Wcast-function-type-strict]\n    3 | x\n      | ^\na.c:9:1: warning: unused [-Wunused]\n  9 | y\n\
                 2 warnings generated.\n";
        let s = strip_cast_warnings(d);
        assert!(!s.contains("cast-function-type") && s.contains("-Wunused") && s.contains("9 | y"), "{s}");
        let only = "In file included from a.c:1:\nh.h:3:5: warning: c [-Wcast-function-type-strict]\n 3 | x\n   | ^\n\
                    1 warning generated.\n";
        assert_eq!(strip_cast_warnings(only), "");
    }

    #[test]
    fn trigger() {
        assert!(needs_analysis("", "m = (PyCFunction)(void (*) (void))f;"));
        assert!(needs_analysis("x.c:1:1: warning: cast [-Wcast-function-type-strict]", ""));
        assert!(!needs_analysis("", "(PyCFunction)f"));
    }

    // ---- the analysis and rewrite on small C and C++ sources, with clang ----

    /// A clang that targets wasm32: `WASIWHEEL_TEST_CLANG`, an SDK in the
    /// wasiwheel cache, or `clang-19`/`clang` on PATH.
    fn clang() -> String {
        if let Ok(c) = std::env::var("WASIWHEEL_TEST_CLANG") {
            return c;
        }
        let home = std::env::var("HOME").unwrap_or_default();
        let sdks = format!("{home}/.cache/wasiwheel/sdk");
        if let Ok(rd) = std::fs::read_dir(&sdks) {
            let mut found: Vec<_> = rd.flatten().map(|e| e.path().join("bin/clang")).filter(|p| p.exists()).collect();
            found.sort();
            if let Some(p) = found.pop() {
                return p.to_string_lossy().to_string();
            }
        }
        for c in ["clang-19", "clang"] {
            if std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
                return c.to_string();
            }
        }
        panic!("these tests need clang: install a WASI SDK (wasiwheel sdk install) or set WASIWHEEL_TEST_CLANG");
    }

    const PRELUDE: &str = "typedef struct _object { long ob_refcnt; } PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef PyObject *(*getter)(PyObject *, void *);
typedef int (*setter)(PyObject *, PyObject *, void *);
typedef long Py_ssize_t;
typedef struct { const char *ml_name; PyCFunction ml_meth; int ml_flags; const char *ml_doc; } PyMethodDef;
typedef struct { const char *name; getter get; setter set; const char *doc; void *closure; } PyGetSetDef;
typedef struct { PyObject ob_base; Py_ssize_t n; } Obj;
";

    #[test]
    fn cxx_types_of_a_namespace() {
        // clang prints the parameter type as written (`Constraint *`), which
        // names nothing at file scope, where the adapters are.
        let (a, _, out) = run(
            "namespace kiwi {
struct Constraint { int a; };
enum class Kind { one };
namespace {
PyObject *repr(Constraint *self) { return 0; }
PyObject *kind(Constraint *self, Kind k) noexcept { return 0; }
PyMethodDef methods[] = {{\"repr\", (PyCFunction)repr, 4, 0}, {\"kind\", (PyCFunction)(void (*)(void))kind, 1, 0}};
}
PyMethodDef *get() { return methods; }
}
",
            "cpp",
        );
        assert_eq!(adapted(&a), [("kiwi::repr", 2)], "{:?}", a.warnings);
        assert!(out.contains("decltype(&kiwi::repr)"), "{out}");
    }

    /// Analyse `body` (after [`PRELUDE`]) as file `t.{ext}`; return the
    /// analysis, the source and the rewritten source, after checking that the
    /// rewritten source compiles for wasm32 without warnings.
    fn run(body: &str, ext: &str) -> (Analysis, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t.{ext}"));
        let path = path.to_str().unwrap().to_string();
        let src = format!("{PRELUDE}{body}");
        std::fs::write(&path, &src).unwrap();
        let out = std::process::Command::new(clang())
            .args(["--target=wasm32-wasip1", "-nostdinc", "-fsyntax-only", "-Xclang", "-ast-dump=json", &path])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ast = parse_ast(&out.stdout[..]).unwrap();
        let analysis = analyze(&ast, &path);
        let rewritten = rewrite(&src, &path, &analysis).unwrap();
        let copy = dir.path().join(format!("copy.{ext}"));
        std::fs::write(&copy, &rewritten).unwrap();
        let obj = dir.path().join("copy.o");
        let out = std::process::Command::new(clang())
            .args(["--target=wasm32-wasip1", "-nostdinc", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function"])
            .args(["-Wno-unused-parameter", "-Wno-cast-function-type"])
            .arg("-c")
            .arg(&copy)
            .arg("-o")
            .arg(&obj)
            .output()
            .unwrap();
        assert!(out.status.success(), "{rewritten}\n{}", String::from_utf8_lossy(&out.stderr));
        (analysis, src, rewritten)
    }

    fn adapted(a: &Analysis) -> Vec<(&str, usize)> {
        a.adapters.iter().map(|ad| (ad.function.as_str(), ad.signature.params.len())).collect()
    }

    #[test]
    fn meth_noargs_is_adapted_and_kwargs_left_alone() {
        let (a, src, out) = run(
            "static PyObject *noargs(Obj *self) { return (PyObject *)self; }
static PyObject *kw(PyObject *s, PyObject *args, PyObject *kwds) { return s; }
static PyMethodDef methods[] = {
    {\"noargs\", (PyCFunction)noargs, 4, 0},
    {\"kw\", (PyCFunction)(void (*)(void))kw, 3, 0},
    {\"kw2\", (PyCFunction)kw, 3, 0},
    {0, 0, 0, 0},
};
PyMethodDef *get(void) { return methods; }
",
            "c",
        );
        assert_eq!(adapted(&a), [("noargs", 2)]);
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        assert_eq!(a.replacements.len(), 1);
        let r = &a.replacements[0];
        assert_eq!(&src[r.offset - 13..r.offset + r.len], "(PyCFunction)noargs");
        assert!(out.contains("(PyCFunction)__wasiwheel_fpcast_0, 4"), "{out}");
        assert!(out.contains("(PyCFunction)(void (*)(void))kw, 3"), "{out}");
        let def =
            "static void * __wasiwheel_fpcast_0(void * a0, void * a1) { (void)a1; return (void *)noargs((Obj *)a0); }";
        assert!(out.contains(def), "{out}");
        assert!(out.contains("#line 1 \""), "{out}");
    }

    #[test]
    fn getters_and_setters_without_closure() {
        let (a, _, out) = run(
            "static PyObject *get_n(Obj *self) { return 0; }
static int set_n(Obj *self, PyObject *v) { return 0; }
static PyObject *get_ok(PyObject *self, void *closure) { return self; }
PyGetSetDef gs[] = {
    {\"n\", (getter)get_n, (setter)set_n, 0, 0},
    {\"ok\", (getter)get_ok, 0, 0, 0},
    {0, 0, 0, 0, 0},
};
",
            "c",
        );
        assert_eq!(adapted(&a), [("get_n", 2), ("set_n", 3)]);
        let def = "static int __wasiwheel_fpcast_1(void * a0, void * a1, void * a2) { (void)a2; \
                   return (int)set_n((Obj *)a0, (PyObject *)a1); }";
        assert!(out.contains(def), "{out}");
        assert!(out.contains("(getter)get_ok"), "{out}");
    }

    #[test]
    fn same_count_other_types_is_reported() {
        let (a, _, out) = run(
            "static PyObject *dbl(PyObject *self, double x) { return self; }
PyCFunction f = (PyCFunction)dbl;
",
            "c",
        );
        assert!(a.adapters.is_empty());
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
        let w = &a.warnings[0];
        assert!(
            w.contains("t.c:10:17: warning:") && w.contains("`dbl`") && w.contains("cannot be adapted safely"),
            "{w}"
        );
        assert!(w.contains("(i32, f64) -> i32") && w.contains("(i32, i32) -> i32"), "{w}");
        assert!(out.contains("(PyCFunction)dbl;"));
    }

    #[test]
    fn through_void_fn_and_address_of_and_uncast_uses() {
        let (a, _, out) = run(
            "static PyObject *m(Obj *self) { return 0; }
PyCFunction a = (PyCFunction)(void (*)(void))m;
PyCFunction b = (PyCFunction)&m;
PyCFunction c = (PyCFunction)(m);
PyObject *(*d)(Obj *) = m;
PyObject *call(Obj *o) { return m(o); }
",
            "c",
        );
        assert_eq!(adapted(&a), [("m", 2)], "one adapter for all three casts");
        assert_eq!(a.replacements.len(), 3);
        assert!(out.contains("(PyCFunction)(void (*)(void))__wasiwheel_fpcast_0;"), "{out}");
        assert!(out.contains("(PyCFunction)&__wasiwheel_fpcast_0;"), "{out}");
        assert!(out.contains("(PyCFunction)(__wasiwheel_fpcast_0);"), "{out}");
        assert!(out.contains("(*d)(Obj *) = m;") && out.contains("return m(o);"), "{out}");
    }

    #[test]
    fn void_and_value_results_are_adapted() {
        let (a, _, out) = run(
            "typedef int (*inquiry)(PyObject *);
typedef void (*destructor)(PyObject *);
typedef struct { inquiry tp_clear; destructor tp_dealloc; getter get; } Slots;
static void clear(Obj *self) { self->n = 0; }
static int dealloc(Obj *self) { return 1; }
static void get_nothing(Obj *self) { }
Slots slots = {(inquiry)clear, (destructor)dealloc, (getter)get_nothing};
",
            "c",
        );
        assert_eq!(adapted(&a), [("clear", 1), ("dealloc", 1), ("get_nothing", 2)]);
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        assert!(out.contains("{ clear((Obj *)a0); return (int)0; }"), "{out}");
        assert!(out.contains("{ (void)dealloc((Obj *)a0); }"), "{out}");
        assert!(out.contains("{ (void)a1; get_nothing((Obj *)a0); return (void *)0; }"), "{out}");
    }

    #[test]
    fn macros_and_mismatched_prefixes_are_reported() {
        let (a, _, _) = run(
            "#define METH(f) (PyCFunction)f
static PyObject *m(Obj *self) { return 0; }
static long long bad(Obj *self) { return 0; }
static double wide(double x) { return x; }
PyCFunction a = METH(m);
PyCFunction b = (PyCFunction)bad;
PyCFunction c = (PyCFunction)wide;
",
            "c",
        );
        assert!(a.adapters.is_empty());
        let w = a.warnings.join("\n");
        assert!(w.contains("`m`") && w.contains("in a macro expansion"), "{w}");
        assert!(w.contains("`bad`") && w.contains("shared ones or the result differ"), "{w}");
        assert!(w.contains("`wide`") && w.contains("(f64) -> f64"), "{w}");
    }

    #[test]
    fn cxx_static_function() {
        let (a, _, out) = run(
            "namespace inner { static PyObject *q(Obj *self) { return 0; } }
namespace { PyObject *anon(Obj *) { return 0; } }
static PyObject *plain(Obj *self) { return 0; }
extern \"C\" { static PyObject *cfun(Obj *self) { return 0; } }
static PyMethodDef methods[] = {
    {\"plain\", (PyCFunction)plain, 4, 0},
    {\"anon\", (PyCFunction)anon, 4, 0},
    {\"cfun\", reinterpret_cast<PyCFunction>(cfun), 4, 0},
    {\"q\", (PyCFunction)inner::q, 4, 0},
};
PyMethodDef *get() { return methods; }
",
            "cpp",
        );
        assert_eq!(adapted(&a), [("plain", 2), ("anon", 2), ("cfun", 2)]);
        assert!(out.contains("(PyCFunction)__wasiwheel_fpcast_0, 4"), "{out}");
        let w = a.warnings.join("\n");
        assert!(w.contains("`q`") && w.contains("qualifier"), "{w}");
    }
}
