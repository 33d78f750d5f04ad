//! The result repair of linked interpreters: indirect calls to functions
//! whose result the call does not expect.
//!
//! C code stores functions in slots of another function type. When the
//! parameters agree and only the result differs — a `void` function in an
//! `int`-returning slot, such as CPython 3.13's own `operator.methodcaller`,
//! whose `tp_clear` returns `void` (`{Py_tp_clear, methodcaller_clear}`: the
//! slot's `void *` hides the type from the compiler), or an `int` function in
//! a `void` slot (`destructor`, `freefunc`) — native ABIs let the call go on;
//! WebAssembly's `call_indirect` traps ("indirect call type mismatch"). The
//! source-level repair ([`super::fpcast`]) sees only the casts of the sources
//! it compiles; this pass repairs a whole statically linked module, CPython
//! and every archive in it included, after the link.
//!
//! In a static link the function table is fixed: it is filled by active
//! element segments at constant offsets and nothing changes it at run time.
//! For every function type `C` that a `call_indirect` of table 0 uses, and
//! every function `f` in the table whose type has `C`'s parameters but
//! another result (none instead of one, or one instead of none), [`repair`]
//! adds an adapter of type `C` that calls `f` and returns zero of `C`'s result
//! type, or drops `f`'s result. Each such `C` gets a table of its own, a copy
//! of table 0 with the adapters in place of those functions, and its
//! `call_indirect`s read that table. Function pointers keep their values (the
//! table indices), calls of matching functions are as before, and other
//! mismatches still trap.

use std::collections::{BTreeMap, BTreeSet};

use wasm_encoder::reencode::{utils, Error as ReencodeError, Reencode};
use wasm_encoder::{
    CodeSection, ConstExpr, ElementSection, Elements, FunctionSection, Instruction, NameMap, NameSection, RefType,
    TableSection, TableType,
};
use wasmparser::{CompositeInnerType, ElementItems, ElementKind, Operator, Parser, Payload, TypeRef, ValType};

/// Version of the pass, part of the cache key of every module it repaired.
pub const VERSION: u32 = 1;

/// Prefix of the adapters' names in the name section.
pub const ADAPTER_PREFIX: &str = "__wasiwheel_resultcast_";

/// What [`repair`] made of a module.
#[derive(Debug, Clone)]
pub struct Repaired {
    /// The repaired module.
    pub module: Vec<u8>,
    /// How many adapters it has (one per function and call type).
    pub adapters: usize,
    /// How many tables were added (one per call type with adapters).
    pub tables: usize,
}

/// One element segment of table 0: its offset and functions.
struct Segment {
    offset: u32,
    functions: Vec<u32>,
}

/// What the first reading of a module found.
struct Shape {
    /// Function types by type index (`None` for other types).
    types: Vec<Option<(Vec<ValType>, Vec<ValType>)>>,
    /// The type index of every function (imports first).
    func_types: Vec<u32>,
    /// Table 0.
    table: wasmparser::TableType,
    /// Table 0's element segments.
    segments: Vec<Segment>,
    /// Type indices that `call_indirect`/`return_call_indirect` of table 0 use.
    call_types: BTreeSet<u32>,
    /// Function names (from the name section).
    names: BTreeMap<u32, String>,
}

/// Read what the pass needs; `Ok(None)` for a module whose table can change
/// or is not the one defined table of functions this pass knows how to copy.
fn read_shape(wasm: &[u8]) -> Result<Option<Shape>, String> {
    let mut types = Vec::new();
    let mut func_types = Vec::new();
    let mut tables = Vec::new();
    let mut segments = Vec::new();
    let mut call_types = BTreeSet::new();
    let mut names = BTreeMap::new();
    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::Version { encoding: wasmparser::Encoding::Component, .. } => return Ok(None),
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group.map_err(err)?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some((f.params().to_vec(), f.results().to_vec())),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    match import.map_err(err)?.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => func_types.push(t),
                        TypeRef::Table(_) => return Ok(None),
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.map_err(err)?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(err)?;
                    if !matches!(t.init, wasmparser::TableInit::RefNull) {
                        return Ok(None);
                    }
                    tables.push(t.ty);
                }
            }
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e.map_err(err)?;
                    let ElementKind::Active { table_index, offset_expr } = e.kind else {
                        continue; // passive segments could only reach a table through table.init (refused below)
                    };
                    if table_index.unwrap_or(0) != 0 {
                        return Ok(None);
                    }
                    let mut ops = offset_expr.get_operators_reader();
                    let (Ok(Operator::I32Const { value }), Ok(Operator::End)) = (ops.read(), ops.read()) else {
                        return Ok(None);
                    };
                    let ElementItems::Functions(fs) = e.items else {
                        return Ok(None);
                    };
                    let functions = fs.into_iter().collect::<Result<Vec<u32>, _>>().map_err(err)?;
                    segments.push(Segment { offset: value as u32, functions });
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut ops = body.get_operators_reader().map_err(err)?;
                while !ops.eof() {
                    match ops.read().map_err(err)? {
                        Operator::CallIndirect { type_index, table_index: 0 }
                        | Operator::ReturnCallIndirect { type_index, table_index: 0 } => {
                            call_types.insert(type_index);
                        }
                        Operator::TableSet { .. }
                        | Operator::TableGrow { .. }
                        | Operator::TableFill { .. }
                        | Operator::TableCopy { .. }
                        | Operator::TableInit { .. } => return Ok(None),
                        _ => {}
                    }
                }
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                    for sub in reader {
                        if let Ok(wasmparser::Name::Function(map)) = sub {
                            for n in map.into_iter().flatten() {
                                names.insert(n.index, n.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let [table] = tables[..] else { return Ok(None) };
    if table.element_type != wasmparser::RefType::FUNCREF || table.table64 || table.shared {
        return Ok(None);
    }
    Ok(Some(Shape { types, func_types, table, segments, call_types, names }))
}

/// One adapter: it has type `call_type` and calls `function`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Adapter {
    call_type: u32,
    function: u32,
    params: usize,
    /// The call's result (`Some`: return zero of it) or `None` (drop the function's).
    zero: Option<ValType>,
}

/// Whether a function of type `f` called through type `c` needs an adapter
/// (and which): the same parameters, a result where the call expects none or
/// none where it expects one.
fn adapt(f: &(Vec<ValType>, Vec<ValType>), c: &(Vec<ValType>, Vec<ValType>)) -> Option<Option<ValType>> {
    if f.0 != c.0 {
        return None;
    }
    let numeric = |t: &ValType| matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64);
    match (&f.1[..], &c.1[..]) {
        ([], [r]) if numeric(r) => Some(Some(*r)),
        ([r], []) if numeric(r) => Some(None),
        _ => None,
    }
}

/// The re-encoder: copies the module, appends the adapters, their tables and
/// segments and names, and points the affected `call_indirect`s at their tables.
struct Rewriter<'a> {
    shape: &'a Shape,
    adapters: Vec<Adapter>,
    /// First adapter's function index.
    first: u32,
    /// Call type → its table, in the order the tables are added.
    tables: BTreeMap<u32, u32>,
    /// (call type, function) → adapter index.
    by_pair: BTreeMap<(u32, u32), usize>,
}

impl Reencode for Rewriter<'_> {
    type Error = std::convert::Infallible;

    fn parse_instruction<'b>(
        &mut self,
        reader: &mut wasmparser::OperatorsReader<'b>,
    ) -> Result<Instruction<'b>, ReencodeError<Self::Error>> {
        match reader.read()? {
            Operator::CallIndirect { type_index, table_index: 0 } if self.tables.contains_key(&type_index) => {
                Ok(Instruction::CallIndirect { type_index, table_index: self.tables[&type_index] })
            }
            Operator::ReturnCallIndirect { type_index, table_index: 0 } if self.tables.contains_key(&type_index) => {
                Ok(Instruction::ReturnCallIndirect { type_index, table_index: self.tables[&type_index] })
            }
            op => self.instruction(op),
        }
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        utils::parse_function_section(self, functions, section)?;
        for a in &self.adapters {
            functions.function(a.call_type);
        }
        Ok(())
    }

    fn parse_table_section(
        &mut self,
        tables: &mut TableSection,
        section: wasmparser::TableSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        utils::parse_table_section(self, tables, section)?;
        for _ in 0..self.tables.len() {
            tables.table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: self.shape.table.initial,
                maximum: self.shape.table.maximum,
                shared: false,
            });
        }
        Ok(())
    }

    fn parse_element_section(
        &mut self,
        elements: &mut ElementSection,
        section: wasmparser::ElementSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        utils::parse_element_section(self, elements, section)?;
        for (&call_type, &table) in &self.tables {
            for s in &self.shape.segments {
                let fs: Vec<u32> = s
                    .functions
                    .iter()
                    .map(|&f| self.by_pair.get(&(call_type, f)).map(|&a| self.first + a as u32).unwrap_or(f))
                    .collect();
                elements.active(Some(table), &ConstExpr::i32_const(s.offset as i32), Elements::Functions(fs.into()));
            }
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        utils::parse_code_section(self, code, section)?;
        for a in &self.adapters {
            let mut f = wasm_encoder::Function::new([]);
            for i in 0..a.params {
                f.instruction(&Instruction::LocalGet(i as u32));
            }
            f.instruction(&Instruction::Call(a.function));
            f.instruction(&match a.zero {
                None => Instruction::Drop,
                Some(ValType::I64) => Instruction::I64Const(0),
                Some(ValType::F32) => Instruction::F32Const(0.0.into()),
                Some(ValType::F64) => Instruction::F64Const(0.0.into()),
                Some(_) => Instruction::I32Const(0),
            });
            f.instruction(&Instruction::End);
            code.function(&f);
        }
        Ok(())
    }

    fn parse_custom_name_subsection(
        &mut self,
        names: &mut NameSection,
        section: wasmparser::Name<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        let wasmparser::Name::Function(map) = section else {
            return utils::parse_custom_name_subsection(self, names, section);
        };
        let mut out = NameMap::new();
        for n in map {
            let n = n?;
            out.append(n.index, n.name);
        }
        for (i, a) in self.adapters.iter().enumerate() {
            let of = self.shape.names.get(&a.function).map(String::as_str).unwrap_or("?");
            out.append(self.first + i as u32, &format!("{ADAPTER_PREFIX}{i}<{of}>"));
        }
        names.functions(&out);
        Ok(())
    }
}

/// Repair a statically linked module's indirect calls to functions whose
/// result the call does not expect (see the module documentation).
///
/// Returns `Ok(None)` when nothing needs an adapter, or when the module is not
/// of the shape the pass handles (a component, an imported table, more than
/// one table, an element segment that is not constant function indices into
/// table 0, or code that changes a table: `table.set`, `table.grow`, …).
///
/// Errors: the parser's message when `wasm` is not a valid module.
pub fn repair(wasm: &[u8]) -> Result<Option<Repaired>, String> {
    let Some(shape) = read_shape(wasm)? else { return Ok(None) };
    let in_table: BTreeSet<u32> = shape.segments.iter().flat_map(|s| s.functions.iter().copied()).collect();
    let mut adapters = Vec::new();
    let mut by_pair = BTreeMap::new();
    let mut tables = BTreeMap::new();
    for &c in &shape.call_types {
        let Some(Some(ct)) = shape.types.get(c as usize) else { continue };
        let mut any = false;
        for &f in &in_table {
            let Some(Some(ft)) = shape.func_types.get(f as usize).and_then(|&t| shape.types.get(t as usize)) else {
                continue;
            };
            if let Some(zero) = adapt(ft, ct) {
                by_pair.insert((c, f), adapters.len());
                adapters.push(Adapter { call_type: c, function: f, params: ct.0.len(), zero });
                any = true;
            }
        }
        if any {
            tables.insert(c, 1 + tables.len() as u32);
        }
    }
    if adapters.is_empty() {
        return Ok(None);
    }
    let first = shape.func_types.len() as u32;
    let mut rw = Rewriter { shape: &shape, adapters, first, tables, by_pair };
    let mut module = wasm_encoder::Module::new();
    rw.parse_core_module(&mut module, Parser::new(0), wasm).map_err(|e| format!("cannot re-encode the module: {e}"))?;
    let out = module.finish();
    wasmparser::Validator::new().validate_all(&out).map_err(|e| format!("the repaired module is not valid: {e}"))?;
    Ok(Some(Repaired { module: out, adapters: rw.adapters.len(), tables: rw.tables.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, Module, TableSection, TypeSection,
        ValType as V,
    };

    /// A module with table [_, clear_void, clear_int, call_inquiry] and
    /// exports `call_inquiry(i)` (calls `table[i](0)` as `(i32) -> i32`) and
    /// `call_destructor(i)` (as `(i32) -> ()`), like CPython's `tp_clear` and
    /// `tp_dealloc` calls.
    fn sample(mutate_table: bool) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([V::I32], [V::I32]); // 0: inquiry
        types.ty().function([V::I32], []); // 1: destructor
        let mut funcs = FunctionSection::new();
        for t in [1, 0, 0, 1] {
            funcs.function(t);
        }
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 4,
            maximum: Some(4),
            shared: false,
        });
        let mut exports = ExportSection::new();
        exports.export("call_inquiry", ExportKind::Func, 2);
        exports.export("call_destructor", ExportKind::Func, 3);
        let mut elems = ElementSection::new();
        elems.active(None, &ConstExpr::i32_const(1), Elements::Functions(vec![0, 1, 2].into()));
        let body = |ins: &[Instruction]| {
            let mut f = Function::new([]);
            for i in ins {
                f.instruction(i);
            }
            f.instruction(&Instruction::End);
            f
        };
        let call = |t| Instruction::CallIndirect { type_index: t, table_index: 0 };
        let mut code = CodeSection::new();
        code.function(&body(&[])); // 0: void clear_void(p)
        code.function(&body(&[Instruction::I32Const(7)])); // 1: int clear_int(p)
        let mut inquiry = vec![Instruction::I32Const(0), Instruction::LocalGet(0), call(0)];
        if mutate_table {
            inquiry.extend([Instruction::I32Const(0), Instruction::RefNull(wasm_encoder::HeapType::FUNC)]);
            inquiry.push(Instruction::TableSet(0));
        }
        code.function(&body(&inquiry)); // 2: int call_inquiry(i)
        code.function(&body(&[Instruction::I32Const(0), Instruction::LocalGet(0), call(1)])); // 3: call_destructor(i)
        let mut m = Module::new();
        m.section(&types).section(&funcs).section(&tables).section(&exports).section(&elems).section(&code);
        let wasm = m.finish();
        wasmparser::Validator::new().validate_all(&wasm).unwrap();
        wasm
    }

    #[test]
    fn void_function_in_an_int_slot_gets_an_adapter() {
        let wasm = sample(false);
        let r = repair(&wasm).unwrap().expect("adapters");
        // (i32) -> i32 calls reach clear_void: one adapter and table; (i32) -> ()
        // calls reach clear_int and call_inquiry: two adapters, one more table.
        assert_eq!((r.adapters, r.tables), (3, 2));
        // A repaired module has more than one table: a second repair leaves it alone.
        assert!(repair(&r.module).unwrap().is_none());
    }

    /// The calls, run: before the repair the mismatched ones trap, after it
    /// they return zero or drop the result, and matching ones are unchanged.
    #[cfg(feature = "run")]
    #[test]
    fn repaired_calls_run() {
        let engine = wasmtime::Engine::default();
        let calls = |wasm: &[u8]| {
            let module = wasmtime::Module::new(&engine, wasm).unwrap();
            let mut store = wasmtime::Store::new(&engine, ());
            let inst = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
            let inquiry = inst.get_typed_func::<i32, i32>(&mut store, "call_inquiry").unwrap();
            let destructor = inst.get_typed_func::<i32, ()>(&mut store, "call_destructor").unwrap();
            let a = inquiry.call(&mut store, 1).map_err(|e| format!("{e:?}"));
            let b = inquiry.call(&mut store, 2).map_err(|e| format!("{e:?}"));
            let c = destructor.call(&mut store, 2).map_err(|e| format!("{e:?}"));
            let d = destructor.call(&mut store, 1).map_err(|e| format!("{e:?}"));
            (a, b, c, d)
        };
        let wasm = sample(false);
        let (a, b, c, d) = calls(&wasm);
        assert!(a.unwrap_err().contains("indirect call type mismatch"));
        assert_eq!(b, Ok(7));
        assert!(c.unwrap_err().contains("indirect call type mismatch"));
        assert_eq!(d, Ok(()));
        let repaired = repair(&wasm).unwrap().unwrap().module;
        assert_eq!(calls(&repaired), (Ok(0), Ok(7), Ok(()), Ok(())));
    }

    #[test]
    fn modules_whose_table_changes_are_left_alone() {
        assert!(repair(&sample(true)).unwrap().is_none());
    }

    #[test]
    fn adapter_kinds() {
        let s = |p: &[V], r: &[V]| -> (Vec<ValType>, Vec<ValType>) {
            let conv = |v: &V| match v {
                V::I64 => ValType::I64,
                V::F64 => ValType::F64,
                _ => ValType::I32,
            };
            (p.iter().map(conv).collect(), r.iter().map(conv).collect())
        };
        assert_eq!(adapt(&s(&[V::I32], &[]), &s(&[V::I32], &[V::I32])), Some(Some(ValType::I32)));
        assert_eq!(adapt(&s(&[V::I32], &[V::I64]), &s(&[V::I32], &[])), Some(None));
        assert_eq!(adapt(&s(&[V::I32], &[]), &s(&[V::I32], &[])), None);
        assert_eq!(adapt(&s(&[V::I32], &[]), &s(&[V::I32, V::I32], &[V::I32])), None, "arity is fpcast's");
        assert_eq!(adapt(&s(&[V::I32], &[V::I64]), &s(&[V::I32], &[V::I32])), None, "another result type traps");
    }
}
