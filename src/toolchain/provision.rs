//! Provisioning on first use: when a build, run or test needs a target
//! CPython or WASI SDK that the cache lacks, wasiwheel installs the pinned
//! ones itself after saying what it is about to do and how long it takes.
//!
//! * The SDK for a CPython version is its PEP 11 pin
//!   ([`crate::model::target::pinned_sdk`]), as an official release
//!   download; where that cannot be had and Debian's packages are here, the
//!   Debian-package equivalent of the nearest SDK at or above the pin
//!   ([`crate::toolchain::sdk::debian`]; needs LLVM's wasm32 packages).
//! * The target CPython is the pinned source release of the version
//!   ([`CPYTHON_RELEASES`]: python.org's tarball, else Debian's source package
//!   of the same bytes), built with that SDK and the standard library's C
//!   libraries ([`crate::toolchain::python::deps`]) by CPython's own WASI build
//!   driver, once (about ten minutes on two cores).
//!
//! `WASIWHEEL_NO_PROVISION=1` or the command line's `--offline` turns this
//! off: a missing toolchain is then an error naming `wasiwheel setup`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use camino::Utf8Path;

use crate::error::{Error, Result};
use crate::model::target::{pinned_sdk, PyVersion, WasiTarget};
use crate::progress;
use crate::toolchain::python::{self, deps, TargetPython};
use crate::toolchain::sdk::{self, debian, official, WasiSdk};
use crate::toolchain::sources::{self, DebianSource, Origin, PinnedFile, Wanted};

static SELF_COMMAND: OnceLock<Vec<String>> = OnceLock::new();
static OFFLINE: AtomicBool = AtomicBool::new(false);

/// Record how to run wasiwheel itself (`["wasiwheel"]`, or `[python, "-m",
/// "wasiwheel"]`): CPython's WASI build runs its tests of the new interpreter
/// through `wasiwheel exec`. The first call wins.
pub fn set_self_command(cmd: Vec<String>) {
    let _ = SELF_COMMAND.set(cmd);
}

/// How to run wasiwheel itself (see [`set_self_command`]); `["wasiwheel"]` by default.
pub fn self_command() -> Vec<String> {
    SELF_COMMAND.get().cloned().unwrap_or_else(|| vec!["wasiwheel".into()])
}

/// The host Python to run host-side tools with when none is given and no
/// target CPython decides it: the interpreter wasiwheel runs in
/// (`[python, "-m", "wasiwheel"]`), else `python3`.
pub fn default_host_python() -> String {
    match self_command().as_slice() {
        [python, m, w] if m == "-m" && w == "wasiwheel" => python.clone(),
        _ => "python3".to_string(),
    }
}

/// The host interpreter for work done for the target CPython `py` (running a
/// foreign PEP 517 backend, pip resolving for the target): `explicit`
/// (`--host-python`, `WASIWHEEL_HOST_PYTHON`) when given; else the native
/// CPython of `py`'s version kept with it ([`TargetPython::host_python`]), as
/// pyodide-build runs builds under a host Python of the target's version, so
/// that `requires-python` checks and build scripts reading `sys.version_info`
/// see the target's version; else [`default_host_python`].
pub fn host_python(explicit: Option<&str>, py: &TargetPython) -> String {
    if let Some(e) = explicit.filter(|e| !e.trim().is_empty()) {
        return e.to_string();
    }
    py.host_python().map(|p| p.to_string()).unwrap_or_else(default_host_python)
}

static HOST_PACKAGES: OnceLock<Vec<String>> = OnceLock::new();

/// Record the `sys.path` directories where the interpreter wasiwheel runs in
/// finds the packages its host-side driver needs (`build`, `pyproject_hooks`,
/// `packaging`: dependencies of wasiwheel's own wheel). The first call wins.
/// Only the Python extension module knows them (feature `python`).
#[cfg(feature = "python")]
pub fn set_host_packages(dirs: Vec<String>) {
    let _ = HOST_PACKAGES.set(dirs);
}

/// The directories of [`set_host_packages`] (none for the bare native binary):
/// the driver of a foreign build appends them to its own `sys.path` when the
/// host interpreter lacks `build`, never to the backend's environment.
pub fn host_packages() -> Vec<String> {
    HOST_PACKAGES.get().cloned().unwrap_or_default()
}

/// Turn provisioning off for this process (the command line's `--offline`).
pub fn set_offline() {
    OFFLINE.store(true, Ordering::Relaxed);
}

/// Is provisioning on: not `--offline`, and `WASIWHEEL_NO_PROVISION` unset,
/// empty or `0`/`false`/`no`?
pub fn enabled() -> bool {
    if OFFLINE.load(Ordering::Relaxed) {
        return false;
    }
    match std::env::var("WASIWHEEL_NO_PROVISION") {
        Ok(v) => matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false" | "no" | "off"),
        Err(_) => true,
    }
}

/// A CPython source release that wasiwheel can provision.
#[derive(Debug, Clone, Copy)]
pub struct CPythonRelease {
    /// The full version, e.g. `3.13.5`.
    pub version: &'static str,
    /// The tarball (python.org's name) and its sha256.
    pub pin: PinnedFile,
    /// Debian's source package with the same tarball as its `.orig`:
    /// (`package=version`, suite, file name).
    pub debian: (&'static str, &'static str, &'static str),
}

/// The pinned CPython source releases, newest per minor version.
pub const CPYTHON_RELEASES: &[CPythonRelease] = &[CPythonRelease {
    version: "3.13.5",
    pin: PinnedFile {
        file: "Python-3.13.5.tar.xz",
        sha256: "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
    },
    debian: ("python3.13=3.13.5-2+deb13u5", "trixie", "python3.13_3.13.5.orig.tar.xz"),
}];

/// The pinned source release of CPython `version`, if there is one.
pub fn cpython_release(version: PyVersion) -> Option<&'static CPythonRelease> {
    CPYTHON_RELEASES.iter().find(|r| r.version.parse::<PyVersion>().is_ok_and(|v| v == version))
}

/// The default version provisioned when a build names none.
pub const DEFAULT_VERSION: PyVersion = PyVersion { major: 3, minor: 13 };

/// Fetch the source tarball of `rel` into the cache (`sources/`); returns its path.
///
/// Errors: as [`sources::fetch`].
pub fn fetch_cpython_source(rel: &CPythonRelease) -> Result<camino::Utf8PathBuf> {
    let (spec, suite, file) = rel.debian;
    let wanted = Wanted {
        what: format!("CPython {} source", rel.version),
        pin: rel.pin,
        origin: Origin {
            urls: vec![format!("https://www.python.org/ftp/python/{0}/Python-{0}.tar.xz", rel.version)],
            debian: Some(DebianSource { spec: spec.into(), suite, file: file.into() }),
        },
    };
    Ok(sources::fetch("", &[wanted])?.remove(0))
}

/// The SDK majors to try for a CPython whose pin is `pin`, in order: the pin
/// (official download), then the Debian-package equivalents at or above it.
fn sdk_candidates(pin: u32) -> Vec<(u32, bool)> {
    let mut out = vec![(pin, false)];
    let mut debs: Vec<u32> = debian::DEBIAN_RECIPES.iter().map(|r| r.major).filter(|m| *m >= pin).collect();
    debs.sort_unstable();
    out.extend(debs.into_iter().map(|m| (m, true)));
    out
}

/// An installed SDK that can build CPython `version` as provisioning would
/// choose it: the pin, else the nearest Debian equivalent above it.
fn installed_sdk_for(version: PyVersion) -> Result<Option<WasiSdk>> {
    let Some(pin) = pinned_sdk(version) else { return Ok(None) };
    let all = sdk::installed()?;
    Ok(sdk_candidates(pin).into_iter().find_map(|(m, _)| all.iter().find(|s| s.identity.major == m).cloned()))
}

/// The WASI SDK for building CPython `version`: an installed one of its pin
/// (or the Debian equivalent provisioning would choose), else provisioned:
/// the official release of the pin, else the Debian-package equivalent of the
/// nearest SDK at or above it.
///
/// Errors: [`Error::SdkNotInstalled`] when provisioning is off;
/// [`Error::Toolchain`] when the version has no pin, or no route worked (each
/// route's reason, and for the Debian route the `apt-get install` line of
/// the host packages it needs).
pub fn sdk_for_python(version: PyVersion) -> Result<WasiSdk> {
    let pin = pinned_sdk(version).ok_or_else(|| {
        Error::Toolchain(format!("CPython {version} has no WASI SDK pin (PEP 11): give `-C wasi-sdk=DIR`"))
    })?;
    if let Some(s) = installed_sdk_for(version)? {
        return Ok(s);
    }
    if !enabled() {
        return Err(Error::SdkNotInstalled { want: Some(pin) });
    }
    ensure_sdk(pin)
}

/// Provision WASI SDK `major` (or, where it cannot be downloaded, the Debian
/// equivalent of the nearest SDK at or above it), printing what it does.
///
/// Errors: [`Error::Toolchain`] listing why each route failed.
pub fn ensure_sdk(major: u32) -> Result<WasiSdk> {
    let mut why = Vec::new();
    for (m, from_debian) in sdk_candidates(major) {
        if let Some(s) = sdk::installed()?.into_iter().find(|s| s.identity.major == m) {
            return Ok(s);
        }
        let r = if from_debian {
            if !crate::toolchain::apt::available() {
                why.push(format!("WASI SDK {m} from Debian packages: Debian's apt client is not here"));
                continue;
            }
            progress::status(&format!(
                "provisioning the Debian-package equivalent of WASI SDK {m} (a few seconds; it uses the host's {})",
                debian::debian_llvm_packages(
                    debian::DEBIAN_RECIPES.iter().find(|r| r.major == m).map_or(0, |r| r.llvm)
                )
            ));
            debian::install_from_debian(m, &debian::DebianInstallOptions::default())
        } else {
            if !official::OFFICIAL_RELEASES.iter().any(|r| r.major == m) {
                continue;
            }
            progress::status(&format!("provisioning WASI SDK {m}: downloading the official release (about 100 MB)"));
            official::install_official(m, None)
        };
        match r {
            Ok(s) => {
                if m != major {
                    progress::status(&format!(
                        "using {} for the pin WASI SDK {major}, which could not be had; wheels built with it are \
                         tagged with SDK {m}",
                        s.identity
                    ));
                }
                return Ok(s);
            }
            Err(e) => why.push(format!("WASI SDK {m}{}: {e}", if from_debian { " (Debian)" } else { "" })),
        }
    }
    Err(Error::Toolchain(format!("cannot provision WASI SDK {major}:\n  {}", why.join("\n  "))))
}

/// The target CPython for a build: `prefix` if given, else the cached one of
/// `version` for `target` ([`python::resolve`]), else — when provisioning is
/// on and the version has a pinned source release for wasm32-wasip1 — the
/// pinned release provisioned with [`ensure_python`].
///
/// Errors: as [`python::resolve`] (naming `wasiwheel setup`) when provisioning
/// is off or cannot apply; as [`ensure_python`] when it fails.
pub fn python(prefix: Option<&Utf8Path>, version: Option<PyVersion>, target: WasiTarget) -> Result<TargetPython> {
    match python::resolve(prefix, version, target) {
        Err(Error::PythonNotInstalled { .. })
            if enabled()
                && target == WasiTarget::P1
                && cpython_release(version.unwrap_or(DEFAULT_VERSION)).is_some() =>
        {
            ensure_python(version.unwrap_or(DEFAULT_VERSION), &default_host_python())
        }
        r => r,
    }
}

/// Provision the pinned CPython `version` for wasm32-wasip1 (an installed
/// one with its native host interpreter is returned as it is): its SDK ([`sdk_for_python`]), its source and the
/// standard library's C library sources (cached), then the build, with
/// `host_python` running CPython's build driver.
///
/// Errors: [`Error::Toolchain`] for a version without a pinned release (naming
/// `wasiwheel python install --source`), a source that cannot be fetched, or a
/// failed build (with the log's path).
pub fn ensure_python(version: PyVersion, host_python: &str) -> Result<TargetPython> {
    if let Ok(p) = python::resolve(None, Some(version), WasiTarget::P1) {
        // An install from before wasiwheel kept the native build Python is
        // provisioned again (replacing it), to get the host interpreter.
        if !p.is_compile_only() && p.host_python().is_some() {
            return Ok(p);
        }
    }
    let rel = cpython_release(version).ok_or_else(|| {
        let known: Vec<&str> = CPYTHON_RELEASES.iter().map(|r| r.version).collect();
        Error::Toolchain(format!(
            "wasiwheel has no pinned source release of CPython {version} to provision (it has {}): build one with \
             `wasiwheel python install {version} --source Python-{version}.X.tar.xz`",
            known.join(", ")
        ))
    })?;
    check_host(version)?;
    progress::status(&format!(
        "provisioning CPython {} for wasm32-wasip1: the WASI SDK, the source release and the sources of zlib, bzip2, \
         xz and sqlite3, then one build (about ten minutes on two cores; cached in {} afterwards; \
         WASIWHEEL_NO_PROVISION=1 turns this off)",
        rel.version,
        crate::toolchain::cache::root()?
    ));
    let sdk = sdk_for_python(version)?;
    let source = fetch_cpython_source(rel)?;
    let deps_dir = match deps::fetch_pinned() {
        Ok(d) => Some(d),
        Err(e) => {
            progress::status(&format!("building without zlib, _bz2, _lzma and _sqlite3: {e}"));
            None
        }
    };
    let deps = deps::choose_sources(&[], deps_dir.as_deref())?;
    python::install_from_source(
        version,
        &python::InstallOptions {
            source,
            sdk,
            host_python: host_python.to_string(),
            self_command: self_command(),
            verbose: false,
            deps,
        },
    )
}

/// The SDK for a build whose target CPython was built with SDK `want`:
/// `explicit` (`-C wasi-sdk`, `WASI_SDK_PATH`) if given; else the installed
/// SDK of that major; else — provisioning on — that SDK provisioned
/// ([`ensure_sdk`]); else as [`sdk::resolve`].
///
/// Errors: as [`sdk::resolve`] and [`ensure_sdk`].
pub fn sdk(explicit: Option<&Utf8Path>, want: Option<u32>) -> Result<WasiSdk> {
    if explicit.is_none() && enabled() {
        if let Some(m) = want {
            if !sdk::installed()?.iter().any(|s| s.identity.major == m) {
                return ensure_sdk(m);
            }
        }
    }
    sdk::resolve(explicit, want)
}

/// Check the host programs that provisioning CPython `version` needs, before
/// anything is fetched: those of CPython's build (`make`, `cc`, `tar`) and of
/// its C libraries' builds; and say which Debian packages the Debian route of
/// its SDK would need where they are missing.
///
/// Errors: [`Error::Toolchain`] naming the missing programs and the Debian
/// packages that provide them.
pub fn check_host(version: PyVersion) -> Result<()> {
    let on_path = |t: &str| crate::toolchain::which(t).is_some();
    let missing: Vec<&str> =
        ["make", "cc", "tar", "xz", "patch", "tclsh"].into_iter().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        let pkgs: Vec<&str> = missing
            .iter()
            .map(|t| match *t {
                "cc" => "gcc",
                "xz" => "xz-utils",
                "tclsh" => "tcl",
                t => t,
            })
            .collect();
        return Err(Error::Toolchain(format!(
            "provisioning CPython {version} needs {} on PATH (on Debian: `apt-get install {}`)",
            missing.join(", "),
            pkgs.join(" ")
        )));
    }
    // The native build Python, kept as the host interpreter, needs these
    // modules (pip over HTTPS, wheels, ctypes); their headers must be there.
    let lacking: Vec<&str> = [("openssl/ssl.h", "libssl-dev"), ("zlib.h", "zlib1g-dev"), ("ffi.h", "libffi-dev")]
        .into_iter()
        .filter(|(header, _)| !host_has_header(header))
        .map(|(_, package)| package)
        .collect();
    if !lacking.is_empty() {
        return Err(Error::Toolchain(format!(
            "provisioning CPython {version} builds a native CPython {version} as the host interpreter of target \
             builds, which needs the headers of {} (on Debian: `apt-get install {}`)",
            lacking.join(", "),
            lacking.join(" ")
        )));
    }
    if installed_sdk_for(version)?.is_none() {
        let pin = pinned_sdk(version).unwrap_or(0);
        for (m, from_debian) in sdk_candidates(pin) {
            let Some(r) = debian::DEBIAN_RECIPES.iter().find(|r| r.major == m).filter(|_| from_debian) else {
                continue;
            };
            let clang = camino::Utf8PathBuf::from(format!("/usr/lib/llvm-{}/bin/clang", r.llvm));
            if crate::toolchain::apt::available() && !clang.exists() {
                progress::status(&format!(
                    "note: where the official WASI SDK {pin} cannot be downloaded, its Debian-package equivalent \
                     (WASI SDK {m}) needs `apt-get install {}`",
                    debian::debian_llvm_packages(r.llvm)
                ));
            }
            break;
        }
    }
    Ok(())
}

/// Can the host's C compiler (`cc`) include `header`? (A preprocessor run.)
fn host_has_header(header: &str) -> bool {
    use std::io::Write;
    let child = std::process::Command::new("cc")
        .args(["-E", "-x", "c", "-", "-o", "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "#include <{header}>");
    }
    child.wait().is_ok_and(|s| s.success())
}
