//! The cross environment for foreign sdists: building a project whose PEP 517
//! backend is not wasiwheel (setuptools, meson-python, scikit-build-core, …)
//! for a WASI target, unmodified.
//!
//! The project's own backend runs in an isolated build environment (the
//! `build` package drives it from the host interpreter, see `driver.py`) with:
//!
//! * the target CPython's sysconfig presented: `_PYTHON_SYSCONFIGDATA_NAME`,
//!   `_PYTHON_HOST_PLATFORM` and a copy of the target's `_sysconfigdata_*.py`
//!   on `PYTHONPATH` whose `CC`, `CXX`, `LDSHARED`, `AR`, `INCLUDEPY` name
//!   wasiwheel's wrappers and the target's headers ([`files`]);
//! * compiler, linker and archiver wrappers first on `PATH`: scripts that run
//!   `wasiwheel cc|c++|ar|ranlib` ([`wrap`]), which call the WASI SDK and turn
//!   each `-shared` link into a wasm dylib plus a static archive;
//! * a meson cross file (meson-python) and a CMake toolchain file
//!   (scikit-build-core);
//! * cargo's target, flags and linker, and PyO3's cross-compiling variables
//!   (maturin, setuptools-rust: [`rust`]), whose linker makes the same dylib
//!   and static archive of a PyO3 cdylib;
//!
//! and afterwards its wheel is checked, completed and retagged ([`retag`]).

pub mod files;
pub mod hostdirs;
pub mod retag;
pub mod rust;
pub mod wrap;

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::model::target::WasiTarget;
use crate::toolchain::cxx_eh::CxxRuntime;
use crate::toolchain::python::TargetPython;
use crate::toolchain::sdk::WasiSdk;

/// The environment variable through which the wrappers find their [`Context`].
pub const CONTEXT_VAR: &str = "WASIWHEEL_CROSS_ENV";

/// What the compiler wrappers need to know, written as `context.json` in the
/// cross environment and named by [`CONTEXT_VAR`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Context {
    /// The WASI SDK root.
    pub sdk: Utf8PathBuf,
    /// The target.
    pub target: WasiTarget,
    /// The target CPython's include directory (`include/python3.X`).
    pub include: Utf8PathBuf,
    /// Where the wrappers record links, archives and failures.
    pub state: Utf8PathBuf,
    /// Print every command the wrappers run.
    pub verbose: bool,
    /// Repair function-pointer casts in what the wrappers compile (see
    /// [`crate::crossbuild::fpcast`]); `-C fpcast-repair=false` turns it off.
    #[serde(default = "repair_by_default")]
    pub fpcast_repair: bool,
    /// The exception-enabled C++ runtime C++ is compiled against and linked
    /// with (`None`: `-fno-exceptions`; see [`crate::toolchain::cxx_eh`]).
    #[serde(default)]
    pub cxx_eh: Option<CxxRuntime>,
    /// The sysroot of the position-independent Rust standard library for
    /// the target, for a project that builds Rust
    /// ([`crate::toolchain::rust_std`]); `None` otherwise.
    #[serde(default)]
    pub rust_sysroot: Option<Utf8PathBuf>,
    /// The build machine's prefixes whose headers and libraries the
    /// wrappers refuse ([`hostdirs`]), besides the system's.
    #[serde(default)]
    pub host_dirs: Vec<hostdirs::HostDir>,
    /// The target's own directories under which nothing is refused (its
    /// CPython prefix, the target numpy a dependent builds against).
    #[serde(default)]
    pub target_dirs: Vec<Utf8PathBuf>,
}

fn repair_by_default() -> bool {
    true
}

impl Context {
    /// The context of the wrapper process, from [`CONTEXT_VAR`].
    ///
    /// Errors: [`Error::Toolchain`] when the variable is unset or its file unreadable.
    pub fn load() -> Result<Context> {
        let path = std::env::var(CONTEXT_VAR).map_err(|_| {
            Error::Toolchain(format!(
                "this is one of wasiwheel's compiler wrappers, which work only inside the cross environment of \
                 `wasiwheel build SPEC -C target=…` ({CONTEXT_VAR} is not set)"
            ))
        })?;
        let text = std::fs::read_to_string(&path).context(|| format!("cannot read the cross environment {path}"))?;
        serde_json::from_str(&text).map_err(|e| Error::Toolchain(format!("{path} is damaged: {e}")))
    }
}

/// How a build backend is driven, by what it needs of the cross environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// setuptools and other backends that compile through sysconfig's `CC`.
    Setuptools,
    /// meson-python: a meson cross file.
    Meson,
    /// scikit-build-core: a CMake toolchain file.
    Cmake,
    /// maturin: cargo alone ([`rust::env`]); no C compiler variables, which
    /// the `cc` crate would take for the host's.
    Maturin,
}

impl BackendKind {
    /// The kind of the PEP 517 backend `backend` (`module:object`).
    pub fn of(backend: &str) -> BackendKind {
        let module = backend.split(':').next().unwrap_or("").trim();
        if module == "mesonpy" || module.starts_with("mesonpy.") {
            BackendKind::Meson
        } else if module.starts_with("scikit_build_core") {
            BackendKind::Cmake
        } else if module == "maturin" || module.starts_with("maturin.") {
            BackendKind::Maturin
        } else {
            BackendKind::Setuptools
        }
    }
}

/// A project's `[build-system]` table: its backend (PEP 517's fallback
/// `setuptools.build_meta:__legacy__` when absent) and whether it is
/// wasiwheel.
///
/// Errors: [`Error::Project`] when `pyproject.toml` is not TOML.
pub fn build_backend(project: &Utf8Path) -> Result<String> {
    let p = project.join("pyproject.toml");
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Ok("setuptools.build_meta:__legacy__".into());
    };
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e| Error::project(&p, format!("not valid TOML: {e}")))?;
    Ok(doc
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(|b| b.as_str())
        .unwrap_or("setuptools.build_meta:__legacy__")
        .to_string())
}

/// meson-python refuses to build under an interpreter outside the project's
/// `Requires-Python` (PEP 621 `requires-python`), though in a cross build it
/// is only the host that runs the backend: say so before anything runs.
///
/// Errors: [`Error::Toolchain`] naming the project's requirement, the host
/// interpreter and its version, and `--host-python` as the fix. A project
/// without the field, or a host interpreter that cannot be asked, passes.
fn check_host_python(project: &Utf8Path, host_python: &str) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(project.join("pyproject.toml")) else { return Ok(()) };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else { return Ok(()) };
    let Some(spec) = doc.get("project").and_then(|p| p.get("requires-python")).and_then(|r| r.as_str()) else {
        return Ok(());
    };
    let Ok(specifiers) = spec.parse::<pep440_rs::VersionSpecifiers>() else { return Ok(()) };
    let out = std::process::Command::new(host_python)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output();
    let Some(version) =
        out.ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    else {
        return Ok(());
    };
    let Ok(v) = version.parse::<pep440_rs::Version>() else { return Ok(()) };
    if specifiers.contains(&v) {
        return Ok(());
    }
    Err(Error::Toolchain(format!(
        "{} requires Python {spec}, and its backend meson-python refuses to run under the host Python \
         `{host_python}` ({version}), although the build is for the target's CPython: give a host interpreter \
         that satisfies it, with the `build` package, by --host-python or WASIWHEEL_HOST_PYTHON",
        project.file_name().unwrap_or("the project")
    )))
}

/// The wheel tags a foreign wheel gets: as (file-name tag, expanded tags),
/// for ordinary and for limited-API (abi3) extensions.
#[derive(Debug, Clone)]
pub struct ForeignTags {
    /// `cp313-cp313-…` tags.
    pub normal: (String, Vec<String>),
    /// `cp3X-abi3-…` tags, used when every extension is `.abi3.so`.
    pub abi3: (String, Vec<String>),
}

/// A foreign build to carry out.
#[derive(Debug, Clone)]
pub struct ForeignBuild {
    /// The project directory (an unpacked sdist).
    pub project: Utf8PathBuf,
    /// Where the wheel goes.
    pub out_dir: Utf8PathBuf,
    /// The target CPython.
    pub python: TargetPython,
    /// The SDK.
    pub sdk: WasiSdk,
    /// The target.
    pub target: WasiTarget,
    /// Config settings for the project's own backend.
    pub inner_config: BTreeMap<String, Vec<String>>,
    /// The host interpreter that runs the backend (it needs `build`).
    pub host_python: String,
    /// How to run wasiwheel itself (for the wrappers).
    pub self_command: Vec<String>,
    /// The tags of the result.
    pub tags: ForeignTags,
    /// Print the wrappers' commands.
    pub verbose: bool,
    /// Repair function-pointer casts (`-C fpcast-repair`).
    pub fpcast_repair: bool,
    /// The exception-enabled C++ runtime (`-C cxx-exceptions`), or `None`.
    pub cxx_eh: Option<CxxRuntime>,
    /// Which backend runs, and in which environment.
    pub backend: BackendChoice,
}

/// Which PEP 517 backend a foreign build runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// The project's `[build-system] build-backend`, in an isolated
    /// environment made from its `requires` (PEP 517/518), as `build` does.
    Own,
    /// The backend a wasiwheel project names in `tool.wasiwheel.backend`
    /// (`module:object`). `isolated`: in an isolated environment of the
    /// project's `requires` less wasiwheel (`wasiwheel build`); otherwise in
    /// the host interpreter's environment, which a frontend has provisioned
    /// (`pip wheel`, `python -m build`).
    Wrapped { backend: String, isolated: bool },
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 517 hooks are its callers
/// A PEP 517 hook of a backend that wasiwheel wraps (`tool.wasiwheel.backend`),
/// called outside any cross environment: for native builds, sdists,
/// metadata and requirements.
#[derive(Debug, Clone)]
pub struct HookCall<'a> {
    /// The project directory.
    pub project: &'a Utf8Path,
    /// The backend (`module:object`).
    pub backend: &'a str,
    /// The hook's PEP 517/660 name, e.g. `build_sdist`, `get_requires_for_build_wheel`.
    pub hook: &'a str,
    /// The hook's output directory (`None` for the `get_requires_*` hooks).
    pub out_dir: Option<&'a Utf8Path>,
    /// Its config settings.
    pub config: &'a BTreeMap<String, Vec<String>>,
    /// The interpreter whose environment has the backend (the frontend's `sys.executable`).
    pub host_python: &'a str,
    /// Requirements to add to those a `get_requires_*` hook returns.
    pub extra_requires: &'a [&'a str],
}

/// What the driver is asked to do (`request.json`).
#[derive(Serialize)]
struct DriverRequest<'a> {
    srcdir: &'a Utf8Path,
    outdir: &'a Utf8Path,
    hook: &'a str,
    /// `None`: the project's own backend through `build`.
    backend: Option<&'a str>,
    isolated: bool,
    config: &'a BTreeMap<String, Vec<String>>,
    env: &'a BTreeMap<String, String>,
    path: &'a str,
    result: &'a Utf8Path,
    extra_requires: &'a [&'a str],
    host_packages: &'a [String],
}

/// A new temporary directory named `prefix…` (removed when the guard drops) and its UTF-8 path.
///
/// Errors: [`Error::Io`] when it cannot be created; [`Error::Other`] when its path is not UTF-8.
fn work_dir(prefix: &str) -> Result<(tempfile::TempDir, Utf8PathBuf)> {
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .context(|| "cannot create a temporary directory".to_string())?;
    let work = Utf8Path::from_path(tmp.path())
        .ok_or_else(|| Error::Other("the temporary directory path is not UTF-8".into()))?
        .to_path_buf();
    Ok((tmp, work))
}

/// How the driver ended.
enum DriverOutcome {
    /// The hook's result (`{"result": …}` of the result file).
    Done(serde_json::Value),
    /// The host interpreter has no `build` (exit status 3).
    NoBuild,
    /// The backend or the build failed; its output went to stderr.
    Failed(std::process::ExitStatus, String),
}

/// Run [`DRIVER`] with `req` by `host_python` in the work directory `work`.
///
/// Errors: [`Error::Toolchain`] when `host_python` cannot be started; I/O errors of `work`.
fn run_driver(work: &Utf8Path, req: &DriverRequest, host_python: &str) -> Result<DriverOutcome> {
    let request = work.join("request.json");
    std::fs::write(&request, serde_json::to_vec_pretty(req).expect("serialisable"))
        .context(|| format!("cannot write {request}"))?;
    let driver = work.join("driver.py");
    std::fs::write(&driver, DRIVER).context(|| format!("cannot write {driver}"))?;
    let status = std::process::Command::new(host_python)
        .arg(&driver)
        .arg(&request)
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| {
            Error::Toolchain(format!(
                "cannot run the host interpreter `{host_python}` ({e}): set WASIWHEEL_HOST_PYTHON or --host-python"
            ))
        })?;
    if !status.success() {
        if status.code() == Some(3) {
            return Ok(DriverOutcome::NoBuild);
        }
        return Ok(DriverOutcome::Failed(status, format!("{host_python} {driver} {request}")));
    }
    let text = std::fs::read_to_string(req.result).context(|| format!("cannot read {}", req.result))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::Other(format!("{} is damaged: {e}", req.result)))?;
    Ok(DriverOutcome::Done(v["result"].clone()))
}

fn no_build(host_python: &str) -> Error {
    Error::Toolchain(format!(
        "the host interpreter `{host_python}` has no `build` package, which drives foreign backends (wasiwheel \
         installed with pip brings it along; the bare binary does not): `{host_python} -m pip install build`, \
         install wasiwheel with pip, or choose another interpreter with --host-python / WASIWHEEL_HOST_PYTHON"
    ))
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 517 hooks are its callers
/// Call the hook `h.hook` of a wrapped backend in `h.host_python`'s
/// environment, without a cross environment (see [`HookCall`]). Returns the
/// hook's result as JSON: a file name (string) for `build_*` and
/// `prepare_metadata_for_build_wheel`, a list of PEP 508 strings for
/// `get_requires_*` (with `h.extra_requires` added).
///
/// Errors: [`Error::ToolFailed`] when the backend fails (its output has gone
/// to stderr); [`Error::Toolchain`] when the interpreter cannot run or lacks `build`.
pub fn call_hook(h: &HookCall) -> Result<serde_json::Value> {
    let (_tmp, work) = work_dir("wasiwheel-hook.")?;
    let host_packages = crate::toolchain::provision::host_packages();
    let result = work.join("result.json");
    let outdir = h.out_dir.map(Utf8Path::to_path_buf).unwrap_or_else(|| work.clone());
    let req = DriverRequest {
        srcdir: h.project,
        outdir: &outdir,
        hook: h.hook,
        backend: Some(h.backend),
        isolated: false,
        config: h.config,
        env: &BTreeMap::new(),
        path: "",
        result: &result,
        extra_requires: &[],
        host_packages: &host_packages,
    };
    match run_driver(&work, &req, h.host_python)? {
        DriverOutcome::Done(serde_json::Value::Array(mut list)) => {
            list.extend(h.extra_requires.iter().map(|r| serde_json::Value::String(r.to_string())));
            Ok(serde_json::Value::Array(list))
        }
        DriverOutcome::Done(v) => Ok(v),
        DriverOutcome::NoBuild => Err(no_build(h.host_python)),
        DriverOutcome::Failed(status, command) => Err(Error::ToolFailed {
            what: format!("the build backend `{}` (hook {}, named by tool.wasiwheel.backend)", h.backend, h.hook),
            status: status.to_string(),
            output: "(its output is above)".into(),
            command,
        }),
    }
}

/// What the build environment gets besides the project's requirements:
/// scikit-build-core asks for CMake only on platforms it knows, and the
/// target's is not one, so it would quietly build without its extensions.
pub fn extra_requires(kind: BackendKind) -> &'static [&'static str] {
    match kind {
        BackendKind::Cmake => &["cmake>=3.15", "ninja"],
        _ => &[],
    }
}

/// The Python driver run by the host interpreter.
const DRIVER: &str = include_str!("driver.py");

/// Build the wheel of the foreign project `b.project` for `b.target` in a
/// cross environment and write it, checked and retagged, into `b.out_dir`.
/// Returns the wheel's path.
///
/// Errors: [`Error::CompileFailed`] with clang's diagnostics and a WASI hint
/// when the project's C/C++ does not compile for WASI; [`Error::ToolFailed`]
/// when its backend fails otherwise; [`Error::Toolchain`] when the host
/// interpreter lacks `build`, or the wheel holds a host (ELF) `.so` or a
/// module the wrappers did not link. Nothing is left in `b.out_dir` on error.
pub fn build(b: &ForeignBuild) -> Result<Utf8PathBuf> {
    let started = std::time::Instant::now();
    let (backend, wrapped, isolated) = match &b.backend {
        BackendChoice::Own => (build_backend(&b.project)?, None, true),
        BackendChoice::Wrapped { backend, isolated } => (backend.clone(), Some(backend.as_str()), *isolated),
    };
    let kind = BackendKind::of(&backend);
    if kind == BackendKind::Meson {
        check_host_python(&b.project, &b.host_python)?;
    }
    let rust_sysroot = if rust::is_rust_project(&b.project, kind) {
        if b.target == WasiTarget::P2 {
            return Err(Error::Toolchain(format!(
                "{} builds Rust, and Rust extensions for wasm32-wasip2 are not supported yet: Rust's \
                 wasm32-wasip2 standard library carries the wasi:http 0.2.4 proxy world and its imports, which \
                 componentize-py 0.25.1 cannot satisfy when it links the dylib into a component (\"component \
                 imports instance `wasi:http/types@0.2.9`, but a matching implementation was not found\"); build \
                 for wasm32-wasip1 (-C target=wasm32-wasi), whose components wasiwheel links itself",
                b.project.file_name().unwrap_or("the project")
            )));
        }
        crate::toolchain::rust_std::check_toolchain(b.target.triple())?;
        Some(crate::toolchain::rust_std::ensure(b.target.triple())?)
    } else {
        None
    };
    let (_tmp, work) = work_dir("wasiwheel-cross.")?;
    let state = work.join("state");
    std::fs::create_dir_all(&state).context(|| format!("cannot create {state}"))?;
    let ctx = Context {
        sdk: b.sdk.root.clone(),
        target: b.target,
        include: b.python.include_dir(),
        state: state.clone(),
        verbose: b.verbose,
        fpcast_repair: b.fpcast_repair,
        cxx_eh: b.cxx_eh.clone(),
        rust_sysroot,
        host_dirs: hostdirs::of_host_python(&b.host_python),
        target_dirs: vec![b.python.prefix.clone()],
    };
    let env_files = files::write(&work, &ctx, &b.python, &b.self_command, kind)?;
    let mut config = b.inner_config.clone();
    if kind == BackendKind::Meson {
        config.entry("setup-args".into()).or_default().push(format!("--cross-file={}", env_files.meson_cross));
    }
    crate::progress::status(&format!(
        "building {} with its backend `{backend}` in a cross environment for {} (CPython {}, {}; host \
         interpreter {})",
        b.project.file_name().unwrap_or("the project"),
        b.target,
        b.python.full_version(),
        b.sdk.identity,
        b.host_python
    ));
    let dist = work.join("dist");
    std::fs::create_dir_all(&dist).context(|| format!("cannot create {dist}"))?;
    let result = work.join("result.json");
    let host_packages = crate::toolchain::provision::host_packages();
    let req = DriverRequest {
        srcdir: &b.project,
        outdir: &dist,
        hook: "build_wheel",
        backend: wrapped,
        isolated,
        config: &config,
        env: &env_files.env,
        path: env_files.bin.as_str(),
        result: &result,
        extra_requires: extra_requires(kind),
        host_packages: &host_packages,
    };
    let outcome = run_driver(&work, &req, &b.host_python)?;
    // Compile failures of the project's own sources; those of probes in
    // temporary directories are part of configuring, not the cause.
    let failures: Vec<wrap::Failure> =
        wrap::failures(&state).into_iter().filter(|f| f.rust || f.in_project(&b.project)).collect();
    let v = match outcome {
        DriverOutcome::Done(v) => v,
        DriverOutcome::NoBuild => return Err(no_build(&b.host_python)),
        DriverOutcome::Failed(status, command) => {
            if let Some(f) = failures.last() {
                return Err(f.clone().into_error());
            }
            return Err(Error::ToolFailed {
                what: format!("the project's build backend `{backend}` (in the cross environment)"),
                status: status.to_string(),
                output: "(its output is above)".into(),
                command,
            });
        }
    };
    let inner = Utf8PathBuf::from(v.as_str().unwrap_or_default());
    let inner = if inner.is_absolute() { inner } else { dist.join(inner) };
    let out = retag::finish(
        &inner,
        &b.out_dir,
        &retag::Finish { state: &state, python: &b.python, sdk: &b.sdk, target: b.target, tags: &b.tags, failures },
    )?;
    crate::progress::status(&format!("built {out} in {:.1}s", started.elapsed().as_secs_f64()));
    Ok(out)
}
