//! `wasiwheel install`: install requirements for a WASI target CPython into a
//! directory that `wasiwheel run --site` maps in.
//!
//! The resolver is pip's (resolvelib), run by the host Python with the
//! target's wheel tags (`--platform` as `wasiwheel tags` prints them, `--python-version`,
//! `--implementation cp`, `--abi`, `--only-binary :all:`, `--target`). pip
//! has no flag for the marker environment and would evaluate environment
//! markers (PEP 508) for the host, so a small driver ([`DRIVER`]) replaces
//! `pip._vendor.packaging.markers.default_environment` with the target's
//! environment ([`MarkerEnvironment`]) before it runs pip's own command line.
//! The driver checks that the replacement took effect (a `sys_platform ==
//! "wasi"` marker must evaluate true) and refuses to run otherwise, so a pip
//! whose internals moved fails loudly instead of resolving for the host.
//! docs/registry.md says why this was chosen over uv and a Rust resolver.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, Result};
use crate::model::target::PyVersion;

/// The PEP 508 environment markers of a WASI CPython, as `packaging`'s
/// `default_environment()` computes them inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerEnvironment {
    /// `python_version`, e.g. `3.13`.
    pub python_version: String,
    /// `python_full_version` and `implementation_version`, e.g. `3.13.5`.
    pub python_full_version: String,
}

impl MarkerEnvironment {
    /// The environment of CPython `full_version` (e.g. `3.13.5`) for WASI.
    pub fn wasi(version: PyVersion, full_version: &str) -> Self {
        MarkerEnvironment {
            python_version: format!("{}.{}", version.major, version.minor),
            python_full_version: full_version.to_string(),
        }
    }

    /// Every marker variable and its value: WASI CPython has `sys.platform ==
    /// "wasi"`, `os.name == "posix"`, and wasi-libc's `uname()` gives
    /// `platform.system() == "wasi"`, `release()` and `version()` `"0.0.0"`,
    /// `machine() == "wasm32"` (measured inside CPython 3.13 built with WASI
    /// SDK 25; tests/test_registry.py compares with `packaging` there).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("implementation_name", "cpython".into()),
            ("implementation_version", self.python_full_version.clone()),
            ("os_name", "posix".into()),
            ("platform_machine", "wasm32".into()),
            ("platform_release", "0.0.0".into()),
            ("platform_system", "wasi".into()),
            ("platform_version", "0.0.0".into()),
            ("python_full_version", self.python_full_version.clone()),
            ("platform_python_implementation", "CPython".into()),
            ("python_version", self.python_version.clone()),
            ("sys_platform", "wasi".into()),
        ]
    }

    /// The environment as a JSON object.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> =
            self.pairs().into_iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v))).collect();
        serde_json::Value::Object(map).to_string()
    }
}

/// The target to install for: its CPython, wheel tags and markers.
#[derive(Debug, Clone)]
pub struct InstallTarget {
    /// The ABI tag (`cp313`).
    pub abi: String,
    /// The WASI platform tags, best first (as `wasiwheel tags` prints them).
    pub platforms: Vec<String>,
    /// The marker environment.
    pub markers: MarkerEnvironment,
}

/// What to install and from where.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    /// Requirement specifiers (PEP 508), as pip takes them.
    pub requirements: Vec<String>,
    /// Requirements files (`-r FILE`).
    pub requirement_files: Vec<Utf8PathBuf>,
    /// The directory to install into (created if missing).
    pub target_dir: Utf8PathBuf,
    /// The simple index to use instead of pip's default (PyPI).
    pub index_url: Option<String>,
    /// Also look for distributions here (directories or URLs).
    pub find_links: Vec<String>,
    /// Use no index at all (only `find_links`).
    pub no_index: bool,
    /// The host Python that runs pip.
    pub host_python: String,
}

/// The driver the host Python runs: `python -c DRIVER MARKERS_JSON PIP_ARGS…`.
pub const DRIVER: &str = r#"
import json, sys
env = json.loads(sys.argv[1])
try:
    import pip
    from pip._vendor.packaging import markers
    from pip._internal.cli.main import main
except ImportError as e:
    sys.stderr.write("wasiwheel: the host Python %s cannot import pip (%s)\n" % (sys.executable, e))
    sys.exit(3)
markers.default_environment = lambda: dict(env)
if not (markers.Marker('sys_platform == "wasi"').evaluate()
        and markers.Marker('platform_machine == "wasm32"').evaluate()):
    sys.stderr.write("wasiwheel: pip %s evaluates markers elsewhere; cannot use it for WASI\n" % pip.__version__)
    sys.exit(4)
sys.argv = ["pip"] + sys.argv[2:]
sys.exit(main(sys.argv[1:]))
"#;

/// pip's arguments for `req` on `target` (after `pip`).
pub fn pip_args(target: &InstallTarget, req: &InstallRequest) -> Vec<String> {
    let mut a: Vec<String> = ["install", "--disable-pip-version-check", "--no-input", "--upgrade", "--retries", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.extend(["--target".into(), req.target_dir.to_string()]);
    a.extend(target_args(target));
    if req.no_index {
        a.push("--no-index".into());
    }
    if let Some(u) = &req.index_url {
        a.extend(["--index-url".into(), u.clone()]);
    }
    for f in &req.find_links {
        a.extend(["--find-links".into(), f.clone()]);
    }
    for f in &req.requirement_files {
        a.extend(["--requirement".into(), f.to_string()]);
    }
    a.extend(req.requirements.iter().cloned());
    a
}

/// pip's options that select distributions for `target`: binary only, its
/// implementation, Python version, ABIs (`cp3X`, `abi3`, `none`) and WASI
/// platform tags (shared by `wasiwheel install` and `wasiwheel build -r`).
pub fn target_args(target: &InstallTarget) -> Vec<String> {
    let mut a: Vec<String> = vec!["--only-binary".into(), ":all:".into()];
    a.extend(["--implementation".into(), "cp".into()]);
    a.extend(["--python-version".into(), target.markers.python_version.clone()]);
    for abi in [target.abi.as_str(), "abi3", "none"] {
        a.extend(["--abi".into(), abi.to_string()]);
    }
    for p in &target.platforms {
        a.extend(["--platform".into(), p.clone()]);
    }
    a
}

/// The host Python running pip under the marker driver ([`DRIVER`]) for
/// `target`; the caller adds pip's arguments (after `pip`). Exit status 3
/// means the host Python has no pip, 4 that its pip cannot be redirected.
pub fn pip_command(host_python: &str, target: &InstallTarget) -> Command {
    let mut cmd = Command::new(host_python);
    cmd.arg("-c").arg(DRIVER).arg(target.markers.to_json());
    cmd
}

/// The error for the marker driver's own exit statuses (3: the host Python
/// has no pip; 4: its pip cannot be redirected to the target's markers);
/// `None` for pip's statuses.
pub fn driver_error(code: Option<i32>, host_python: &str) -> Option<Error> {
    match code {
        Some(3) => Some(Error::Toolchain(format!(
            "the host Python `{host_python}` has no pip: install pip into it, or give another with --host-python"
        ))),
        Some(4) => Some(Error::Toolchain(
            "this pip evaluates environment markers in a way wasiwheel cannot redirect to the WASI target; \
             install a pip >= 23 into the host Python"
                .into(),
        )),
        _ => None,
    }
}

/// Check that `url` (an index) can be reached before pip spends its retries
/// on it: a local directory must exist; an HTTP(S) index must answer.
///
/// Errors: [`Error::Download`] naming the URL and what went wrong.
pub fn check_index(url: &str) -> Result<()> {
    let fail = |reason: String| Error::Download {
        url: url.to_string(),
        reason: format!("the package index {url} cannot be used: {reason}; check --index-url"),
    };
    if let Some(rest) = url.strip_prefix("file://") {
        let path = url::Url::parse(url)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .unwrap_or_else(|| std::path::PathBuf::from(rest));
        if !path.is_dir() {
            return Err(fail(format!("{} is not a directory", path.display())));
        }
        return Ok(());
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(fail("it is not an http://, https:// or file:// URL".into()));
    }
    let agent = crate::http::probe_agent(std::time::Duration::from_secs(20));
    match agent.get(url).header("Accept", "text/html").call() {
        Ok(r) if r.status().as_u16() == 404 => Err(fail("it answered 404 Not Found".into())),
        Ok(r) if r.status().is_server_error() => Err(fail(format!("it answered HTTP {}", r.status()))),
        Ok(_) => Ok(()),
        Err(e) => Err(fail(format!("cannot connect ({e})"))),
    }
}

/// Install `req` for `target` with pip under the marker driver.
///
/// Errors: [`Error::Download`] for an index that cannot be reached,
/// [`Error::Toolchain`] when the host Python cannot run pip,
/// [`Error::Other`] when pip fails (its own message is printed above).
pub fn install(target: &InstallTarget, req: &InstallRequest) -> Result<()> {
    if req.requirements.is_empty() && req.requirement_files.is_empty() {
        return Err(Error::Other("nothing to install: give requirements or -r FILE".into()));
    }
    for f in &req.requirement_files {
        if !f.is_file() {
            return Err(Error::Other(format!("the requirements file {f} does not exist")));
        }
    }
    if let Some(u) = &req.index_url {
        check_index(u)?;
    }
    for f in &req.find_links {
        if !f.contains("://") && !Utf8Path::new(f).exists() {
            return Err(Error::Other(format!("--find-links {f}: no such directory or file")));
        }
    }
    let mut cmd = pip_command(&req.host_python, target);
    cmd.args(pip_args(target, req));
    let status = cmd.status().map_err(|e| {
        Error::Toolchain(format!(
            "cannot run the host Python `{}` ({e}): give one with pip via --host-python or WASIWHEEL_HOST_PYTHON",
            req.host_python
        ))
    })?;
    if let Some(e) = driver_error(status.code(), &req.host_python) {
        return Err(e);
    }
    match status.code() {
        Some(0) => Ok(()),
        _ => Err(Error::Other(format!(
            "pip could not install the requirements for WASI ({status}); its message is above"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_pip_line() {
        let v = PyVersion { major: 3, minor: 13 };
        let t = InstallTarget {
            abi: "cp313".into(),
            platforms: vec!["wasi_0_1_sdk_25_wasm32".into()],
            markers: MarkerEnvironment::wasi(v, "3.13.5"),
        };
        let env: serde_json::Value = serde_json::from_str(&t.markers.to_json()).unwrap();
        assert_eq!(env["sys_platform"], "wasi");
        assert_eq!(env["platform_machine"], "wasm32");
        assert_eq!(env["platform_system"], "wasi");
        assert_eq!(env["python_full_version"], "3.13.5");
        assert_eq!(env["python_version"], "3.13");
        let req = InstallRequest {
            requirements: vec!["attrs".into()],
            requirement_files: vec![],
            target_dir: "/site".into(),
            index_url: Some("http://127.0.0.1:1/simple/".into()),
            find_links: vec![],
            no_index: false,
            host_python: "python3".into(),
        };
        let a = pip_args(&t, &req).join(" ");
        assert!(a.contains("--platform wasi_0_1_sdk_25_wasm32 "), "{a}");
        assert!(a.contains("--python-version 3.13 ") && a.contains("--abi cp313 --abi abi3 --abi none"), "{a}");
        assert!(a.contains("--only-binary :all:") && a.ends_with("--index-url http://127.0.0.1:1/simple/ attrs"));
    }

    #[test]
    fn unreachable_index_is_named() {
        // A port nobody listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/simple/");
        let e = check_index(&url).unwrap_err().to_string();
        assert!(e.contains(&url) && e.contains("--index-url"), "{e}");
        let e = check_index("file:///nonexistent/index").unwrap_err().to_string();
        assert!(e.contains("/nonexistent/index"), "{e}");
    }
}
