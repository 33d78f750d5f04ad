//! `wasiwheel test`: a package's own pytest suite inside WASI CPython.
//!
//! The test requirements (pytest and `--requires`) are installed for the
//! target by the host's pip (`--target` a private site, with the target's
//! tags: pure wheels from the index, WASI wheels from `--find-links`), cached
//! by their inputs; the wheels under test are unpacked and their extensions
//! linked into the interpreter ([`crate::runtime::run`]); the tests
//! directory is mapped at `/project` (read-only) and made the working
//! directory; pytest runs with what WASI CPython lacks worked around: no
//! `os.dup` (`--capture=sys`, no faulthandler plugin), no `os.getuid` (the
//! `wasiwheel_wasi` plugin provides one for `tmp_path`), no `mmap` module
//! (a stand-in whose mappings fail lets test modules that import it load),
//! no cache writes.

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::runtime::run::{self, RunRequest};
use crate::runtime::wasm::Preopen;
use crate::toolchain::python::TargetPython;

/// The pytest plugin loaded inside WASI CPython.
const PLUGIN: &str = include_str!("wasiwheel_wasi.py");

/// An importable `mmap` for interpreters without one (a built-in module wins
/// where there is one): mapping raises `OSError(ENOSYS)`.
const MMAP_STANDIN: &str = include_str!("mmap_standin.py");

/// Where the tests directory appears in the guest.
pub const GUEST_PROJECT: &str = "/project";

/// A `wasiwheel test` run.
#[derive(Debug, Clone)]
pub struct TestRequest {
    /// The WASI wheels under test.
    pub wheels: Vec<Utf8PathBuf>,
    /// Test requirements besides pytest.
    pub requires: Vec<String>,
    /// The directory to map at `/project` and run in.
    pub tests: Option<Utf8PathBuf>,
    /// The guest directory to run in instead (an absolute guest path, e.g. the
    /// writable `/tmp`); default [`GUEST_PROJECT`] with `tests`, else `/`.
    pub cwd: Option<String>,
    /// Arguments for pytest.
    pub pytest_args: Vec<String>,
    /// The host interpreter whose pip installs the requirements.
    pub host_python: String,
    /// pip's target options (`--platform …`, `--python-version`, `--abi …`,
    /// `--index-url`, `--find-links`).
    pub pip_args: Vec<String>,
    /// Guest environment variables.
    pub env: Vec<(String, String)>,
    /// Print the relink command.
    pub verbose: bool,
}

/// The site with `requirements` installed for the target by pip with
/// `pip_args`, from the cache (`test-sites/<key>`) or made now.
///
/// Errors: [`Error::ToolFailed`] with pip's output when a requirement cannot
/// be installed for the target.
fn test_site(host_python: &str, requirements: &[String], pip_args: &[String]) -> Result<Utf8PathBuf> {
    let key_text = format!("{SITE_RECIPE}\n{requirements:?}\n{pip_args:?}\n{host_python}");
    let key = &crate::files::sha256_hex(key_text.as_bytes())[..16];
    let root = crate::toolchain::cache::dir("test-sites")?;
    let dest = root.join(key);
    if dest.join(".complete").exists() {
        return Ok(dest);
    }
    let _lock = crate::toolchain::cache::lock(&format!("test-site-{key}"))?;
    if dest.join(".complete").exists() {
        return Ok(dest);
    }
    let staging = crate::files::staging_dir(&root, &format!(".{key}."))?;
    let site = Utf8Path::from_path(staging.path()).ok_or_else(|| Error::Other("cache path is not UTF-8".into()))?;
    let mut cmd = std::process::Command::new(host_python);
    cmd.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary", ":all:"])
        .arg("--target")
        .arg(site)
        .args(pip_args)
        .args(requirements);
    crate::progress::status(&format!("installing {} for the target with pip", requirements.join(" ")));
    let out = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run `{host_python} -m pip`: {e}")))?;
    if !out.status.success() {
        return Err(Error::ToolFailed {
            what: format!("installing the test requirements {} for the target", requirements.join(", ")),
            status: out.status.to_string(),
            output: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
                .trim_end()
                .to_string(),
            command: format!("{cmd:?}"),
        });
    }
    drop_entries_outside(site)?;
    std::fs::write(site.join(".complete"), b"").context(|| format!("cannot write {site}/.complete"))?;
    crate::files::commit(staging, &dest)?;
    Ok(dest)
}

/// Names how [`test_site`] makes a site, in its cache key.
const SITE_RECIPE: &str = "test-site/2 (RECORD entries outside the site dropped)";

/// Remove from every `*.dist-info/RECORD` under `site` the entries outside it
/// (`../../bin/NAME`: the console scripts `pip install --target` writes to
/// `site/bin`), and that `bin` directory. In WASI such a path climbs out of
/// the site's preopened directory, which the guest may not even look at:
/// `importlib.metadata`'s `files` (which pytest reads for every plugin
/// distribution, hypothesis's among them) then fails with `PermissionError`
/// instead of skipping a missing file. The scripts cannot run in WASI anyway.
///
/// Errors: [`Error::Io`] when a RECORD cannot be read or written.
fn drop_entries_outside(site: &Utf8Path) -> Result<()> {
    let entries = std::fs::read_dir(site).context(|| format!("cannot read {site}"))?;
    for e in entries.flatten() {
        let record = site.join(e.file_name().to_string_lossy().as_ref()).join("RECORD");
        if !e.file_name().to_string_lossy().ends_with(".dist-info") || !record.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&record).context(|| format!("cannot read {record}"))?;
        let kept: String = text.lines().filter(|l| !l.starts_with("../")).map(|l| format!("{l}\n")).collect();
        if kept.len() != text.len() {
            std::fs::write(&record, kept).context(|| format!("cannot write {record}"))?;
        }
    }
    let bin = site.join("bin");
    if bin.is_dir() {
        std::fs::remove_dir_all(&bin).context(|| format!("cannot remove {bin}"))?;
    }
    Ok(())
}

/// Run the tests of `req` in `python`. Prints pytest's report, a summary
/// line of counts and the time; returns pytest's exit status.
///
/// Errors: as [`run::run`]; [`Error::ToolFailed`] when the requirements
/// cannot be installed; [`Error::Other`] for a missing wheel or tests directory.
pub fn test(python: &TargetPython, req: &TestRequest) -> Result<i32> {
    for w in &req.wheels {
        if !w.is_file() {
            return Err(Error::Other(format!("{w} does not exist: give the WASI wheels to test")));
        }
    }
    let mut requirements = vec!["pytest".to_string()];
    requirements.extend(req.requires.iter().cloned());
    let site = test_site(&req.host_python, &requirements, &req.pip_args)?;
    let tmp = tempfile::Builder::new()
        .prefix("wasiwheel-test.")
        .tempdir()
        .context(|| "cannot create a temporary directory".to_string())?;
    let plugins = Utf8Path::from_path(tmp.path())
        .ok_or_else(|| Error::Other("the temporary directory path is not UTF-8".into()))?
        .to_path_buf();
    std::fs::write(plugins.join("wasiwheel_wasi.py"), PLUGIN).context(|| format!("cannot write {plugins}"))?;
    std::fs::write(plugins.join("mmap.py"), MMAP_STANDIN).context(|| format!("cannot write {plugins}"))?;
    let mut dirs = Vec::new();
    let mut env = vec![("WASIWHEEL_TEST_CWD".to_string(), "/".to_string())];
    if let Some(t) = &req.tests {
        if !t.is_dir() {
            return Err(Error::Other(format!("--tests {t} is not a directory")));
        }
        dirs.push(Preopen { host: t.clone(), guest: GUEST_PROJECT.into(), writable: false });
        env[0].1 = GUEST_PROJECT.into();
    }
    if let Some(cwd) = &req.cwd {
        if !cwd.starts_with('/') {
            return Err(Error::Other(format!("--cwd {cwd} is not an absolute guest path: give e.g. /tmp")));
        }
        env[0].1 = cwd.clone();
    }
    env.extend(req.env.iter().cloned());
    let launcher = "import os, sys; os.chdir(os.environ['WASIWHEEL_TEST_CWD']); sys.path.insert(0, ''); \
                    import pytest; sys.exit(pytest.main(sys.argv[1:]))";
    let mut args = vec!["-c".to_string(), launcher.to_string()];
    args.extend(
        ["-p", "no:faulthandler", "-p", "no:cacheprovider", "--capture=sys", "-p", "wasiwheel_wasi"].map(String::from),
    );
    args.extend(req.pytest_args.iter().cloned());
    let started = std::time::Instant::now();
    let status = run::run(
        python,
        &RunRequest {
            wheels: req.wheels.clone(),
            sites: vec![site, plugins.clone()],
            args,
            dirs,
            env,
            allow_sdk_mismatch: false,
            wasi_sdk: None,
            verbose: req.verbose,
        },
    )?;
    crate::progress::status(&format!(
        "tests ran in WASI CPython {} in {:.1}s (pytest exit status {status})",
        python.full_version(),
        started.elapsed().as_secs_f64()
    ));
    Ok(status)
}
