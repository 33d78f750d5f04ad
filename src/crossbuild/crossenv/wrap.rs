//! The compiler, linker and archiver wrappers of the cross environment
//! (`wasiwheel cc|c++|ar|ranlib ARGS…`, run by the scripts on `PATH`).
//!
//! * compile (`-c`, `-S`, `-E`): the SDK's clang for the target with
//!   [`compile::wasi_flags`] (`-fPIC`, …), the wasi-libc emulations
//!   ([`EMULATIONS`]) and the target CPython's headers first; host-only flags
//!   (`-march`, `-pthread`, `-flto`, …) are dropped, and a flag that names
//!   the build machine's headers or libraries is refused
//!   ([`super::hostdirs`]). A
//!   one-source `-c` compile gets the function-pointer cast repair of
//!   wasiwheel's own builds ([`compile::fpcast_copy`]). A
//!   failure prints clang's diagnostics and a hint naming what WASI lacks, and
//!   is recorded for the final error message.
//! * `-shared` link: the objects become a wasm dylib as
//!   [`compile::link_extension`] links wasiwheel's own extensions, plus a
//!   static archive of the same objects; both are recorded (by the dylib's
//!   sha256) for the manifest.
//! * other links (configure-style checks, meson's sanity check): a wasm
//!   command module with the emulation libraries.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::Context;
use crate::crossbuild::compile::{self, CompileOptions, ExtensionSpec, Toolchain};
use crate::crossbuild::fpcast;
use crate::error::{Error, IoContext, Result};
use crate::model::lang::{Language, Profile};
use crate::toolchain::sdk::WasiSdk;

/// The wasi-libc emulations real code needs: (define, library).
pub const EMULATIONS: &[(&str, &str)] = &[
    ("_WASI_EMULATED_SIGNAL", "wasi-emulated-signal"),
    ("_WASI_EMULATED_MMAN", "wasi-emulated-mman"),
    ("_WASI_EMULATED_PROCESS_CLOCKS", "wasi-emulated-process-clocks"),
    ("_WASI_EMULATED_GETPID", "wasi-emulated-getpid"),
];

/// wasi-libc's pthread stubs (`pthread_create` fails at run time), where the
/// SDK has them: projects that merely find or link threads then build.
const PTHREAD_EMULATION: (&str, &str) = ("_WASI_EMULATED_PTHREAD", "wasi-emulated-pthread");

/// The emulations for `sdk`: [`EMULATIONS`], and the pthread stubs where it has them.
pub(super) fn emulations(ctx: &Context, sdk: &WasiSdk) -> Vec<(&'static str, &'static str)> {
    let mut v = EMULATIONS.to_vec();
    let lib = sdk.sysroot().join("lib").join(ctx.target.sysroot_subdir()).join("libwasi-emulated-pthread.a");
    if lib.exists() {
        v.push(PTHREAD_EMULATION);
    }
    v
}

/// Library names that mean the C++ runtime (libc++, libc++abi, libunwind on
/// WASI, linked by the interpreter's link) or parts of wasi-libc.
pub(super) const IMPLICIT_LIBS: &[&str] =
    &["stdc++", "c++", "c++abi", "supc++", "unwind", "gcc", "gcc_s", "c", "m", "dl", "rt", "pthread", "util"];

/// A failed compile, as recorded by the wrapper for `wasiwheel build`'s error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// The source file.
    pub source: String,
    /// The exit status.
    pub status: String,
    /// clang's diagnostics.
    pub diagnostics: String,
    /// The WASI hint, if one applies.
    pub hint: Option<String>,
    /// The command line.
    pub command: String,
    /// The directory it ran in.
    #[serde(default)]
    pub cwd: String,
    /// A crate that rustc failed to compile for the target (any crate of the
    /// graph is the build's own: cargo compiles no configure-style probes).
    #[serde(default)]
    pub rust: bool,
}

impl Failure {
    /// As [`Error::CompileFailed`].
    pub fn into_error(self) -> Error {
        Error::CompileFailed {
            source_file: Utf8PathBuf::from(self.source),
            status: self.status,
            diagnostics: self.diagnostics,
            hint: self.hint.map(|h| format!("\nhint: {h}")).unwrap_or_default(),
            command: self.command,
        }
    }
}

/// A `-shared` link done by the wrapper: what the manifest needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkRecord {
    /// The module's base name (`_speedups`), from the output file name.
    pub basename: String,
    /// The static archive of the same objects.
    pub archive: Utf8PathBuf,
    /// Libraries to link it with statically.
    pub libraries: Vec<String>,
    /// C++ (the interpreter then links libc++).
    pub cxx: bool,
}

/// Where CMake and meson compile their configure-time probes.
const PROBE_DIRS: &[&str] = &["CMakeScratch", "CMakeTmp", "meson-private", "CompilerIdC", "CompilerIdCXX"];

/// The compile failures recorded in `state`, oldest first, without those of
/// links and of configure-style probes (CMake's and meson's scratch builds).
pub fn failures(state: &Utf8Path) -> Vec<Failure> {
    let dir = state.join("failures");
    let mut files: Vec<Utf8PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| serde_json::from_str::<Failure>(&t).ok())
        .filter(|f| {
            !f.source.is_empty()
                && !PROBE_DIRS.iter().any(|p| f.command.contains(p) || f.cwd.contains(p) || f.source.contains(p))
        })
        .collect()
}

impl Failure {
    /// Whether the failed source lies in the project tree `project` (a
    /// project's own or generated source, not a configure-style probe that a
    /// build system compiles in a temporary directory, such as meson's
    /// `compiler.preprocess` or `has_header` checks).
    pub fn in_project(&self, project: &Utf8Path) -> bool {
        let src = std::path::Path::new(&self.source);
        let abs = if src.is_absolute() { src.to_path_buf() } else { std::path::Path::new(&self.cwd).join(src) };
        // Resolved through the file system where the path exists, else lexically.
        let canon = |p: &std::path::Path| {
            std::fs::canonicalize(p).unwrap_or_else(|_| {
                let mut out = std::path::PathBuf::new();
                for c in p.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            out.pop();
                        }
                        std::path::Component::CurDir => {}
                        c => out.push(c),
                    }
                }
                out
            })
        };
        canon(&abs).starts_with(canon(project.as_std_path()))
    }
}

/// The record of the dylib with sha256 `sha`, if a wrapper linked it.
pub fn link_record(state: &Utf8Path, sha: &str) -> Option<LinkRecord> {
    let t = std::fs::read_to_string(state.join("links").join(format!("{sha}.json"))).ok()?;
    serde_json::from_str(&t).ok()
}

fn is_source(a: &str) -> bool {
    [".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".m", ".s", ".S"].iter().any(|e| a.ends_with(e)) && !a.starts_with('-')
}

/// True for flags that only make sense for the host, or that the target's
/// builds cannot honour: link-time optimisation (`-flto…`), because every
/// object must be a wasm object (the static archives are rewritten for symbol
/// namespaces, and clang 22's bitcode, from the exnref compiler, is not
/// readable by an SDK 25 `wasm-ld`).
fn host_only(a: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "-march=",
        "-mtune=",
        "-mcpu=",
        "-msse",
        "-mavx",
        "-mfma",
        "-mpopcnt",
        "-mbmi",
        "-fstack-protector",
        "-flto",
        "-ffat-lto-objects",
        "-fno-fat-lto-objects",
    ];
    if ["-pthread", "-m64", "-m32", "-fexceptions", "-fcf-protection", "-fstack-clash-protection"].contains(&a)
        || PREFIXES.iter().any(|p| a.starts_with(p))
    {
        return true;
    }
    false
}

/// The arguments without host-only flags (`-I DIR` pairs are joined first).
fn filter_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if (a == "-I" || a == "-isystem") && i + 1 < args.len() {
            let joined = format!("{a}{}", args[i + 1]);
            if !host_only(&joined) {
                out.push(a.clone());
                out.push(args[i + 1].clone());
            }
            i += 2;
            continue;
        }
        if !host_only(a) {
            out.push(a.clone());
        }
        i += 1;
    }
    out
}

/// The clang command for the context: target, sysroot, wasiwheel's flags
/// ([`compile::wasi_compiler`]: for C++ with the context's exception-enabled
/// runtime, its exnref compiler and headers), the emulations and the
/// target's headers; with `sjlj`, the compiler and flags for a source that
/// calls setjmp/longjmp ([`compile::sjlj_compiler`], needs the context's
/// exnref compiler).
fn clang(ctx: &Context, sdk: &WasiSdk, cxx: bool, sjlj: bool) -> Command {
    let lang = if cxx { Language::Cxx } else { Language::C };
    let (mut compiler, mut args) = compile::wasi_compiler(sdk, ctx.target, ctx.cxx_eh.as_ref(), lang);
    if let (true, Some(rt)) = (sjlj, &ctx.cxx_eh) {
        let (c, extra) = compile::sjlj_compiler(sdk, ctx.target, &rt.compiler, lang);
        compiler = c;
        args.extend(extra);
    }
    let mut c = Command::new(compiler);
    c.arg(format!("--target={}", ctx.target.triple())).arg(format!("--sysroot={}", sdk.sysroot()));
    c.args(args);
    for (d, _) in emulations(ctx, sdk) {
        c.arg(format!("-D{d}"));
    }
    c.arg(format!("-I{}", ctx.include));
    c
}

/// Run the compile `make(sjlj)` builds, first without the setjmp/longjmp
/// lowering and, when wasi-libc refuses `<setjmp.h>` for want of it
/// ([`compile::needs_sjlj`]) and the context has an exnref compiler, again
/// with it (the first attempt's refusal is neither shown nor recorded).
/// Returns the exit status, the diagnostics and whether the lowering was used.
fn run_compiler_sjlj(
    ctx: &Context,
    make: &dyn Fn(bool) -> Command,
    sources: &[&str],
    strip_casts: bool,
) -> Result<(i32, String, bool)> {
    let retry = ctx.cxx_eh.is_some();
    match run_compiler_output(ctx, &mut make(false), sources, strip_casts, retry)? {
        Some((status, diagnostics)) => Ok((status, diagnostics, false)),
        None => {
            if ctx.verbose {
                crate::progress::status(&format!(
                    "{}: calls setjmp/longjmp, compiling with -mllvm -wasm-enable-sjlj",
                    sources.first().copied().unwrap_or("the source")
                ));
            }
            let (status, diagnostics) =
                run_compiler_output(ctx, &mut make(true), sources, strip_casts, false)?.expect("no retry asked");
            Ok((status, diagnostics, true))
        }
    }
}

pub(super) fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

/// Run `cmd`, passing its output through; on failure print and record a hint.
fn run_compiler(ctx: &Context, cmd: &mut Command, sources: &[&str]) -> Result<i32> {
    Ok(run_compiler_output(ctx, cmd, sources, false, false)?.expect("no retry asked").0)
}

/// As [`run_compiler`], and returns the diagnostics too; with `strip_casts`
/// the `-Wcast-function-type-strict` warnings wasiwheel asked for are not
/// shown. With `sjlj_retry`, a failure that is wasi-libc's refusal of
/// `<setjmp.h>` ([`compile::needs_sjlj`]) returns `None` without showing or
/// recording anything, for the caller to compile again with the lowering.
fn run_compiler_output(
    ctx: &Context,
    cmd: &mut Command,
    sources: &[&str],
    strip_casts: bool,
    sjlj_retry: bool,
) -> Result<Option<(i32, String)>> {
    if ctx.verbose {
        crate::progress::status(&command_line(cmd));
    }
    let out = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", command_line(cmd))))?;
    let diagnostics = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if sjlj_retry && !out.status.success() && compile::needs_sjlj(&diagnostics) {
        return Ok(None);
    }
    use std::io::Write;
    if strip_casts {
        let _ = std::io::stderr().write_all(fpcast::strip_cast_warnings(&diagnostics).as_bytes());
    } else {
        let _ = std::io::stdout().write_all(&out.stdout);
        let _ = std::io::stderr().write_all(&out.stderr);
    }
    if out.status.success() {
        return Ok(Some((0, diagnostics)));
    }
    let hint = compile::wasi_hint(&diagnostics).map(str::to_string);
    if let Some(h) = &hint {
        eprintln!("wasiwheel: hint: {h}");
    }
    let failure = Failure {
        source: sources.first().map(|s| s.to_string()).unwrap_or_default(),
        status: out.status.to_string(),
        diagnostics: diagnostics.trim_end().to_string(),
        hint,
        command: command_line(cmd),
        cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
        rust: false,
    };
    record_failure(ctx, &failure)?;
    Ok(Some((out.status.code().unwrap_or(1), diagnostics)))
}

/// Record `failure` in the cross environment's state (`failures/`), for
/// [`failures`] to report when the backend fails.
///
/// Errors: [`Error::Io`] when the state directory cannot be written.
pub fn record_failure(ctx: &Context, failure: &Failure) -> Result<()> {
    let dir = ctx.state.join("failures");
    std::fs::create_dir_all(&dir).context(|| format!("cannot create {dir}"))?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let f = dir.join(format!("{stamp:024}-{}.json", std::process::id()));
    std::fs::write(&f, serde_json::to_vec_pretty(failure).expect("serialisable"))
        .context(|| format!("cannot write {f}"))
}

/// The compile arguments `args` of `source` without the source itself, the
/// output (`-o FILE`), `-c` and dependency-file generation (`-MD`, `-MMD`,
/// `-MF/-MT/-MQ FILE`): the flags under which clang dumps the source's AST.
fn analysis_flags(args: &[String], source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if ["-o", "-MF", "-MT", "-MQ"].contains(&a) {
            i += 2;
            continue;
        }
        let joined_dep = ["-MF", "-MT", "-MQ"].iter().any(|f| a.starts_with(f)) || a.starts_with("-o");
        if a == source || a == "-c" || a == "-MD" || a == "-MMD" || joined_dep {
            i += 1;
            continue;
        }
        out.push(args[i].clone());
        i += 1;
    }
    out
}

/// Compile the one `source` of `args` (`-c`) with the function-pointer cast
/// repair that wasiwheel's own builds get ([`compile::fpcast_copy`]): the
/// first compile also asks for `-Wcast-function-type-strict` (its warnings are
/// shown only if the project asked for them); when the source has casts that
/// need adapters, the rewritten copy (under the state's `fpcast/`) is compiled
/// to the same output, with the source's directory for its `"…"` includes.
/// Returns the exit status to exit with.
///
/// Errors: [`Error::Toolchain`] when clang cannot be run or its AST dump read.
fn compile_repaired(ctx: &Context, sdk: &WasiSdk, cxx: bool, args: &[String], source: &str) -> Result<i32> {
    let asked = args.iter().any(|a| a == fpcast::WARNING_FLAG || a == "-Weverything");
    let first = |sjlj: bool| {
        let mut cmd = clang(ctx, sdk, cxx, sjlj);
        cmd.args(args);
        if !asked {
            cmd.args([fpcast::WARNING_FLAG, "-Wno-error=cast-function-type-strict"]);
        }
        cmd
    };
    let (status, diagnostics, sjlj) = run_compiler_sjlj(ctx, &first, &[source], !asked)?;
    if status != 0 {
        return Ok(status);
    }
    let flags = analysis_flags(args, source);
    let analyse = || {
        let mut c = clang(ctx, sdk, cxx, sjlj);
        c.args(&flags);
        c
    };
    let src = Utf8Path::new(source);
    let dir = ctx.state.join("fpcast");
    std::fs::create_dir_all(&dir).context(|| format!("cannot create {dir}"))?;
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
    let key = &crate::files::sha256_hex(format!("{cwd}\n{}", args.join("\n")).as_bytes())[..16];
    let copy = dir.join(format!("{}-{key}.{}", src.file_stem().unwrap_or("src"), src.extension().unwrap_or("c")));
    let mut took = std::time::Duration::ZERO;
    if !compile::fpcast_copy(&analyse, src, &diagnostics, &copy, &mut took)? {
        return Ok(0);
    }
    if ctx.verbose {
        crate::progress::status(&format!("{source}: compiling the copy with repaired function-pointer casts, {copy}"));
    }
    let mut cmd = clang(ctx, sdk, cxx, sjlj);
    let parent = src.parent().map(|p| p.as_str()).filter(|p| !p.is_empty()).unwrap_or(".");
    cmd.arg("-iquote").arg(parent);
    cmd.args(args.iter().map(|a| if a == source { copy.as_str() } else { a.as_str() }));
    run_compiler(ctx, &mut cmd, &[source])
}

/// Refuse `args` when a flag names a build machine's header or library
/// directory ([`hostdirs::refused`]): the refusal is recorded as the
/// compile's failure (so `wasiwheel build` ends with it) and returned.
///
/// Errors: [`Error::Toolchain`] naming the flag, what the directory is and
/// the command line.
fn refuse_host_dirs(ctx: &Context, args: &[String]) -> Result<()> {
    let cwd = std::env::current_dir().ok().and_then(|d| Utf8PathBuf::from_path_buf(d).ok()).unwrap_or_default();
    let Some((flag, what)) = super::hostdirs::refused(args, &cwd, &ctx.host_dirs, &ctx.target_dirs) else {
        return Ok(());
    };
    let message = format!(
        "`{flag}` names {what}: a compile or link for {target} must not see the build machine's headers or \
         libraries (64-bit sizes and host ABIs in a wasm32 build). It came from the project's build system (its \
         setup.py, meson.build or CMakeLists.txt, or a host tool such as pkg-config); give the target's \
         directory instead, or drop the flag",
        target = ctx.target
    );
    let sources: Vec<&str> = args.iter().map(String::as_str).filter(|a| is_source(a)).collect();
    let command = format!("cc {}", args.join(" "));
    record_failure(
        ctx,
        &Failure {
            source: sources.first().map(|s| s.to_string()).unwrap_or_default(),
            status: "refused by wasiwheel".into(),
            diagnostics: format!("wasiwheel: {message}"),
            hint: None,
            command: command.clone(),
            cwd: cwd.to_string(),
            rust: false,
        },
    )?;
    Err(Error::Toolchain(format!("{message}\n  command: {command}\n  in: {cwd}")))
}

/// `wasiwheel cc|c++ ARGS…`: compile or link for the cross environment's
/// target (see the module docs). Returns the exit status to exit with.
///
/// Errors: [`Error::Toolchain`] outside a cross environment or when the SDK
/// cannot be run; [`Error::ToolFailed`] when linking a dylib fails.
pub fn cc(args: &[String], cxx: bool) -> Result<i32> {
    let ctx = Context::load()?;
    let sdk = WasiSdk::open(&ctx.sdk)?;
    refuse_host_dirs(&ctx, args)?;
    let args = filter_args(args);
    let has = |f: &str| args.iter().any(|a| a == f);
    let sources: Vec<&str> = args.iter().map(String::as_str).filter(|a| is_source(a)).collect();
    if has("-shared") {
        return link_shared(&ctx, &sdk, &args, cxx);
    }
    if ctx.fpcast_repair && has("-c") && sources.len() == 1 && !["-S", "-E", "-fsyntax-only"].iter().any(|f| has(f)) {
        let source = sources[0].to_string();
        return compile_repaired(&ctx, &sdk, cxx, &args, &source);
    }
    let compile_only = ["-c", "-S", "-E", "-M", "-MM", "-fsyntax-only"].iter().any(|f| has(f));
    let objects = args.iter().any(|a| a.ends_with(".o") || a.ends_with(".a") || a.ends_with(".obj"));
    let program = !compile_only && (!sources.is_empty() || objects);
    let make = |sjlj: bool| {
        let mut cmd = clang(&ctx, &sdk, cxx, sjlj);
        cmd.args(&args);
        if program {
            // A program (configure checks, meson's sanity check): link the emulations.
            for (_, lib) in emulations(&ctx, &sdk) {
                cmd.arg(format!("-l{lib}"));
            }
            if let Some(rt) = &ctx.cxx_eh {
                if cxx {
                    // The exception-enabled libc++/libc++abi/libunwind, before the sysroot's.
                    cmd.args(rt.link_args());
                }
                // wasi-libc's setjmp/longjmp runtime, for objects that call them.
                cmd.arg("-lsetjmp");
            }
            // printf/scanf of `long double`, as the relinked interpreter has
            // them when a module needs them (relink::LinkNeeds::long_double_io).
            cmd.arg("-lc-printscan-long-double");
        }
        cmd
    };
    Ok(run_compiler_sjlj(&ctx, &make, &sources, false)?.0)
}

/// `-shared` link: the dylib (as wasiwheel links its own extensions) and the
/// static archive of the same inputs, recorded by the dylib's sha256.
fn link_shared(ctx: &Context, sdk: &WasiSdk, args: &[String], cxx: bool) -> Result<i32> {
    let mut inputs: Vec<Utf8PathBuf> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    let mut libs: Vec<String> = Vec::new();
    let mut lib_dirs: Vec<String> = Vec::new();
    let mut compile_flags: Vec<String> = Vec::new();
    let mut out: Option<Utf8PathBuf> = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        match a.as_str() {
            "-o" => {
                out = next.map(Utf8PathBuf::from);
                i += 2;
                continue;
            }
            "-l" | "-L" => {
                if let Some(n) = next {
                    if a == "-l" { &mut libs } else { &mut lib_dirs }.push(n.clone());
                }
                i += 2;
                continue;
            }
            "-shared" => {}
            _ if a.starts_with("-l") => libs.push(a[2..].to_string()),
            _ if a.starts_with("-L") => lib_dirs.push(a[2..].to_string()),
            _ if a.starts_with("-Wl,") || a.starts_with("-Xlinker") => {
                if ctx.verbose {
                    crate::progress::status(&format!("note: the host linker flag `{a}` is not passed to wasm-ld"));
                }
            }
            _ if is_source(a) => sources.push(a.clone()),
            _ if a.starts_with('-') => compile_flags.push(a.clone()),
            _ => inputs.push(Utf8PathBuf::from(a)),
        }
        i += 1;
    }
    let Some(out) = out else {
        return Err(Error::Toolchain("wasiwheel's linker wrapper needs `-o FILE` for a -shared link".into()));
    };
    let out = absolute(&out)?;
    let file = out.file_name().unwrap_or("module.so").to_string();
    // `_speedups.cpython-313-wasm32-wasi.so` → `_speedups` (its init is `PyInit__speedups`).
    let basename = file.split('.').next().unwrap_or(&file).to_string();
    let key = crate::files::sha256_hex(format!("{out}\n{}", std::process::id()).as_bytes())[..16].to_string();
    let work = ctx.state.join("link").join(&key);
    std::fs::create_dir_all(&work).context(|| format!("cannot create {work}"))?;
    // Sources on the link line are compiled first.
    for (n, s) in sources.iter().enumerate() {
        let o = work.join(format!("src{n}.o"));
        let mut compile_args = compile_flags.clone();
        compile_args.extend(["-c".to_string(), s.clone(), "-o".to_string(), o.to_string()]);
        let status = if ctx.fpcast_repair {
            compile_repaired(ctx, sdk, cxx, &compile_args, s)?
        } else {
            let make = |sjlj: bool| {
                let mut cmd = clang(ctx, sdk, cxx, sjlj);
                cmd.args(&compile_args);
                cmd
            };
            run_compiler_sjlj(ctx, &make, &[s], false)?.0
        };
        if status != 0 {
            return Ok(status);
        }
        inputs.push(o);
    }
    let inputs: Vec<Utf8PathBuf> = inputs.iter().map(|p| absolute(p)).collect::<Result<_>>()?;
    let cxx = cxx || libs.iter().any(|l| ["stdc++", "c++"].contains(&l.as_str()));
    let libraries: Vec<String> = libs.iter().filter(|l| !IMPLICIT_LIBS.contains(&l.as_str())).cloned().collect();
    let link_args = lib_dirs.iter().map(|d| format!("-L{d}")).collect();
    let (ext, opts) = linked_module(ctx, &basename, &libraries, cxx, link_args);
    let dylib = work.join(&file);
    let tc = Toolchain::Wasi {
        sdk: sdk.clone(),
        target: ctx.target,
        cxx_eh: ctx.cxx_eh.clone().map(Box::new),
        sjlj: ctx.cxx_eh.as_ref().map(|rt| Box::new(rt.compiler.clone())),
    };
    compile::link_extension(&tc, &ext, &inputs, &dylib, &opts)?;
    // The static archive: the objects, and the members of archives linked in.
    let archive = ctx.state.join("static").join(format!("{key}.a"));
    std::fs::create_dir_all(archive.parent().expect("parent")).context(|| format!("cannot create {archive}"))?;
    let mut ar = Command::new(sdk.ar());
    ar.arg("qcsDL").arg(&archive).args(inputs.iter().map(|p| p.as_str()));
    run_tool(&mut ar, &format!("archiving the objects of {file}"), false)?;
    let mut all_libs = libraries;
    all_libs.extend(emulations(ctx, sdk).iter().map(|(_, l)| l.to_string()));
    record_link(ctx, LinkRecord { basename, archive, libraries: all_libs, cxx }, &dylib, &out)?;
    Ok(0)
}

/// What [`compile::link_extension`] needs to link the objects of a module
/// the backend links itself (no sources of ours): its spec (`basename`,
/// `libraries`, C++ or C, `link_args` for wasm-ld) and release options.
pub(super) fn linked_module(
    ctx: &Context,
    basename: &str,
    libraries: &[String],
    cxx: bool,
    link_args: Vec<String>,
) -> (ExtensionSpec, CompileOptions) {
    let ext = ExtensionSpec {
        name: basename.to_string(),
        sources: vec![],
        include_dirs: vec![],
        defines: vec![],
        libraries: libraries.to_vec(),
        language: if cxx { Language::Cxx } else { Language::C },
        limited_api: None,
        extra_compile_args: vec![],
        extra_link_args: link_args,
        optional: false,
    };
    let opts = CompileOptions {
        jobs: 1,
        profile: Profile::Release,
        verbose: ctx.verbose,
        python_cflags: vec![],
        prefix_maps: vec![],
        fpcast_repair: true,
    };
    (ext, opts)
}

/// Run the tool `cmd` (printed first when `verbose`), failing with its output.
///
/// Errors: [`Error::Toolchain`] when it cannot start; [`Error::ToolFailed`]
/// with its stdout and stderr, named `what`, when it fails.
pub(super) fn run_tool(cmd: &mut Command, what: &str, verbose: bool) -> Result<()> {
    if verbose {
        crate::progress::status(&command_line(cmd));
    }
    let o = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {what}: {e}")))?;
    if o.status.success() {
        return Ok(());
    }
    Err(Error::ToolFailed {
        what: what.to_string(),
        status: o.status.to_string(),
        output: format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
            .trim_end()
            .to_string(),
        command: command_line(cmd),
    })
}

/// Record the link of `dylib` (made in the state directory) as `record`, by
/// its sha256, and copy it to the link's output `out`, where the backend
/// expects it.
///
/// Errors: [`Error::Io`] when a file cannot be read or written.
pub(super) fn record_link(ctx: &Context, record: LinkRecord, dylib: &Utf8Path, out: &Utf8Path) -> Result<()> {
    let data = std::fs::read(dylib).context(|| format!("cannot read {dylib}"))?;
    let sha = crate::files::sha256_hex(&data);
    let links = ctx.state.join("links");
    std::fs::create_dir_all(&links).context(|| format!("cannot create {links}"))?;
    let rec = links.join(format!("{sha}.json"));
    std::fs::write(&rec, serde_json::to_vec_pretty(&record).expect("serialisable"))
        .context(|| format!("cannot write {rec}"))?;
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).context(|| format!("cannot create {p}"))?;
    }
    std::fs::write(out, &data).context(|| format!("cannot write {out}"))?;
    Ok(())
}

pub(super) fn absolute(p: &Utf8Path) -> Result<Utf8PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir().context(|| "cannot read the current directory".to_string())?;
    let cwd = Utf8PathBuf::from_path_buf(cwd).map_err(|p| Error::Other(format!("{} is not UTF-8", p.display())))?;
    Ok(cwd.join(p))
}

/// `wasiwheel ar|ranlib ARGS…`: the SDK's `llvm-ar` (`ranlib` is `ar s`).
/// Returns its exit status.
///
/// Errors: [`Error::Toolchain`] outside a cross environment or when it cannot run.
pub fn ar(args: &[String], ranlib: bool) -> Result<i32> {
    let ctx = Context::load()?;
    let sdk = WasiSdk::open(&ctx.sdk)?;
    let mut cmd = Command::new(sdk.ar());
    if ranlib {
        cmd.arg("s");
    }
    cmd.args(args);
    if ctx.verbose {
        crate::progress::status(&command_line(&cmd));
    }
    let status = cmd.status().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", sdk.ar())))?;
    Ok(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_flags_are_dropped() {
        let args: Vec<String> = ["-I", "/t/include/python3.13", "-march=native", "-O2", "-pthread", "-flto=thin", "-c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(filter_args(&args), vec!["-I", "/t/include/python3.13", "-O2", "-c"]);
    }

    #[test]
    fn probes_are_not_the_projects_failures() {
        let f = |source: &str, cwd: &str| Failure {
            source: source.into(),
            status: "exit status: 1".into(),
            diagnostics: String::new(),
            hint: None,
            command: String::new(),
            cwd: cwd.into(),
            rust: false,
        };
        let project = Utf8Path::new("/nonexistent/proj-1.0");
        assert!(f("src/mod.c", "/nonexistent/proj-1.0").in_project(project));
        assert!(f("/nonexistent/proj-1.0/.mesonpy-x/gen.c", "/elsewhere").in_project(project));
        assert!(!f("/tmp/tmpab12/testfile.c", "/nonexistent/proj-1.0/.mesonpy-x").in_project(project));
        assert!(!f("../proj-1.0x/a.c", "/nonexistent/proj-1.0").in_project(project));
    }
}
