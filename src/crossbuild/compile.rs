//! Compiling extension-module sources and linking their artifacts.
//!
//! Every source is compiled once, position-independent (`-fPIC`), in
//! parallel; objects are kept in the build directory and reused when the
//! compiler command, the source and every header it included (from the
//! compiler's own `-MD` dependency file) are unchanged. From the objects:
//!
//! * native: a shared library (`cc -shared`);
//! * WASI: a wasm dylib (`wasm-ld --shared --experimental-pic`, with a
//!   `dylink.0` section) for dynamic-linking runtimes, and a static archive of
//!   the same objects for relinking CPython statically (combined into one
//!   object whose symbols other modules cannot see: see `objlink`).

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::crossbuild::fpcast;
use crate::crossbuild::objlink;
use crate::error::{Error, IoContext, Result};
use crate::model::lang::Profile;
use crate::model::lang::{source_language, Language};
use crate::model::target::{PyVersion, WasiTarget};
use crate::toolchain::cxx_eh::{CxxRuntime, ExnrefCompiler};
use crate::toolchain::sdk::WasiSdk;

/// The host's Rust target triple (what `cc` calls the host and native target).
pub const HOST_TRIPLE: &str = env!("WASIWHEEL_HOST_TRIPLE");

/// The compilers and linkers of one build.
#[derive(Debug, Clone)]
pub enum Toolchain {
    /// The host C/C++ compiler as `cc` finds it (honours `CC`/`CXX`).
    Host,
    /// A WASI SDK for a WASI target.
    Wasi {
        /// The SDK.
        sdk: WasiSdk,
        /// The target.
        target: WasiTarget,
        /// The exception-enabled C++ runtime C++ is compiled against, with
        /// its exnref compiler; `None` compiles C++ with `-fno-exceptions`
        /// against the SDK's own libc++ (`-C cxx-exceptions=false`).
        cxx_eh: Option<Box<CxxRuntime>>,
        /// The exnref compiler a source that calls setjmp/longjmp is compiled
        /// again with ([`sjlj_compiler`]); `None` refuses such sources
        /// (`-C cxx-exceptions=false`, no exnref compiler, or a target that
        /// cannot have exception handling: [`crate::toolchain::cxx_eh::for_sjlj`]).
        sjlj: Option<Box<ExnrefCompiler>>,
    },
}

/// One extension module to build, with absolute paths.
#[derive(Debug, Clone)]
pub struct ExtensionSpec {
    /// Dotted module name (`pkg._core`).
    pub name: String,
    /// Source files.
    pub sources: Vec<Utf8PathBuf>,
    /// Include directories.
    pub include_dirs: Vec<Utf8PathBuf>,
    /// `(NAME, Some(VALUE))` or `(NAME, None)`.
    pub defines: Vec<(String, Option<String>)>,
    /// Libraries to link.
    pub libraries: Vec<String>,
    /// Source language.
    pub language: Language,
    /// Limited API minimum version (abi3), if any.
    pub limited_api: Option<PyVersion>,
    /// Extra compiler arguments, after wasiwheel's own.
    pub extra_compile_args: Vec<String>,
    /// Extra linker arguments, after wasiwheel's own.
    pub extra_link_args: Vec<String>,
    /// A module whose build may fail: the wheel is then built without it
    /// (setuptools' `Extension(optional=True)`).
    pub optional: bool,
}

impl ExtensionSpec {
    /// The last component of the dotted name (`_core` for `pkg._core`).
    pub fn basename(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// The module's init function, `PyInit_{basename}` (PEP 489).
    pub fn init_symbol(&self) -> String {
        format!("PyInit_{}", self.basename())
    }
}

/// How to compile.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Parallel compiler processes.
    pub jobs: usize,
    /// Optimisation profile.
    pub profile: Profile,
    /// Print each command.
    pub verbose: bool,
    /// The interpreter's own compiler flags (its sysconfig `CFLAGS`, without
    /// optimisation and debug-info flags, which the profile decides), as
    /// setuptools passes them: `-DNDEBUG`, `-fno-strict-overflow`, warnings.
    pub python_cflags: Vec<String>,
    /// Build paths mapped out of every object (`-ffile-prefix-map=FROM=TO`:
    /// `__FILE__`, debug info), so that artifacts do not depend on the
    /// directory they were built in.
    pub prefix_maps: Vec<(Utf8PathBuf, String)>,
    /// Repair casts of functions to function-pointer types with more
    /// parameters (WASI toolchains only; see [`crate::crossbuild::fpcast`]).
    pub fpcast_repair: bool,
}

/// What a build did, for progress lines and measurements.
#[derive(Debug, Clone, Default)]
pub struct BuildStats {
    /// Sources compiled.
    pub compiled: usize,
    /// Sources whose object was reused.
    pub reused: usize,
    /// Time spent inside compiler, linker and archiver processes (summed over
    /// parallel jobs).
    pub tool_time: Duration,
}

/// The flags every WASI compile gets from wasiwheel besides the target and
/// the profile, for extension modules of wasiwheel projects and for foreign
/// builds through the compiler wrappers alike: position-independent code
/// (`cc` does not add `-fPIC` for wasm targets by itself) and, for C++
/// without an exception-enabled runtime (`exceptions` false), no exceptions
/// (the SDK's libc++abi then has no unwinder for wasm). C++ with exceptions
/// gets [`CxxRuntime::cxx_compile_args`] besides.
pub fn wasi_flags(lang: Language, exceptions: bool) -> Vec<&'static str> {
    let mut v = vec!["-fPIC"];
    if lang == Language::Cxx && !exceptions {
        v.push("-fno-exceptions");
    }
    v
}

/// The compiler and its arguments (beyond `--target`) for `lang` under a WASI
/// toolchain: the SDK's clang with [`wasi_flags`], or, for C++ with an
/// exception-enabled runtime, its exnref compiler with
/// [`CxxRuntime::cxx_compile_args`].
pub fn wasi_compiler(
    sdk: &WasiSdk,
    target: WasiTarget,
    cxx_eh: Option<&CxxRuntime>,
    lang: Language,
) -> (Utf8PathBuf, Vec<String>) {
    let flags = |eh: bool| wasi_flags(lang, eh).into_iter().map(str::to_string);
    match (lang, cxx_eh) {
        (Language::Cxx, Some(rt)) => {
            let mut args = rt.cxx_compile_args(sdk, target);
            args.extend(flags(true));
            (rt.compiler.clangxx.clone(), args)
        }
        (Language::Cxx, None) => (sdk.clangxx(), flags(false).collect()),
        (_, _) => (sdk.clang(), flags(false).collect()),
    }
}

/// LLVM's lowering of `setjmp`/`longjmp` onto WebAssembly exception
/// handling in the exnref encoding (wasi-sdk's docs/SetjmpLongjmp.md: with
/// wasi-libc's `libsetjmp`, which [`crate::crossbuild::relink`] links).
pub const SJLJ_FLAGS: &[&str] = &["-mllvm", "-wasm-enable-sjlj", "-mllvm", "-wasm-use-legacy-eh=false"];

/// Whether a failed compile's `diagnostics` are wasi-libc's refusal of
/// `<setjmp.h>` without exception handling (`bits/setjmp.h`: "Setjmp/longjmp
/// support requires Exception handling support"): the source calls setjmp or
/// longjmp and must be compiled with [`sjlj_compiler`].
pub fn needs_sjlj(diagnostics: &str) -> bool {
    diagnostics.contains("Setjmp/longjmp support requires Exception handling")
}

/// The compiler and the arguments to add for a `lang` source that calls
/// setjmp/longjmp, given an exnref compiler `cc` (for C++ it must be the
/// exception-enabled runtime's, which compiles the C++ already): for C its
/// clang with [`ExnrefCompiler::target_args`]
/// and [`SJLJ_FLAGS`] (replacing the SDK's clang, whose encoding wasmtime
/// refuses when it is older than LLVM 20); for C++ its clang++ (already the
/// compiler, with exceptions) and `-mllvm -wasm-enable-sjlj`. The arguments
/// go after the source's own compile arguments.
pub fn sjlj_compiler(
    sdk: &WasiSdk,
    target: WasiTarget,
    cc: &ExnrefCompiler,
    lang: Language,
) -> (Utf8PathBuf, Vec<String>) {
    match lang {
        Language::Cxx => (cc.clangxx.clone(), vec!["-mllvm".into(), "-wasm-enable-sjlj".into()]),
        _ => {
            let mut args = cc.target_args(sdk, target);
            args.extend(SJLJ_FLAGS.iter().map(|s| s.to_string()));
            (cc.clang.clone(), args)
        }
    }
}

fn cc_build(tc: &Toolchain, lang: Language, opts: &CompileOptions) -> cc::Build {
    let mut b = cc::Build::new();
    b.cargo_metadata(false)
        .cargo_warnings(false)
        .cargo_debug(false)
        .cargo_output(false)
        .emit_rerun_if_env_changed(false)
        .inherit_rustflags(false)
        .warnings(true)
        .extra_warnings(false)
        .host(HOST_TRIPLE)
        .pic(true)
        .cpp(lang == Language::Cxx)
        .opt_level(match opts.profile {
            Profile::Release => 2,
            Profile::Debug => 0,
        })
        .debug(opts.profile == Profile::Debug);
    for f in &opts.python_cflags {
        b.flag(f);
    }
    for (from, to) in &opts.prefix_maps {
        b.flag(format!("-ffile-prefix-map={from}={to}"));
    }
    match tc {
        Toolchain::Host => {
            b.target(HOST_TRIPLE);
        }
        Toolchain::Wasi { sdk, target, cxx_eh, .. } => {
            b.target(target.triple());
            let (compiler, args) = wasi_compiler(sdk, *target, cxx_eh.as_deref(), lang);
            b.compiler(compiler);
            for f in args {
                b.flag(f);
            }
        }
    }
    b
}

/// The compiler command (without source/output) for `ext` under `tc`, from
/// `base` (a clone shares `cc`'s cache of compiler probes, so the compiler is
/// probed once per language, not once per extension).
fn compiler_for(
    tc: &Toolchain,
    base: &cc::Build,
    ext: &ExtensionSpec,
    python_includes: &[Utf8PathBuf],
) -> Result<cc::Tool> {
    let mut b = base.clone();
    for d in &ext.include_dirs {
        b.include(d);
    }
    for d in python_includes {
        b.include(d);
    }
    for (k, v) in &ext.defines {
        b.define(k, v.as_deref());
    }
    if let Some(min) = ext.limited_api {
        b.define("Py_LIMITED_API", Some(format!("0x{:02X}{:02X}0000", min.major, min.minor).as_str()));
    }
    for a in &ext.extra_compile_args {
        b.flag(a);
    }
    b.try_get_compiler().map_err(|e| {
        Error::Toolchain(format!(
            "cannot set up the {} compiler: {e}",
            match tc {
                Toolchain::Host => "host".to_string(),
                Toolchain::Wasi { target, .. } => target.to_string(),
            }
        ))
    })
}

/// A recorded input of an object: path, size, mtime, sha256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Dep {
    path: String,
    size: u64,
    mtime_ns: i128,
    sha256: String,
}

fn dep_of(path: &str) -> Option<Dep> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime_ns = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos() as i128;
    let data = std::fs::read(path).ok()?;
    Some(Dep { path: path.to_string(), size: meta.len(), mtime_ns, sha256: crate::files::sha256_hex(&data) })
}

/// True if the dependency is unchanged: same size and mtime, or same content.
fn dep_unchanged(d: &Dep) -> bool {
    let Ok(meta) = std::fs::metadata(&d.path) else { return false };
    if meta.len() != d.size {
        return false;
    }
    let mtime =
        meta.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok()).map(|m| m.as_nanos() as i128);
    if mtime == Some(d.mtime_ns) {
        return true;
    }
    std::fs::read(&d.path).map(|data| crate::files::sha256_hex(&data) == d.sha256).unwrap_or(false)
}

/// Parse a Makefile-style dependency file (`obj: a.c b.h \` …) into its prerequisites.
pub fn parse_depfile(text: &str) -> Vec<String> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let Some((_, rest)) = joined.split_once(": ") else { return Vec::new() };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                cur.push(' ');
                chars.next();
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A compiled object: its path, whether it was compiled now (not reused),
/// and the compiler's run time.
type Compiled = (Utf8PathBuf, bool, Duration);

struct Job<'a> {
    ext: usize,
    wasi: bool,
    source: &'a Utf8Path,
    tool: &'a cc::Tool,
    /// The compiler and added arguments for a source that turns out to call
    /// setjmp/longjmp ([`sjlj_compiler`]); `None` without an exnref compiler.
    sjlj: Option<(Utf8PathBuf, Vec<String>)>,
}

impl Job<'_> {
    /// The job's compiler command, or with `sjlj` the setjmp/longjmp one.
    fn command(&self, sjlj: bool) -> Command {
        match (&self.sjlj, sjlj) {
            (Some((compiler, extra)), true) => {
                let mut c = Command::new(compiler);
                c.args(self.tool.args());
                for (k, v) in self.tool.get_envs() {
                    c.env(k, v);
                }
                c.args(extra);
                c
            }
            _ => self.tool.to_command(),
        }
    }
}

/// Compile every source of `exts` into objects under `obj_dir`, `opts.jobs`
/// at a time, reusing unchanged objects. `python_includes` are the target
/// CPython's include directories. Returns, for each extension, its objects
/// (in source order) or, for an optional module that failed, its error; and
/// what was done.
///
/// Errors: [`Error::CompileFailed`] with the compiler's diagnostics (file and line)
/// for the first failing source; [`Error::Toolchain`] when the compiler cannot
/// be run; [`Error::Project`] for a missing source file.
pub fn compile(
    tc: &Toolchain,
    exts: &[ExtensionSpec],
    python_includes: &[Utf8PathBuf],
    obj_dir: &Utf8Path,
    opts: &CompileOptions,
) -> Result<(Vec<Result<Vec<Utf8PathBuf>>>, BuildStats)> {
    std::fs::create_dir_all(obj_dir).context(|| format!("cannot create the build directory {obj_dir}"))?;
    // One compiler command per (extension, language).
    let bases = [(Language::C, cc_build(tc, Language::C, opts)), (Language::Cxx, cc_build(tc, Language::Cxx, opts))];
    let mut tools: Vec<Vec<(Language, cc::Tool)>> = Vec::new();
    for ext in exts {
        let mut per = Vec::new();
        for (lang, base) in &bases {
            let needed = ext.sources.iter().any(|s| source_language(s, ext.language) == *lang);
            if needed {
                per.push((*lang, compiler_for(tc, base, ext, python_includes)?));
            }
        }
        tools.push(per);
    }
    let mut jobs = Vec::new();
    for (i, ext) in exts.iter().enumerate() {
        for s in &ext.sources {
            if !s.is_file() {
                return Err(Error::project(
                    s,
                    format!(
                        "source file of extension module `{}` does not exist: fix `sources` in \
                         [[tool.wasiwheel.ext-modules]]",
                        ext.name
                    ),
                ));
            }
            let lang = source_language(s, ext.language);
            let tool = &tools[i].iter().find(|(l, _)| *l == lang).expect("tool for language").1;
            // C++ is lowered only with the runtime's compiler (which compiles it
            // already, with exceptions); C with any exnref compiler.
            let sjlj = match tc {
                Toolchain::Wasi { sdk, target, cxx_eh, sjlj: Some(cc) } => match (lang, cxx_eh) {
                    (Language::Cxx, Some(rt)) => Some(sjlj_compiler(sdk, *target, &rt.compiler, lang)),
                    (Language::Cxx, None) => None,
                    _ => Some(sjlj_compiler(sdk, *target, cc, lang)),
                },
                _ => None,
            };
            jobs.push(Job { ext: i, wasi: matches!(tc, Toolchain::Wasi { .. }), source: s, tool, sjlj });
        }
    }
    let results: Mutex<Vec<Option<Result<Compiled>>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    // A failure of a required module stops the build; an optional module's
    // failure only drops that module.
    let failed = std::sync::atomic::AtomicBool::new(false);
    let workers = opts.jobs.max(1).min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= jobs.len() || failed.load(Ordering::SeqCst) {
                    break;
                }
                let r = compile_one(&jobs[i], obj_dir, opts);
                if r.is_err() && !exts[jobs[i].ext].optional {
                    failed.store(true, Ordering::SeqCst);
                }
                results.lock().expect("no poisoned lock")[i] = Some(r);
            });
        }
    });
    let mut stats = BuildStats::default();
    let mut objects: Vec<Result<Vec<Utf8PathBuf>>> = exts.iter().map(|_| Ok(Vec::new())).collect();
    for (job, r) in jobs.iter().zip(results.into_inner().expect("no poisoned lock")) {
        match r {
            Some(Ok((obj, compiled, t))) => {
                if compiled {
                    stats.compiled += 1;
                } else {
                    stats.reused += 1;
                }
                stats.tool_time += t;
                if let Ok(objs) = &mut objects[job.ext] {
                    objs.push(obj);
                }
            }
            Some(Err(e)) if exts[job.ext].optional && objects[job.ext].is_ok() => objects[job.ext] = Err(e),
            Some(Err(_)) if exts[job.ext].optional => {} // the module's first error is kept
            Some(Err(e)) => return Err(e),
            None => {} // not started because another job failed first
        }
    }
    Ok((objects, stats))
}

fn command_line(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().to_string();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Compile one source unless its object is up to date. Returns the object,
/// whether it was compiled, and the compiler's run time.
///
/// For a WASI toolchain with `opts.fpcast_repair`, the compile also asks for
/// `-Wcast-function-type-strict` (its warnings are not shown unless the
/// project asked for them); a source that has such casts is analysed and, if
/// some need adapters, a rewritten copy is compiled instead (see
/// [`crate::crossbuild::fpcast`]). The repair is part of the object's key and
/// the original source part of its stamp.
fn compile_one(job: &Job, obj_dir: &Utf8Path, opts: &CompileOptions) -> Result<Compiled> {
    let repair = job.wasi && opts.fpcast_repair;
    let mut key_material = format!(
        "{}\n{:?}\n{:?}\n{}{}",
        job.tool.path().display(),
        job.tool.args(),
        job.tool.get_envs().collect::<Vec<_>>(),
        job.source,
        if repair { format!("\nfpcast-repair {}", fpcast::VERSION) } else { String::new() }
    );
    // The object's name goes into static archives: the build paths mapped out
    // of objects are mapped out of their names too, so that wheels do not
    // depend on the directory they were built in.
    for (from, to) in &opts.prefix_maps {
        key_material = key_material.replace(from.as_str(), to);
    }
    let key = &crate::files::sha256_hex(key_material.as_bytes())[..16];
    let stem = job.source.file_stem().unwrap_or("src");
    let obj = obj_dir.join(format!("{stem}-{key}.o"));
    let depfile = obj_dir.join(format!("{stem}-{key}.d"));
    let stamp = obj_dir.join(format!("{stem}-{key}.stamp"));
    if obj.exists() {
        if let Ok(text) = std::fs::read_to_string(&stamp) {
            if let Ok(deps) = serde_json::from_str::<Vec<Dep>>(&text) {
                if !deps.is_empty() && deps.iter().all(dep_unchanged) {
                    return Ok((obj, false, Duration::ZERO));
                }
            }
        }
    }
    let _ = std::fs::remove_file(&stamp);
    let asked_for_warning = job.tool.args().iter().any(|a| a == fpcast::WARNING_FLAG || a == "-Weverything");
    let first = |sjlj: bool| {
        let mut cmd = job.command(sjlj);
        if repair && !asked_for_warning {
            cmd.args([fpcast::WARNING_FLAG, "-Wno-error=cast-function-type-strict"]);
        }
        cmd.args(["-MD", "-MF", depfile.as_str(), "-c", job.source.as_str(), "-o", obj.as_str()]);
        cmd
    };
    // A source that includes <setjmp.h> is refused by wasi-libc unless compiled
    // with exception handling: compile it again with the setjmp/longjmp lowering.
    let mut sjlj = false;
    let (diagnostics, mut took) = match run_compiler(job, first(false), &obj, opts, "") {
        Err(Error::CompileFailed { diagnostics, .. }) if job.sjlj.is_some() && needs_sjlj(&diagnostics) => {
            sjlj = true;
            if opts.verbose {
                crate::progress::status(&format!(
                    "{}: calls setjmp/longjmp, compiling with -mllvm -wasm-enable-sjlj",
                    job.source
                ));
            }
            run_compiler(job, first(true), &obj, opts, "")?
        }
        r => r?,
    };
    let shown =
        if repair && !asked_for_warning { fpcast::strip_cast_warnings(&diagnostics) } else { diagnostics.clone() };
    if !shown.trim().is_empty() {
        eprint!("{shown}");
    }
    let mut extra_deps = Vec::new();
    if repair {
        let copy = obj_dir.join(format!("{stem}-{key}.fpcast.{}", job.source.extension().unwrap_or("c")));
        let analyse = || job.command(sjlj);
        if fpcast_copy(&analyse, job.source, &diagnostics, &copy, &mut took)? {
            let mut cmd = job.command(sjlj);
            if let Some(dir) = job.source.parent() {
                cmd.arg("-iquote").arg(if dir.as_str().is_empty() { "." } else { dir.as_str() });
            }
            cmd.args(["-MD", "-MF", depfile.as_str(), "-c", copy.as_str(), "-o", obj.as_str()]);
            let hint = "\nhint: this is wasiwheel's rewritten copy of the source (function-pointer cast repair, \
                        docs/toolchains.md); build with -C fpcast-repair=false to compile the original";
            let (_, t) = run_compiler(job, cmd, &obj, opts, hint)?;
            took += t;
            extra_deps.extend(dep_of(job.source.as_str()));
        }
    }
    // Record the inputs (the source and every header) for the next build.
    let mut deps: Vec<Dep> = std::fs::read_to_string(&depfile)
        .map(|t| parse_depfile(&t))
        .unwrap_or_default()
        .iter()
        .filter_map(|p| dep_of(p))
        .collect();
    deps.extend(extra_deps);
    if !deps.is_empty() {
        let _ = std::fs::write(&stamp, serde_json::to_string(&deps).unwrap_or_default());
    }
    Ok((obj, true, took))
}

/// Run one compile command; returns its diagnostics and run time.
///
/// Errors: [`Error::Toolchain`] when the compiler cannot be started,
/// [`Error::CompileFailed`] (with `extra_hint` appended) when it fails.
fn run_compiler(
    job: &Job,
    mut cmd: Command,
    obj: &Utf8Path,
    opts: &CompileOptions,
    extra_hint: &str,
) -> Result<(String, Duration)> {
    if opts.verbose {
        crate::progress::status(&command_line(&cmd));
    }
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| Error::Toolchain(format!("cannot run the compiler {}: {e}", job.tool.path().display())))?;
    let took = start.elapsed();
    let diagnostics = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        let _ = std::fs::remove_file(obj);
        let hint = if job.wasi { wasi_hint(&diagnostics).map(|h| format!("\nhint: {h}")) } else { None };
        return Err(Error::CompileFailed {
            source_file: job.source.to_path_buf(),
            status: out.status.to_string(),
            diagnostics: diagnostics.trim_end().to_string(),
            hint: format!("{}{extra_hint}", hint.unwrap_or_default()),
            command: command_line(&cmd),
        });
    }
    Ok((diagnostics, took))
}

/// The function-pointer cast repair of one source: when the first compile's
/// `diagnostics` or the source text show casts worth analysing, read clang's
/// AST dump of `source` (compiled with `compiler()`, a command with the
/// compile's flags and no source, output or dependency-file arguments), print
/// the casts that cannot be repaired, and write the rewritten source to
/// `copy` if any cast needs an adapter. Returns whether it wrote `copy`
/// (`false`: the object compiled from the original source is right as it is).
/// Adds the analysis time to `took`. Used by wasiwheel's own builds and by the
/// cross environment's compiler wrappers, so foreign builds get the repair too.
///
/// Errors: [`Error::Toolchain`] when clang cannot produce or wasiwheel cannot
/// read the AST dump; [`Error::Io`] when the copy cannot be written.
pub(crate) fn fpcast_copy(
    compiler: &dyn Fn() -> Command,
    source: &Utf8Path,
    diagnostics: &str,
    copy: &Utf8Path,
    took: &mut Duration,
) -> Result<bool> {
    let bytes = std::fs::read(source).context(|| format!("cannot read {source}"))?;
    let Ok(text) = String::from_utf8(bytes) else {
        if diagnostics.contains("[-Wcast-function-type-strict]") {
            eprintln!(
                "{}: warning: wasiwheel: the source is not UTF-8, so its function-pointer casts were not \
                 repaired; calls through them may trap on WebAssembly",
                source
            );
        }
        return Ok(false);
    };
    if !fpcast::needs_analysis(diagnostics, &text) {
        return Ok(false);
    }
    let start = Instant::now();
    let mut cmd = compiler();
    cmd.args(["-fsyntax-only", "-Xclang", "-ast-dump=json", source.as_str()]);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    let what = || format!("the function-pointer cast analysis of {} (clang -Xclang -ast-dump=json)", source);
    let mut child = cmd.spawn().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", what())))?;
    let stdout = child.stdout.take().expect("piped stdout");
    // The dump nests as deep as the code does: parse it on a thread with a large stack.
    let parsed = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, move || fpcast::parse_ast(stdout))
            .map(|h| h.join().unwrap_or_else(|_| Err("the reader panicked".to_string())))
    })
    .map_err(|e| Error::Toolchain(format!("cannot start {}: {e}", what())))?;
    let status = child.wait().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", what())))?;
    if !status.success() {
        return Err(Error::Toolchain(format!(
            "{} failed ({status}); build with -C fpcast-repair=false to skip it",
            what()
        )));
    }
    let ast = parsed.map_err(|e| Error::Toolchain(format!("cannot read {}: {e}", what())))?;
    let analysis = fpcast::analyze(&ast, source.as_str());
    *took += start.elapsed();
    for w in &analysis.warnings {
        eprintln!("{w}");
    }
    if analysis.adapters.is_empty() {
        return Ok(false);
    }
    let rewritten = fpcast::rewrite(&text, source.as_str(), &analysis)
        .map_err(|e| Error::Toolchain(format!("cannot repair the function-pointer casts of {source}: {e}")))?;
    std::fs::write(copy, rewritten).context(|| format!("cannot write {copy}"))?;
    Ok(true)
}

/// What WASI lacks, recognised in a compiler's diagnostics: the header or
/// function that failed and the WASI limit behind it, as one sentence.
/// `None` when the failure looks unrelated to WASI.
pub fn wasi_hint(diagnostics: &str) -> Option<&'static str> {
    const HINTS: &[(&[&str], &str)] = &[
        (
            &["with exceptions disabled", "exception handling disabled"],
            "the C++ code throws or catches exceptions, and wasiwheel compiled it with -fno-exceptions: either \
             -C cxx-exceptions=false was given (remove it), the target is wasm32-wasip2 (componentize-py cannot \
             load a dylib that uses exceptions), or this SDK has no exception-enabled C++ runtime and none can be \
             built here (the build's first lines say why; docs/toolchains.md, \"C++ exceptions\")",
        ),
        (&["pthread", "<threads.h>", "thrd_"], "WASI (wasm32-wasip1) has no threads; build the package without them"),
        (
            &["sys/mman.h", "mmap", "munmap", "mprotect"],
            "wasi-libc has no mmap; its emulation needs -D_WASI_EMULATED_MMAN and -lwasi-emulated-mman \
             (anonymous, private mappings only)",
        ),
        (
            &["signal.h", "sigaction", "SIGALRM", "SIGKILL", "raise(", "sigset_t"],
            "WASI has no signals; wasi-libc emulates signal()/raise() with -D_WASI_EMULATED_SIGNAL and \
             -lwasi-emulated-signal",
        ),
        (
            &["fork", "execv", "waitpid", "posix_spawn", "sys/wait.h"],
            "WASI has no processes: fork, exec and wait are \
            missing",
        ),
        (
            &["sys/socket.h", "netinet/", "arpa/inet.h", "netdb.h", "getaddrinfo"],
            "WASI preview1 has no sockets (wasm32-wasip2 has some)",
        ),
        (&["dlfcn.h", "dlopen", "dlsym"], "WASI has no dynamic loading in wasm32-wasip1"),
        (
            &["setjmp", "longjmp", "Setjmp/longjmp"],
            "setjmp/longjmp need WebAssembly exception handling, and this build has none: either -C \
             cxx-exceptions=false was given (remove it), the target is wasm32-wasip2 (componentize-py cannot \
             load a dylib that uses it), or this SDK has no compiler that emits the exnref encoding \
             (docs/toolchains.md, \"C++ exceptions\")",
        ),
        (
            &["getpid"],
            "WASI has no process ids; wasi-libc emulates getpid() with -D_WASI_EMULATED_GETPID and \
            -lwasi-emulated-getpid",
        ),
        (
            &["clock()", "times(", "CLOCKS_PER_SEC", "getrusage"],
            "WASI's process clocks are emulated: -D_WASI_EMULATED_PROCESS_CLOCKS and -lwasi-emulated-process-clocks",
        ),
        (&["termios", "tcgetattr", "ioctl", "pty.h"], "WASI has no terminals (termios, ioctl)"),
        (&["getpwnam", "getuid", "pwd.h", "grp.h"], "WASI has no users or groups"),
    ];
    let lower = diagnostics.lines().filter(|l| l.contains("error")).collect::<Vec<_>>().join("\n");
    HINTS.iter().find(|(needles, _)| needles.iter().any(|n| lower.contains(n))).map(|(_, h)| *h)
}

/// The stamp of a link or archive step: its command line and the size and
/// mtime of every input, so an unchanged step is not run again.
fn step_stamp(cmd: &Command, inputs: &[Utf8PathBuf]) -> String {
    let mut s = command_line(cmd);
    for i in inputs {
        let meta = std::fs::metadata(i).ok();
        let mtime = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        s.push_str(&format!("\n{i} {} {mtime}", meta.map(|m| m.len()).unwrap_or(0)));
    }
    s
}

/// Run `cmd` producing `out` from `inputs`, unless `out` exists and was made
/// by the same command from the same inputs (recorded in `out.stamp`).
fn run_step(cmd: Command, out: &Utf8Path, inputs: &[Utf8PathBuf], what: &str, verbose: bool) -> Result<Duration> {
    let stamp_path = Utf8PathBuf::from(format!("{out}.stamp"));
    let stamp = step_stamp(&cmd, inputs);
    if out.exists() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(Duration::ZERO);
    }
    let _ = std::fs::remove_file(&stamp_path);
    let t = run_tool(cmd, what, verbose)?;
    let _ = std::fs::write(&stamp_path, stamp);
    Ok(t)
}

fn run_tool(mut cmd: Command, what: &str, verbose: bool) -> Result<Duration> {
    if verbose {
        crate::progress::status(&command_line(&cmd));
    }
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", cmd.get_program().to_string_lossy())))?;
    let took = start.elapsed();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(Error::ToolFailed {
            what: what.to_string(),
            status: out.status.to_string(),
            output: text.trim_end().to_string(),
            command: command_line(&cmd),
        });
    }
    if verbose && !text.trim().is_empty() {
        eprint!("{text}");
    }
    Ok(took)
}

/// Libraries that are part of wasi-libc itself (no separate link needed in a
/// dylib: the runtime's libc provides them).
const LIBC_PARTS: &[&str] = &["c", "m", "dl", "rt", "pthread", "util", "crypt", "resolv", "xnet"];

/// Link `objects` into the loadable extension file `out`: a shared library on
/// the host, a wasm dylib (with a `dylink.0` section; Python and libc symbols
/// left as imports) for WASI. Returns the linker's run time.
///
/// Errors: [`Error::ToolFailed`] with the linker's output.
pub fn link_extension(
    tc: &Toolchain,
    ext: &ExtensionSpec,
    objects: &[Utf8PathBuf],
    out: &Utf8Path,
    opts: &CompileOptions,
) -> Result<Duration> {
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).context(|| format!("cannot create {p}"))?;
    }
    let mut cmd = match tc {
        Toolchain::Host => {
            let tool = cc_build(tc, ext.language, opts)
                .try_get_compiler()
                .map_err(|e| Error::Toolchain(format!("cannot set up the host linker: {e}")))?;
            let mut c = tool.to_command();
            c.arg("-shared");
            c.args(objects.iter().map(|o| o.as_str()));
            for l in &ext.libraries {
                c.arg(format!("-l{l}"));
            }
            c
        }
        Toolchain::Wasi { sdk, target, .. } => {
            let mut c = Command::new(sdk.wasm_ld());
            c.args(["--shared", "--experimental-pic", "--unresolved-symbols=import-dynamic", "--no-entry"]);
            c.arg(format!("--export={}", ext.init_symbol()));
            c.args(objects.iter().map(|o| o.as_str()));
            c.arg(format!("-L{}", sdk.sysroot().join("lib").join(target.sysroot_subdir())));
            for l in ext.libraries.iter().filter(|l| !LIBC_PARTS.contains(&l.as_str())) {
                c.arg(format!("-l{l}"));
            }
            c
        }
    };
    match tc {
        Toolchain::Host => {
            cmd.args(&ext.extra_link_args);
        }
        // wasm-ld is called directly: `-Wl,a,b` (for a compiler driver) becomes `a b`.
        Toolchain::Wasi { .. } => {
            for a in &ext.extra_link_args {
                match a.strip_prefix("-Wl,") {
                    Some(rest) => cmd.args(rest.split(',')),
                    None => cmd.arg(a),
                };
            }
        }
    }
    cmd.args(["-o", out.as_str()]);
    run_step(cmd, out, objects, &format!("linking extension module `{}`", ext.name), opts.verbose)
}

/// Write the static archive `out` of the extension module `module` for static
/// relinking: `inputs` (its objects, or an archive of them) combined into one
/// relocatable object whose symbols are kept apart from other modules' and
/// CPython's ([`objlink::namespace_objects`]: everything local but the init
/// function, which is renamed [`objlink::unique_init`]), then archived with
/// the SDK's `llvm-ar` (deterministic: zero timestamps and owners) as the
/// archive's one member. Returns the linker's and archiver's run time.
///
/// Errors: [`Error::ToolFailed`] with the linker's or archiver's output; as
/// [`objlink::namespace_objects`] when the objects define no `PyInit_{leaf}`.
pub fn archive(sdk: &WasiSdk, module: &str, inputs: &[Utf8PathBuf], out: &Utf8Path, verbose: bool) -> Result<Duration> {
    let dir = out.parent().unwrap_or(Utf8Path::new("."));
    std::fs::create_dir_all(dir).context(|| format!("cannot create {dir}"))?;
    // The member's name is the module's; the object sits in its own directory
    // so that `llvm-ar` (which stores base names) cannot mix modules up.
    let member_dir = Utf8PathBuf::from(format!("{out}.d"));
    std::fs::create_dir_all(&member_dir).context(|| format!("cannot create {member_dir}"))?;
    let object = member_dir.join(format!("{module}.o"));
    let mut took = objlink::namespace_objects(sdk, inputs, module, &object, verbose)?;
    let mut cmd = Command::new(sdk.ar());
    cmd.arg("rcsD").arg(out.as_str()).arg(object.as_str());
    let objects = [object];
    let stamp = Utf8PathBuf::from(format!("{out}.stamp"));
    if !(out.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == step_stamp(&cmd, &objects))) {
        // `ar r` adds to an existing archive: start from nothing.
        let _ = std::fs::remove_file(out);
    }
    took += run_step(cmd, out, &objects, &format!("archiving {out}"), verbose)?;
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_hint() {
        let h = wasi_hint("x.cpp:3:5: error: cannot use 'throw' with exceptions disabled").expect("a hint");
        assert!(h.contains("-C cxx-exceptions=false"), "{h}");
        assert!(wasi_hint("error: foo").is_none());
    }

    #[test]
    fn depfile() {
        let d = "obj.o: src/a.c include/x\\ y.h \\\n  /usr/include/stdio.h\n";
        assert_eq!(parse_depfile(d), vec!["src/a.c", "include/x y.h", "/usr/include/stdio.h"]);
    }
}
