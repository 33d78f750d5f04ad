//! The embedded WebAssembly runtime (wasmtime) that runs WASI preview1
//! command modules such as `python.wasm`.
//!
//! Compiled code is cached under the cache's `wasmtime/` directory, keyed by
//! the module's sha256 and the engine's configuration, so that a second run of
//! the same module skips Cranelift entirely.

use std::hash::{Hash, Hasher};

use camino::{Utf8Path, Utf8PathBuf};
use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::error::{Error, IoContext, Result};
use crate::toolchain::cache;

/// A preopened directory: host path → guest path.
#[derive(Debug, Clone)]
pub struct Preopen {
    /// Directory on the host.
    pub host: Utf8PathBuf,
    /// Where the guest sees it (e.g. `/`).
    pub guest: String,
    /// Whether the guest may change it (create, write, remove); read-only
    /// otherwise, and writes fail with a permission error.
    pub writable: bool,
}

impl std::str::FromStr for Preopen {
    type Err = String;

    /// Parse `HOST::GUEST` (as wasmtime's `--dir`) or `HOST` (mapped at the
    /// same path); the directory is writable, as with wasmtime's `--dir`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.split_once("::") {
            Some((h, g)) if !h.is_empty() && !g.is_empty() => {
                Ok(Preopen { host: h.into(), guest: g.into(), writable: true })
            }
            Some(_) => Err(format!("`{s}` is not HOST::GUEST")),
            None => Ok(Preopen { host: s.into(), guest: s.into(), writable: true }),
        }
    }
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// `argv` of the guest, `argv[0]` first.
    pub args: Vec<String>,
    /// The guest's environment.
    pub env: Vec<(String, String)>,
    /// Preopened directories.
    pub dirs: Vec<Preopen>,
}

/// The most native stack wasm code may use (CPython's WASI build expects 8 MiB).
const WASM_STACK: usize = 8 << 20;

/// The engine every wasiwheel runtime command uses (`run`, `exec`, `serve`):
/// an 8 MiB wasm stack and an async stack above it.
///
/// Errors: [`Error::Run`] when wasmtime cannot start.
pub(crate) fn engine() -> Result<Engine> {
    let mut config = Config::new();
    // CPython recurses deeply (and the WASI build is configured for an 8 MiB
    // stack under wasmtime, as CPython's own host runner sets).
    config.max_wasm_stack(WASM_STACK);
    // C++ exceptions and setjmp/longjmp (the exnref encoding: toolchain::cxx_eh).
    config.wasm_exceptions(true);
    // wasmtime requires the async stack to be larger than the wasm stack
    // whenever async support is compiled in (wasmtime-wasi needs it).
    config.async_stack_size(WASM_STACK + (1 << 20));
    Engine::new(&config).map_err(|e| Error::Run(format!("cannot start wasmtime: {e}")))
}

/// Load `wasm` compiled for `engine`, from the compiled-code cache when possible.
/// Where the compiled code of `bytes` for `engine` is cached: keyed by the
/// module's sha256 and the engine's compatibility hash.
fn compiled_path(engine: &Engine, bytes: &[u8]) -> Result<Utf8PathBuf> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    Ok(cache::dir("wasmtime")?.join(format!("{}-{:016x}.cwasm", &crate::files::sha256_hex(bytes)[..32], h.finish())))
}

/// Keep compiled code for the next run (best effort: a failure only costs a recompile).
fn store_compiled(path: &Utf8Path, serialized: wasmtime::Result<Vec<u8>>) {
    use std::io::Write;
    if let Ok(data) = serialized {
        let _ = crate::files::write_atomic(path, |f| f.write_all(&data).context(|| format!("cannot write {path}")));
    }
}

/// Load `wasm` compiled for `engine`, from the compiled-code cache when possible.
fn load_module(engine: &Engine, wasm_path: &Utf8Path) -> Result<Module> {
    let bytes = std::fs::read(wasm_path).context(|| format!("cannot read {wasm_path}"))?;
    let cached = compiled_path(engine, &bytes)?;
    // SAFETY: the file was written by `Module::serialize` of this very
    // wasmtime with this configuration (the key includes the engine's
    // compatibility hash), into wasiwheel's private cache, by rename.
    if let Ok(m) = unsafe { Module::deserialize_file(engine, &cached) } {
        return Ok(m);
    }
    let module = Module::new(engine, &bytes)
        .map_err(|e| Error::Run(format!("{wasm_path} is not a valid WebAssembly module: {e:#}")))?;
    store_compiled(&cached, module.serialize());
    Ok(module)
}

/// Run the WASI preview1 command module at `wasm_path` with `spec`; stdio is
/// inherited. Returns the guest's exit status (0 when `_start` returns).
///
/// Errors: [`Error::Run`] when the module is invalid, needs imports other than
/// WASI preview1, a preopened directory does not exist, or the guest traps
/// (the trap's message and wasm backtrace are included).
pub fn run_module(wasm_path: &Utf8Path, spec: &RunSpec) -> Result<i32> {
    // The guest runs on a thread whose native stack is comfortably larger
    // than the wasm stack limit (the caller's thread may have only 8 MiB).
    let (path, spec) = (wasm_path.to_path_buf(), spec.clone());
    std::thread::Builder::new()
        .name("wasm-guest".into())
        .stack_size(WASM_STACK * 4)
        .spawn(move || run_module_here(&path, &spec))
        .map_err(|e| Error::Run(format!("cannot start the guest thread: {e}")))?
        .join()
        .map_err(|_| Error::Run(format!("the runtime failed while running {wasm_path}")))?
}

fn run_module_here(wasm_path: &Utf8Path, spec: &RunSpec) -> Result<i32> {
    let engine = engine()?;
    let module = load_module(&engine, wasm_path)?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t)
        .map_err(|e| Error::Run(format!("cannot set up WASI: {e}")))?;
    let mut b = WasiCtxBuilder::new();
    b.inherit_stdio().args(&spec.args);
    for (k, v) in &spec.env {
        b.env(k, v);
    }
    for d in &spec.dirs {
        if !d.host.is_dir() {
            return Err(Error::Run(format!("cannot map {} into the guest: it is not a directory", d.host)));
        }
        let perms = if d.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
        b.preopened_dir(&d.host, &d.guest, perms)
            .map_err(|e| Error::Run(format!("cannot map {} at {} in the guest: {e}", d.host, d.guest)))?;
    }
    let mut store = Store::new(&engine, b.build_p1());
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| Error::Run(format!("cannot instantiate {wasm_path}: {e:#}")))?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .map_err(|_| Error::Run(format!("{wasm_path} is not a WASI command: it exports no `_start`")))?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(Error::Run(format!("{wasm_path} trapped: {e:?}"))),
        },
    }
}

/// A deterministic generator for a build's WASI randomness: SHA-256 in
/// counter mode, block `i` = sha256(seed ‖ i as a little-endian u64). Its
/// output cannot be told from random without the seed, and the same seed
/// always gives the same stream, so a pre-initialized snapshot (and so the
/// component) is a function of the seed and the module.
pub struct SeededRandom {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRandom {
    /// The generator for `seed`.
    pub fn new(seed: [u8; 32]) -> SeededRandom {
        SeededRandom { seed, counter: 0, block: [0; 32], used: 32 }
    }
}

impl rand_core::TryRng for SeededRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> std::result::Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> std::result::Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Self::Error> {
        use sha2::{Digest, Sha256};
        for byte in dst {
            if self.used == self.block.len() {
                let mut h = Sha256::new();
                h.update(self.seed);
                h.update(self.counter.to_le_bytes());
                self.block = h.finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SeededRandom {}

/// The wall clock a pre-initialization sees: a fixed time,
/// `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), else
/// 1980-01-01 (wasiwheel's zip epoch), so that nothing the module computes
/// from the time at build time makes two snapshots differ.
struct FixedWallClock(std::time::Duration);

impl wasmtime_wasi::HostWallClock for FixedWallClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(1)
    }
    fn now(&self) -> std::time::Duration {
        self.0
    }
}

/// The monotonic clock a pre-initialization sees: it advances by one
/// microsecond at each reading, the same in every build.
struct CountingMonotonicClock(std::sync::atomic::AtomicU64);

impl wasmtime_wasi::HostMonotonicClock for CountingMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.0.fetch_add(1_000, std::sync::atomic::Ordering::Relaxed)
    }
}

/// The time the wall clock of a pre-initialization shows: `SOURCE_DATE_EPOCH`
/// (seconds) when set and valid, else [`crate::files::ZIP_EPOCH`].
fn snapshot_time() -> std::time::Duration {
    let secs = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<u64>().ok());
    std::time::Duration::from_secs(secs.unwrap_or(crate::files::ZIP_EPOCH as u64))
}

/// Pre-initialize the WASI preview1 module `wasm` with wizer: instantiate it
/// with `host_dir` preopened at `guest_dir` (stderr inherited, nothing else,
/// no environment variables), call its `init_func` export, and return the
/// module with the resulting state snapshotted (wasmtime-wizer), compacted
/// by [`compact_module`].
///
/// All the randomness the module draws (WASI `random_get`: CPython's string-hash
/// secret, the `random` module's first seed) comes from [`SeededRandom`] over
/// `seed`, and the clocks are fixed ([`FixedWallClock`],
/// [`CountingMonotonicClock`]), so equal modules and seeds give
/// byte-identical results whenever they are built.
///
/// Errors: [`Error::Run`] with wizer's message when the module cannot be
/// instrumented or the initialization function traps or exits (its own
/// diagnostics are on stderr).
pub fn wizer_initialize(
    wasm: &[u8],
    init_func: &str,
    host_dir: &Utf8Path,
    guest_dir: &str,
    seed: [u8; 32],
) -> Result<Vec<u8>> {
    let mut config = Config::new();
    config.max_wasm_stack(WASM_STACK);
    // C++ exceptions and setjmp/longjmp (the exnref encoding: toolchain::cxx_eh).
    config.wasm_exceptions(true);
    config.async_stack_size(WASM_STACK + (1 << 20));
    let engine = Engine::new(&config).map_err(|e| Error::Run(format!("cannot start wasmtime: {e}")))?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |t| t)
        .map_err(|e| Error::Run(format!("cannot set up WASI: {e}")))?;
    let mut b = WasiCtxBuilder::new();
    b.inherit_stderr().inherit_stdout();
    // Deterministic randomness (see `SeededRandom`); the insecure generators
    // (wasi:random/insecure*, not reachable from preview1) are derived too,
    // rather than left to the host's entropy.
    let mut insecure =
        SeededRandom::new(<sha2::Sha256 as sha2::Digest>::digest([&seed[..], b"insecure"].concat()).into());
    let insecure_seed = u128::from(rand_core::Rng::next_u64(&mut insecure));
    b.secure_random(SeededRandom::new(seed)).insecure_random(insecure).insecure_random_seed(insecure_seed);
    b.wall_clock(FixedWallClock(snapshot_time())).monotonic_clock(CountingMonotonicClock(0.into()));
    b.preopened_dir(host_dir, guest_dir, FsPerms::ReadOnly)
        .map_err(|e| Error::Run(format!("cannot map {host_dir}: {e}")))?;
    // A world's imports are not called while it initializes: they trap if they are.
    for (module, name, params, results) in func_imports(wasm)? {
        if module == "wasi_snapshot_preview1" {
            continue;
        }
        let ty = wasmtime::FuncType::new(&engine, params.iter().map(val_type), results.iter().map(val_type));
        let what = format!("{module}#{name}");
        linker
            .func_new(&module, &name, ty, move |_, _, _| {
                Err(wasmtime::Error::msg(format!(
                    "the world's import {what} was called while the component was \
                 pre-initialized (at build time); call it from an export instead"
                )))
            })
            .map_err(|e| Error::Run(format!("cannot define {module}#{name} for pre-initialization: {e}")))?;
    }
    let mut store = Store::new(&engine, b.build_p1());
    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func(init_func);
    let (wasm, path) = (wasm.to_vec(), host_dir.to_path_buf());
    std::thread::Builder::new()
        .stack_size(WASM_STACK * 4)
        .spawn(move || {
            wasmtime_wasi::runtime::in_tokio(async {
                wizer
                    .run(&mut store, &wasm, async |store: &mut Store<WasiP1Ctx>, module: &Module| {
                        linker.instantiate_async(store, module).await
                    })
                    .await
            })
        })
        .map_err(|e| Error::Run(format!("cannot start the pre-initialization thread: {e}")))?
        .join()
        .map_err(|_| Error::Run("pre-initialization failed inside the runtime".into()))?
        .map_err(|e| {
            // Status 70: the Python code failed, and said why on stderr (above).
            if e.downcast_ref::<I32Exit>().is_some_and(|x| x.0 == 70) {
                return Error::Run(
                    "pre-initializing the component failed: Python raised the error printed above while importing \
                     the entry or app module or creating the app's export objects"
                        .into(),
                );
            }
            let exit = e
                .downcast_ref::<I32Exit>()
                .map(|x| format!(" (the guest exited with status {})", x.0))
                .unwrap_or_default();
            Error::Run(format!("pre-initializing the component failed{exit} (files from {path}): {e:#}"))
        })
        .and_then(|m| compact_module(&m))
}

fn val_type(t: &wasmparser::ValType) -> wasmtime::ValType {
    match t {
        wasmparser::ValType::I32 => wasmtime::ValType::I32,
        wasmparser::ValType::I64 => wasmtime::ValType::I64,
        wasmparser::ValType::F32 => wasmtime::ValType::F32,
        wasmparser::ValType::F64 => wasmtime::ValType::F64,
        _ => wasmtime::ValType::V128,
    }
}

/// An imported function of a core module: `(module, name, params, results)`.
pub type FuncImport = (String, String, Vec<wasmparser::ValType>, Vec<wasmparser::ValType>);

/// The imported functions of a core module.
///
/// Errors: [`Error::Run`] when the module does not parse.
pub fn func_imports(wasm: &[u8]) -> Result<Vec<FuncImport>> {
    use wasmparser::{Parser, Payload, TypeRef};
    let bad = |e: wasmparser::BinaryReaderError| Error::Run(format!("cannot read the module: {e}"));
    let mut types = Vec::new();
    let mut out = Vec::new();
    for p in Parser::new(0).parse_all(wasm) {
        match p.map_err(bad)? {
            Payload::TypeSection(r) => {
                for f in r.into_iter_err_on_gc_types() {
                    let f = f.map_err(bad)?;
                    types.push((f.params().to_vec(), f.results().to_vec()));
                }
            }
            Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    let i = i.map_err(bad)?;
                    if let TypeRef::Func(t) = i.ty {
                        let (params, results) = types.get(t as usize).cloned().unwrap_or_default();
                        out.push((i.module.to_string(), i.name.to_string(), params, results));
                    }
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    Ok(out)
}

/// A WASI preview1 adapter that imports nothing: for every
/// `wasi_snapshot_preview1` function `module` imports, a function of the same
/// type that returns `ENOSYS` (52) (`proc_exit` traps), with the component
/// metadata of an empty world, for wit-component's `adapter` (the
/// `--stub-wasi` of componentize-py: hosts that give no WASI at all).
///
/// Errors: [`Error::Run`] when `module` does not parse.
pub fn stub_wasi_adapter(module: &[u8]) -> Result<Vec<u8>> {
    use wasm_encoder::{CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, TypeSection};
    let enc = |t: &wasmparser::ValType| match t {
        wasmparser::ValType::I64 => wasm_encoder::ValType::I64,
        wasmparser::ValType::F32 => wasm_encoder::ValType::F32,
        wasmparser::ValType::F64 => wasm_encoder::ValType::F64,
        _ => wasm_encoder::ValType::I32,
    };
    let mut types = TypeSection::new();
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let mut n = 0;
    for (m, name, params, results) in func_imports(module)? {
        if m != "wasi_snapshot_preview1" {
            continue;
        }
        types.ty().function(params.iter().map(enc), results.iter().map(enc));
        funcs.function(n);
        exports.export(&name, ExportKind::Func, n);
        let mut f = Function::new([]);
        if name == "proc_exit" || results.len() != 1 {
            f.instruction(&Instruction::Unreachable);
        } else {
            f.instruction(&Instruction::I32Const(52));
        }
        f.instruction(&Instruction::End);
        code.function(&f);
        n += 1;
    }
    let mut m = wasm_encoder::Module::new();
    m.section(&types).section(&funcs).section(&exports).section(&code);
    let mut bytes = m.finish();
    let mut resolve = wit_parser::Resolve::new();
    let pkg = resolve
        .push_str("stub.wit", "package wasiwheel:stub-wasi;\nworld stub {}\n")
        .map_err(|e| Error::Run(format!("cannot make the WASI stub: {e:#}")))?;
    let world =
        resolve.select_world(&[pkg], None).map_err(|e| Error::Run(format!("cannot make the WASI stub: {e:#}")))?;
    wit_component::embed_component_metadata(&mut bytes, &resolve, world, wit_component::StringEncoding::UTF8, false)
        .map_err(|e| Error::Run(format!("cannot make the WASI stub: {e:#}")))?;
    Ok(bytes)
}

/// The component `bytes` (read from `path`) compiled for `engine`, from the
/// compiled-code cache when possible (stored there after compiling).
///
/// Errors: [`Error::Run`] when `bytes` is not a valid component.
pub(crate) fn load_component(engine: &Engine, path: &Utf8Path, bytes: &[u8]) -> Result<wasmtime::component::Component> {
    use wasmtime::component::Component;
    let cached = compiled_path(engine, bytes)?;
    // SAFETY: as in `load_module`: written by this wasmtime with this configuration.
    if let Ok(c) = unsafe { Component::deserialize_file(engine, &cached) } {
        return Ok(c);
    }
    let c = Component::new(engine, bytes)
        .map_err(|e| Error::Run(format!("{path} is not a WebAssembly component: {e:#}")))?;
    store_compiled(&cached, c.serialize());
    Ok(c)
}

/// Run the `wasi:cli/command` component at `path` with `args` (`argv[0]`
/// first) and `env`, stdio inherited and no directories preopened. Returns the
/// guest's exit status (0 when `wasi:cli/run` returns ok, 1 for err).
///
/// Errors: [`Error::Run`] when the file is not such a component or the guest traps.
pub fn run_component(path: &Utf8Path, args: &[String], env: &[(String, String)]) -> Result<i32> {
    use wasmtime::component::{Linker as CLinker, ResourceTable};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    struct State {
        ctx: WasiCtx,
        table: ResourceTable,
    }
    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
        }
    }

    let (path, args, env) = (path.to_path_buf(), args.to_vec(), env.to_vec());
    std::thread::Builder::new()
        .stack_size(WASM_STACK * 4)
        .spawn(move || -> Result<i32> {
            let engine = engine()?;
            let bytes = std::fs::read(&path).context(|| format!("cannot read {path}"))?;
            let component = load_component(&engine, &path, &bytes)?;
            let mut linker: CLinker<State> = CLinker::new(&engine);
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
                .map_err(|e| Error::Run(format!("cannot set up WASI: {e}")))?;
            let mut b = WasiCtxBuilder::new();
            b.inherit_stdio().args(&args);
            for (k, v) in &env {
                b.env(k, v);
            }
            let mut store = Store::new(&engine, State { ctx: b.build(), table: ResourceTable::new() });
            let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)
                .map_err(|e| Error::Run(format!("{path} is not a wasi:cli/command component: {e:#}")))?;
            match command.wasi_cli_run().call_run(&mut store) {
                Ok(Ok(())) => Ok(0),
                Ok(Err(())) => Ok(1),
                Err(e) => match e.downcast_ref::<I32Exit>() {
                    Some(x) => Ok(x.0),
                    None => Err(Error::Run(format!("{path} trapped: {e:?}"))),
                },
            }
        })
        .map_err(|e| Error::Run(format!("cannot start the guest thread: {e}")))?
        .join()
        .map_err(|_| Error::Run("the runtime failed while running the component".into()))?
}

/// The most data segments [`compact_module`] splits a module's data into
/// (engines accept 100 000).
const MAX_DATA_SEGMENTS: usize = 60_000;

/// Make a pre-initialized module smaller without changing what it does:
///
/// - Active data segments at constant offsets lose their runs of zero bytes
///   (the memory starts zeroed and the segments do not overlap): wizer merges
///   a snapshot into at most 10 000 segments, so the gaps between them — zeros —
///   are carried. The pieces are split at the longest zero runs first, into at
///   most [`MAX_DATA_SEGMENTS`] segments. Each segment keeps its index (its
///   first piece stays in place; passive segments are untouched) and the
///   other pieces are appended.
/// - Custom sections no host needs are dropped: `producers` and DWARF
///   (`.debug_*`). The `name` section stays, so that traps name functions.
///
/// Errors: [`Error::Run`] when `wasm` does not parse.
pub fn compact_module(wasm: &[u8]) -> Result<Vec<u8>> {
    use wasm_encoder::{ConstExpr, DataCountSection, DataSection, RawSection};
    use wasmparser::{DataKind, Operator, Parser, Payload};
    let bad = |e: wasmparser::BinaryReaderError| Error::Run(format!("cannot read the pre-initialized module: {e}"));

    // Every segment: an active one at a constant offset (memory, offset, bytes), or a passive one.
    enum Seg<'a> {
        Active(u32, u32, &'a [u8]),
        Passive(&'a [u8]),
    }
    let mut segs: Vec<Seg> = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::DataSection(reader) = payload.map_err(bad)? {
            for d in reader {
                let d = d.map_err(bad)?;
                let constant = match &d.kind {
                    DataKind::Active { memory_index, offset_expr } => {
                        let mut ops = offset_expr.get_operators_reader();
                        match (ops.read(), ops.read()) {
                            (Ok(Operator::I32Const { value }), Ok(Operator::End)) => {
                                Some((*memory_index, value as u32))
                            }
                            _ => None,
                        }
                    }
                    DataKind::Passive => None,
                };
                segs.push(match (constant, &d.kind) {
                    (Some((mem, off)), _) => Seg::Active(mem, off, d.data),
                    (None, DataKind::Passive) => Seg::Passive(d.data),
                    // An offset that is not a constant (a relocatable module): left as it is.
                    (None, _) => return Ok(wasm.to_vec()),
                });
            }
        }
    }
    // The non-zero pieces of each active segment, split at zero runs of at
    // least `min_gap` bytes: the smallest gap that keeps the count in bounds.
    let pieces = |data: &[u8], min_gap: usize| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            while i < data.len() && data[i] == 0 {
                i += 1;
            }
            if i == data.len() {
                break;
            }
            let start = i;
            let mut end = i;
            while i < data.len() {
                if data[i] != 0 {
                    i += 1;
                    end = i;
                } else {
                    let z = data[i..].iter().take_while(|b| **b == 0).count();
                    if z >= min_gap || i + z == data.len() {
                        i += z;
                        break;
                    }
                    i += z;
                }
            }
            out.push((start, end));
        }
        out
    };
    let count = |min_gap: usize| -> usize {
        segs.iter()
            .map(|s| match s {
                Seg::Active(_, _, d) => pieces(d, min_gap).len().max(1),
                Seg::Passive(_) => 1,
            })
            .sum()
    };
    let mut min_gap = 16;
    while count(min_gap) > MAX_DATA_SEGMENTS {
        min_gap *= 2;
    }
    let mut data = DataSection::new();
    let mut extra: Vec<(u32, u32, &[u8])> = Vec::new();
    for s in &segs {
        match s {
            Seg::Active(mem, off, d) => {
                let p = pieces(d, min_gap);
                match p.first() {
                    Some(&(a, b)) => {
                        data.active(*mem, &ConstExpr::i32_const((off + a as u32) as i32), d[a..b].iter().copied());
                    }
                    None => {
                        data.active(*mem, &ConstExpr::i32_const(*off as i32), std::iter::empty());
                    }
                }
                for &(a, b) in p.iter().skip(1) {
                    extra.push((*mem, off + a as u32, &d[a..b]));
                }
            }
            Seg::Passive(d) => {
                data.passive(d.iter().copied());
            }
        }
    }
    for (mem, off, d) in &extra {
        data.active(*mem, &ConstExpr::i32_const(*off as i32), d.iter().copied());
    }
    let total = segs.len() + extra.len();

    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(bad)?;
        match &payload {
            Payload::CustomSection(c) if c.name() == "producers" || c.name().starts_with(".debug") => continue,
            Payload::DataCountSection { .. } => {
                out.section(&DataCountSection { count: total as u32 });
                continue;
            }
            Payload::DataSection(_) => {
                out.section(&data);
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            out.section(&RawSection { id, data: &wasm[range.start as usize..range.end as usize] });
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data segments of `wasm`: (offset, bytes), None for a passive one.
    fn segments(wasm: &[u8]) -> Vec<(Option<i32>, Vec<u8>)> {
        use wasmparser::{DataKind, Operator, Parser, Payload};
        let mut out = Vec::new();
        for p in Parser::new(0).parse_all(wasm) {
            if let Payload::DataSection(r) = p.unwrap() {
                for d in r {
                    let d = d.unwrap();
                    let off = match d.kind {
                        DataKind::Active { offset_expr, .. } => match offset_expr.get_operators_reader().read() {
                            Ok(Operator::I32Const { value }) => Some(value),
                            _ => panic!("not a constant"),
                        },
                        DataKind::Passive => None,
                    };
                    out.push((off, d.data.to_vec()));
                }
            }
        }
        out
    }

    #[test]
    fn compact_module_drops_zero_runs_and_tool_sections() {
        use wasm_encoder::{
            ConstExpr, CustomSection, DataCountSection, DataSection, MemorySection, MemoryType, Module,
        };
        let mut m = Module::new();
        let mut mem = MemorySection::new();
        mem.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
        m.section(&mem);
        m.section(&DataCountSection { count: 2 });
        let mut data = DataSection::new();
        data.passive([7u8, 0, 7]);
        let mut bytes = vec![0u8; 4];
        bytes.extend([1, 2, 0, 3]); // a short zero run stays inside a piece
        bytes.extend([0u8; 100]);
        bytes.extend([4, 5]);
        bytes.extend([0u8; 10]);
        data.active(0, &ConstExpr::i32_const(1000), bytes);
        m.section(&data);
        m.section(&CustomSection { name: "producers".into(), data: b"\0".as_slice().into() });
        m.section(&CustomSection { name: ".debug_info".into(), data: b"x".as_slice().into() });
        m.section(&CustomSection { name: "name".into(), data: b"\0".as_slice().into() });
        let out = compact_module(&m.finish()).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        assert_eq!(
            segments(&out),
            vec![(None, vec![7, 0, 7]), (Some(1004), vec![1, 2, 0, 3]), (Some(1108), vec![4, 5])]
        );
        let names: Vec<String> = wasmparser::Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) => Some(c.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(names, vec!["name"]);
    }
}
