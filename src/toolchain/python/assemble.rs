//! A compile-only target CPython assembled from CPython's headers and a
//! `pyconfig.h` derived for the WASI target by probing the SDK.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use super::{py_version_in, PythonRecord, TargetPython};
use crate::error::{Error, IoContext, Result};
use crate::model::target::{PyVersion, WasiTarget};
use crate::toolchain::cache;

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
    pub sdk: crate::toolchain::sdk::WasiSdk,
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
/// (see [`crate::toolchain::pyconfig`]): `include/python3.X/`, a minimal
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
        .ok_or_else(|| {
            Error::Toolchain(format!(
                "{} has no python{version}/Python.h (nor Python.h): give the directory of CPython {version}'s headers",
                opts.headers
            ))
        })?;
    let full_version = py_version_in(&inc.join("patchlevel.h"))?;
    let found: PyVersion = full_version.parse().map_err(Error::Toolchain)?;
    if found != version {
        return Err(Error::Toolchain(format!("the headers in {inc} are CPython {full_version}, not {version}")));
    }
    let native_path = match &opts.native_pyconfig {
        Some(p) => p.clone(),
        None => native_pyconfig_for(&inc, version).ok_or_else(|| {
            Error::Toolchain(format!("no native pyconfig.h found for {inc}: give it with --native-pyconfig FILE"))
        })?,
    };
    let native = std::fs::read_to_string(&native_path).context(|| format!("cannot read {native_path}"))?;
    let major = opts.sdk.identity.major;
    let target = opts.target;
    let step = crate::progress::Step::start(format!(
        "deriving pyconfig.h for CPython {full_version} on {target} with WASI SDK {major}"
    ));
    let derived = crate::toolchain::pyconfig::derive(&opts.sdk.clang(), target.triple(), &opts.sdk.sysroot(), &native)?;
    step.done();

    let name = format!("{full_version}-{target}-sdk{major}-headers");
    let staging = crate::files::staging_dir(&cache::dir("python")?, &name)?;
    let prefix = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    let dest_inc = prefix.join(format!("include/python{version}"));
    std::fs::create_dir_all(&dest_inc).context(|| format!("cannot create {dest_inc}"))?;
    let st = Command::new("cp")
        .args(["-a", &format!("{inc}/."), dest_inc.as_str()])
        .status()
        .map_err(|e| Error::Io { context: "cannot run cp".into(), source: e })?;
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
            "# Compile-only target CPython assembled by wasiwheel from the headers of CPython \
                {full_version}.\nbuild_time_vars = {{'ABIFLAGS': '',\n 'EXT_SUFFIX': '{ext_suffix}',\n \
                'MULTIARCH': 'wasm32-wasi',\n 'SOABI': '{soabi}',\n 'VERSION': '{version}'}}\n"
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
    std::fs::write(lib.join("build-details.json"), serde_json::to_string_pretty(&details).expect("json"))
        .context(|| format!("cannot write {lib}/build-details.json"))?;
    let record = PythonRecord {
        version: full_version.clone(),
        target,
        sdk: opts.sdk.identity.clone(),
        source_sha256: None,
        link_libs: Vec::new(),
        link_args: Vec::new(),
        compile_only: true,
        libraries: Vec::new(),
        host_python: None,
    };
    std::fs::write(prefix.join("wasiwheel-python.json"), serde_json::to_string_pretty(&record).expect("json"))
        .context(|| format!("cannot write {prefix}/wasiwheel-python.json"))?;
    let dest = cache::dir("python")?.join(&name);
    let _lock = cache::lock(&format!("python-{name}"))?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).context(|| format!("cannot replace {dest}"))?;
    }
    crate::files::commit(staging, &dest)?;
    crate::progress::status(&format!(
        "assembled compile-only CPython {full_version} for {target} (pyconfig.h derived with {}) at {dest}",
        opts.sdk.identity
    ));
    TargetPython::open(&dest)
}
