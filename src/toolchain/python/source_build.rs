//! Building a target CPython from its source tarball with CPython's own WASI
//! build driver (`Tools/wasm/wasi.py`), installed into the cache with a
//! record of the SDK that built it.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use super::{build_step, deps, installed, link_inputs, py_version_in, PythonRecord, TargetPython};
use crate::error::{Error, IoContext, Result};
use crate::model::target::{PyVersion, WasiTarget};
use crate::toolchain::cache;

/// Options of [`install_from_source`].
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The CPython source tarball (`.tar.xz`, `.tgz`, …).
    pub source: Utf8PathBuf,
    /// The SDK to build with.
    pub sdk: crate::toolchain::sdk::WasiSdk,
    /// The host interpreter that runs CPython's build driver.
    pub host_python: String,
    /// How to run wasiwheel itself (its `exec` subcommand is the WASI host runner).
    pub self_command: Vec<String>,
    /// Stream the build's output instead of logging it to a file.
    pub verbose: bool,
    /// The C libraries to build for standard-library modules (checked against
    /// the pins by [`deps::choose_sources`]); none chosen means those modules
    /// are left out.
    pub deps: deps::DepSources,
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Build CPython from the source tarball `opts.source` for wasm32-wasip1 with
/// `opts.sdk`, using CPython's own WASI build driver (`Tools/wasm/wasi.py`)
/// with wasiwheel's embedded wasmtime as the host runner; install the prefix
/// (plus the static libraries needed to relink `python.wasm`) into the cache
/// as `python/{version}-wasm32-wasip1-sdk{N}` (with `-stdlib-{key}` appended
/// when `opts.deps` chose libraries: the key is their sources' sha256s) with
/// a `wasiwheel-python.json` record of the SDK and libraries that built it.
/// The libraries of `opts.deps` are built first ([`deps::build`]) and given to
/// CPython's `configure` (`ZLIB_CFLAGS`/`ZLIB_LIBS`, …); their archives are
/// kept in `lib/wasiwheel-static/` and listed in the record's `link_libs`.
/// Returns the installed CPython (an existing install of the same source,
/// libraries and SDK is returned as it is).
///
/// Errors: [`Error::Toolchain`] when the tarball is not CPython `version`, a
/// host tool a library needs is missing, a build step fails (with the tail
/// of the build log and its path), or `configure` did not enable a module
/// whose library was built.
pub fn install_from_source(version: PyVersion, opts: &InstallOptions) -> Result<TargetPython> {
    let target = WasiTarget::P1;
    if !opts.source.is_file() {
        return Err(Error::Toolchain(format!(
            "{} does not exist: give a CPython source tarball with --source",
            opts.source
        )));
    }
    let sha = crate::files::sha256_file(&opts.source)?;
    let major = opts.sdk.identity.major;
    deps::check_host_tools(&opts.deps)?;
    let libraries = opts.deps.records();
    let deps_key = opts.deps.key();
    let suffix = deps_key.as_ref().map(|k| format!("-stdlib-{k}")).unwrap_or_default();
    let _lock = cache::lock(&format!("python-{}-sdk{major}{suffix}", &sha[..12]))?;
    for p in installed()? {
        if let Some(r) = &p.record {
            if r.source_sha256.as_deref() == Some(sha.as_str())
                && r.sdk.major == major
                && r.target == target
                && r.libraries == libraries
                && p.host_python().is_some()
            {
                crate::progress::status(&format!(
                    "CPython {} for {target} built with WASI SDK {major} is already installed at {}",
                    r.version, p.prefix
                ));
                return Ok(p);
            }
        }
    }
    let missing = opts.deps.missing();
    if !missing.is_empty() {
        crate::progress::status(&format!(
            "building without the standard-library modules {}: no source given for {} (give them with \
             --with-source NAME=FILE or --with-sources DIR; .ci/fetch-stdlib-sources fetches them)",
            missing.iter().flat_map(|l| l.modules.iter().copied()).collect::<Vec<_>>().join(", "),
            missing.iter().map(|l| format!("{} {}", l.name, l.version)).collect::<Vec<_>>().join(", "),
        ));
    }
    let build_root = cache::dir("build")?.join(format!("cpython-{}-{target}-sdk{major}{suffix}", &sha[..12]));
    if build_root.exists() {
        std::fs::remove_dir_all(&build_root).context(|| format!("cannot clear {build_root}"))?;
    }
    std::fs::create_dir_all(&build_root).context(|| format!("cannot create {build_root}"))?;
    let log = build_root.join("build.log");
    crate::progress::status(&format!("unpacking {} (log: {log})", opts.source));
    build_step(
        {
            let mut c = Command::new("tar");
            c.args(["-xf", opts.source.as_str(), "-C", build_root.as_str()]);
            c
        },
        &log,
        false,
        &format!("tar -xf {}", opts.source),
    )?;
    let checkout = std::fs::read_dir(&build_root)
        .context(|| format!("cannot read {build_root}"))?
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .find(|p| p.join("Include/patchlevel.h").exists())
        .ok_or_else(|| {
            Error::Toolchain(format!("{} is not a CPython source tarball: no Include/patchlevel.h in it", opts.source))
        })?;
    let full_version = py_version_in(&checkout.join("Include/patchlevel.h"))?;
    let found: PyVersion = full_version.parse().map_err(|e: String| Error::Toolchain(e))?;
    if found != version {
        return Err(Error::Toolchain(format!(
            "{} is CPython {full_version}, not {version}: give the source of CPython {version}",
            opts.source
        )));
    }
    let driver = ["Tools/wasm/wasi.py", "Tools/wasm/wasi/__main__.py"]
        .iter()
        .map(|d| checkout.join(d))
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::Toolchain(format!(
                "CPython {full_version} has no Tools/wasm/wasi.py build driver: wasiwheel builds \
            CPython 3.11 and newer"
            ))
        })?;
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let built_deps = if opts.deps.chosen.is_empty() {
        None
    } else {
        let names = libraries.iter().map(|l| format!("{} {}", l.name, l.version)).collect::<Vec<_>>().join(", ");
        let step = crate::progress::Step::start(format!("building {names}"));
        let built = deps::build(&opts.deps, &opts.sdk, &build_root.join("deps"), jobs, &step, &log)?;
        step.done();
        Some(built)
    };
    let step = crate::progress::Step::start(format!("building CPython {version} for {target} with WASI SDK {major}"));
    let runner = format!(
        "{} exec --dir {{HOST_DIR}}::{{GUEST_DIR}} --env {{ENV_VAR_NAME}}={{ENV_VAR_VALUE}}",
        opts.self_command.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
    );
    for (sub, what) in [
        ("configure-build-python", "configuring the build Python"),
        ("make-build-python", "compiling the build Python (native)"),
        ("configure-host", "configuring CPython for WASI"),
        ("make-host", "compiling CPython for WASI"),
    ] {
        step.set(what);
        let mut c = Command::new(&opts.host_python);
        c.arg(&driver)
            .arg(sub)
            .current_dir(&checkout)
            .env("WASI_SDK_PATH", &opts.sdk.root)
            .env("MAKEFLAGS", format!("-j{jobs}"));
        if sub == "configure-build-python" {
            // The build Python is kept as the host interpreter of builds for
            // this target; its tests and test modules are of no use there.
            c.args(["--", "--disable-test-modules"]);
        }
        if sub == "configure-host" {
            c.args(["--wasi-sdk", opts.sdk.root.as_str(), "--host-runner", &runner]);
            // Only the WASI configure sees the libraries: they are wasm32 archives.
            c.envs(built_deps.iter().flat_map(|d| d.configure_env.iter().map(|(k, v)| (k, v))));
        }
        build_step(c, &log, opts.verbose, &format!("{} {driver} {sub}", opts.host_python))?;
    }
    let cross = checkout.join("cross-build").join(target.triple());
    let cross = if cross.exists() { cross } else { checkout.join("cross-build/wasm32-wasi") };
    check_modules_enabled(&cross, &libraries)?;

    step.set("installing the prefix");
    let staging = crate::files::staging_dir(&cache::dir("python")?, &format!("{full_version}-{target}-sdk{major}"))?;
    let prefix = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    build_step(
        {
            let mut c = Command::new("make");
            c.arg("install").arg(format!("prefix={prefix}")).arg("ENSUREPIP=no").current_dir(&cross);
            c
        },
        &log,
        opts.verbose,
        "make install",
    )?;
    step.set("installing the native build Python (the host interpreter of builds for this target)");
    let host_python = install_host_python(&checkout.join("cross-build/build"), &prefix, version, &log, opts.verbose)?;
    // The static libraries python.wasm was linked with besides libpython,
    // and the linker arguments CPython used (PY_CORE_LDFLAGS, LINKFORSHARED,
    // LIBS, MODLIBS, SYSLIBS; see the python.wasm rule of Makefile.pre.in).
    let installed_py = TargetPython::open(&prefix)?;
    let (archives, link_args) = link_inputs(&installed_py.vars);
    let mut link_libs = Vec::new();
    let static_dir = prefix.join("lib/wasiwheel-static");
    std::fs::create_dir_all(&static_dir).context(|| format!("cannot create {static_dir}"))?;
    for w in archives {
        let src = if Utf8Path::new(&w).is_absolute() { Utf8PathBuf::from(&w) } else { cross.join(&w) };
        let name = Utf8Path::new(&w).file_name().unwrap_or("lib.a").to_string();
        if src.exists() && !link_libs.contains(&format!("lib/wasiwheel-static/{name}")) {
            std::fs::copy(&src, static_dir.join(&name)).context(|| format!("cannot copy {src}"))?;
            link_libs.push(format!("lib/wasiwheel-static/{name}"));
        }
    }
    // The archives of bundled libraries (libmpdec, libexpat, HACL*) that the
    // Makefile links python.wasm with but `make install` does not install.
    let mut archives = Vec::new();
    find_archives(&cross.join("Modules"), &mut archives);
    archives.sort();
    for found in archives {
        let name = found.file_name().unwrap_or("lib.a").to_string();
        let rel = format!("lib/wasiwheel-static/{name}");
        if !link_libs.contains(&rel) {
            std::fs::copy(&found, static_dir.join(&name)).context(|| format!("cannot copy {found}"))?;
            link_libs.push(rel);
        }
    }
    let record = PythonRecord {
        version: full_version.clone(),
        target,
        sdk: opts.sdk.identity.clone(),
        source_sha256: Some(sha.clone()),
        link_libs,
        link_args,
        compile_only: false,
        libraries,
        host_python: Some(host_python),
    };
    std::fs::write(prefix.join("wasiwheel-python.json"), serde_json::to_string_pretty(&record).expect("serialisable"))
        .context(|| format!("cannot write {prefix}/wasiwheel-python.json"))?;
    let dest = cache::dir("python")?.join(format!("{full_version}-{target}-sdk{major}{suffix}"));
    if dest.exists() {
        std::fs::remove_dir_all(&dest).context(|| format!("cannot replace {dest}"))?;
    }
    crate::files::commit(staging, &dest)?;
    std::fs::remove_dir_all(&build_root).context(|| format!("cannot remove {build_root}"))?;
    step.done();
    let p = TargetPython::open(&dest)?;
    crate::progress::status(&format!(
        "installed CPython {full_version} for {target} (built with {}) at {dest}",
        opts.sdk.identity
    ));
    Ok(p)
}

/// Install the native build Python of CPython's WASI build (configured and
/// compiled by `Tools/wasm/wasi.py` in `build_dir`, `cross-build/build`) into
/// `prefix/host` with pip (`ensurepip`, from the wheel bundled with the
/// source: no download), and check that it can make virtual environments and
/// reach an HTTPS index (`venv`, `ensurepip`, `ssl`, `zlib`). Returns its
/// interpreter relative to `prefix` (`host/bin/python3.13`). The prefix is
/// relocatable: CPython finds its standard library from the executable's
/// location, so the later rename of the staging directory keeps it working.
///
/// Errors: [`Error::Toolchain`] with the build log's tail when `make install`
/// or `ensurepip` fails, or naming the Debian packages to install when a
/// module the host interpreter needs was not built (its headers were missing).
fn install_host_python(
    build_dir: &Utf8Path,
    prefix: &Utf8Path,
    version: PyVersion,
    log: &Utf8Path,
    verbose: bool,
) -> Result<String> {
    let host = prefix.join("host");
    build_step(
        {
            let mut c = Command::new("make");
            c.arg("install")
                .arg(format!("prefix={host}"))
                .args(["ENSUREPIP=no", "COMPILEALL_OPTS=-j0"])
                .current_dir(build_dir);
            c
        },
        log,
        verbose,
        "make install (the native build Python)",
    )?;
    let rel = format!("host/bin/python{version}");
    let python = prefix.join(&rel);
    slim_host_python(&host, &python)?;
    let missing: Vec<&str> = [("ssl", "libssl-dev"), ("zlib", "zlib1g-dev"), ("_ctypes", "libffi-dev")]
        .into_iter()
        .filter(|(module, _)| {
            !Command::new(&python).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
        })
        .map(|(_, package)| package)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Toolchain(format!(
            "the native build Python of CPython {version} was built without modules the host interpreter needs, \
             for want of their headers: install {} (`apt-get install {}`) and run again",
            missing.join(", "),
            missing.join(" ")
        )));
    }
    build_step(
        {
            let mut c = Command::new(&python);
            c.args(["-m", "ensurepip", "--default-pip"]);
            c
        },
        log,
        verbose,
        &format!("{python} -m ensurepip"),
    )?;
    Ok(rel)
}

/// Make the installed native CPython at `host` smaller without changing what
/// it runs: its static `libpython3.X.a` copies go (only programs embedding
/// CPython link them; extension modules on Linux do not), and the debug
/// information of its interpreter `python` and `lib-dynload` modules is
/// stripped when binutils' `strip` is there (about 250 MB become 80 MB).
///
/// Errors: [`Error::Io`] when an archive cannot be removed.
fn slim_host_python(host: &Utf8Path, python: &Utf8Path) -> Result<()> {
    let mut stack = vec![host.join("lib")];
    let mut objects = vec![python.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = dir.read_dir_utf8() else { continue };
        for e in entries.flatten() {
            let path = e.path().to_path_buf();
            let name = e.file_name();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if name.starts_with("libpython") && name.ends_with(".a") {
                std::fs::remove_file(&path).context(|| format!("cannot remove {path}"))?;
            } else if name.ends_with(".so") && dir.file_name() == Some("lib-dynload") {
                objects.push(path);
            }
        }
    }
    // Best effort: without `strip`, the files keep their debug information.
    let _ = Command::new("strip").arg("--strip-debug").args(&objects).output();
    Ok(())
}

/// Check that CPython's `configure` enabled every module whose library was
/// built (`MODULE_{NAME}_STATE=yes` in the cross build's Makefile): it
/// silently leaves a module out when its checks fail.
///
/// Errors: [`Error::Toolchain`] naming the module, its state and `config.log`.
fn check_modules_enabled(cross: &Utf8Path, libraries: &[deps::LibraryRecord]) -> Result<()> {
    if libraries.is_empty() {
        return Ok(());
    }
    let mk = cross.join("Makefile");
    let text = std::fs::read_to_string(&mk).context(|| format!("cannot read {mk}"))?;
    for l in libraries {
        for m in &l.modules {
            let key = format!("MODULE_{}_STATE=", m.to_uppercase());
            let state = text.lines().find_map(|line| line.strip_prefix(&key)).map(str::trim).unwrap_or("missing");
            if state != "yes" {
                return Err(Error::Toolchain(format!(
                    "CPython's configure did not enable `{m}` (state: {state}) although {} {} was built for it: \
                     see {}/config.log",
                    l.name, l.version, cross
                )));
            }
        }
    }
    Ok(())
}

/// Every `*.a` below `dir`.
fn find_archives(dir: &Utf8Path, out: &mut Vec<Utf8PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let Ok(p) = Utf8PathBuf::from_path_buf(e.path()) else { continue };
        if p.is_dir() {
            find_archives(&p, out);
        } else if p.extension() == Some("a") {
            out.push(p);
        }
    }
}
