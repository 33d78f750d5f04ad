//! The Python extension module `wasiwheel._wasiwheel`: the PEP 517 hooks'
//! native side. `backend/wasiwheel/__init__.py` only marshals arguments to
//! these functions and turns [`BuildError`] into `SystemExit` (a message, no
//! traceback).

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::driver as build;
use crate::pep517::config::Settings;

create_exception!(_wasiwheel, BuildError, PyException, "A build failed; the message says why and what would fix it.");

fn to_py(e: crate::Error) -> PyErr {
    BuildError::new_err(e.to_string())
}

fn settings(config: BTreeMap<String, Vec<String>>) -> PyResult<Settings> {
    Settings::resolve(&config, |k| std::env::var(k).ok()).map_err(to_py)
}

fn cwd() -> PyResult<Utf8PathBuf> {
    let d =
        std::env::current_dir().map_err(|e| BuildError::new_err(format!("cannot read the current directory: {e}")))?;
    Utf8PathBuf::from_path_buf(d)
        .map_err(|p| BuildError::new_err(format!("the project directory {} is not UTF-8", p.display())))
}

fn out_dir(dir: &str) -> PyResult<Utf8PathBuf> {
    let p = Utf8PathBuf::from(dir);
    Ok(if p.is_absolute() { p } else { cwd()?.join(p) })
}

/// The backend that `tool.wasiwheel.backend` of the project at `root` names, if any.
fn wrapped(root: &camino::Utf8Path) -> PyResult<Option<String>> {
    crate::pep517::pyproject::wrapped_backend(root).map_err(to_py)
}

/// A hook other than `build_wheel` of a wrapped backend; its result as a string.
fn wrapped_name(
    py: Python<'_>,
    backend: &str,
    hook: &str,
    dir: &str,
    config: BTreeMap<String, Vec<String>>,
    host_python: &str,
) -> PyResult<String> {
    let (root, out) = (cwd()?, out_dir(dir)?);
    py.detach(|| build::wrapped_other_hook(&root, backend, hook, Some(&out), config, host_python))
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .map_err(to_py)
}

/// PEP 517 `build_wheel` for the project in the current directory.
/// `config` maps each config-settings key to its values; `host_python` is
/// `sys.executable`. Returns the wheel's file name. Raises `BuildError`.
#[pyfunction]
fn build_wheel(
    py: Python<'_>,
    wheel_directory: &str,
    config: BTreeMap<String, Vec<String>>,
    host_python: &str,
) -> PyResult<String> {
    let (root, out) = (cwd()?, out_dir(wheel_directory)?);
    if let Some(backend) = wrapped(&root)? {
        return py.detach(|| build::wrapped_build_wheel(&root, &out, config, host_python, &backend)).map_err(to_py);
    }
    let s = settings(config)?;
    py.detach(|| build::build_wheel(&root, &out, s, host_python)).map_err(to_py)
}

/// PEP 660 `build_editable`. Returns the wheel's file name. Raises `BuildError`.
#[pyfunction]
fn build_editable(
    py: Python<'_>,
    wheel_directory: &str,
    config: BTreeMap<String, Vec<String>>,
    host_python: &str,
) -> PyResult<String> {
    if let Some(backend) = wrapped(&cwd()?)? {
        return wrapped_name(py, &backend, "build_editable", wheel_directory, config, host_python);
    }
    let s = settings(config)?;
    let (root, out) = (cwd()?, out_dir(wheel_directory)?);
    py.detach(|| build::build_editable(&root, &out, s, host_python)).map_err(to_py)
}

/// PEP 517 `build_sdist`; `host_python` is `sys.executable` (it runs a
/// wrapped backend). Returns the sdist's file name. Raises `BuildError`.
#[pyfunction]
fn build_sdist(
    py: Python<'_>,
    sdist_directory: &str,
    config: BTreeMap<String, Vec<String>>,
    host_python: &str,
) -> PyResult<String> {
    if let Some(backend) = wrapped(&cwd()?)? {
        return wrapped_name(py, &backend, "build_sdist", sdist_directory, config, host_python);
    }
    let s = settings(config)?;
    let (root, out) = (cwd()?, out_dir(sdist_directory)?);
    py.detach(|| build::build_sdist(&root, &out, &s)).map_err(to_py)
}

/// PEP 517 `prepare_metadata_for_build_wheel`. Returns the `.dist-info`
/// directory's name. Raises `BuildError`.
#[pyfunction]
fn prepare_metadata_for_build_wheel(
    py: Python<'_>,
    metadata_directory: &str,
    config: BTreeMap<String, Vec<String>>,
    host_python: &str,
) -> PyResult<String> {
    if let Some(backend) = wrapped(&cwd()?)? {
        return wrapped_name(py, &backend, "prepare_metadata_for_build_wheel", metadata_directory, config, host_python);
    }
    let s = settings(config)?;
    let (root, out) = (cwd()?, out_dir(metadata_directory)?);
    py.detach(|| build::prepare_metadata(&root, &out, s, host_python)).map_err(to_py)
}

/// PEP 517/660 `get_requires_for_build_{kind}` (`kind`: `wheel`, `sdist`,
/// `editable`) for the project in the current directory: none for
/// wasiwheel's own builds (after validating `config`); a wrapped backend's
/// own answer otherwise (`host_python` runs it). Raises `BuildError`.
#[pyfunction]
fn get_requires(
    py: Python<'_>,
    kind: &str,
    config: BTreeMap<String, Vec<String>>,
    host_python: &str,
) -> PyResult<Vec<String>> {
    let root = cwd()?;
    let Some(backend) = wrapped(&root)? else {
        return settings(config).map(|_| Vec::new());
    };
    let hook = format!("get_requires_for_build_{kind}");
    let v =
        py.detach(|| build::wrapped_other_hook(&root, &backend, &hook, None, config, host_python)).map_err(to_py)?;
    Ok(v.as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_string)).collect())
}

/// Run the command line: `argv` as `sys.argv`, `self_command` how to invoke
/// wasiwheel again (`[sys.executable, "-m", "wasiwheel"]`). Returns the exit status.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>, self_command: Vec<String>) -> i32 {
    py.detach(|| crate::cli::main(argv, self_command))
}

/// The JSON schema (draft-07) of `[tool.wasiwheel]`, as JSON text
/// (`wasiwheel.schema.tool_schema` parses it for validate-pyproject).
#[pyfunction]
fn tool_schema_json() -> String {
    crate::pep517::pyproject::schema::tool_schema().to_string()
}

#[pymodule]
fn _wasiwheel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Provisioning a target CPython from the PEP 517 hooks runs wasiwheel
    // again (as CPython's WASI host runner): this interpreter, `-m wasiwheel`.
    let exe: String = m.py().import("sys")?.getattr("executable")?.extract()?;
    crate::toolchain::provision::set_self_command(vec![exe, "-m".into(), "wasiwheel".into()]);
    // Where this interpreter finds what the foreign-build driver imports
    // (wasiwheel's own dependencies), for a host interpreter that lacks them.
    let find_spec = m.py().import("importlib.util")?.getattr("find_spec")?;
    let mut dirs: Vec<String> = Vec::new();
    for name in ["build", "pyproject_hooks", "packaging"] {
        let spec = find_spec.call1((name,))?;
        if spec.is_none() {
            continue;
        }
        let origin: Option<String> = spec.getattr("origin")?.extract().ok();
        // origin is .../site-packages/NAME/__init__.py: the directory two levels up.
        if let Some(dir) = origin.as_deref().map(camino::Utf8Path::new).and_then(|p| p.parent()?.parent()) {
            if !dirs.iter().any(|d| d == dir.as_str()) {
                dirs.push(dir.to_string());
            }
        }
    }
    crate::toolchain::provision::set_host_packages(dirs);
    m.add_function(wrap_pyfunction!(build_wheel, m)?)?;
    m.add_function(wrap_pyfunction!(build_sdist, m)?)?;
    m.add_function(wrap_pyfunction!(build_editable, m)?)?;
    m.add_function(wrap_pyfunction!(prepare_metadata_for_build_wheel, m)?)?;
    m.add_function(wrap_pyfunction!(get_requires, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(tool_schema_json, m)?)?;
    m.add("BuildError", m.py().get_type::<BuildError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
