"""Issue 23: Rust extension modules for WASI. tests/sdists/maturin-demo (a PyO3
cdylib built by maturin, unmodified) goes through the cross environment:
cargo builds for wasm32-wasip1 with the standard library rebuilt
position-independent, and wasiwheel's linker for the target turns the
cdylib's link into the wasm dylib and the static archive of wasiwheel's
wheels. Its own suite passes in WASI as natively; it shares one interpreter
with C and C++ modules; a panic ends the run with its message; a toolchain
without the target is named with its fix, and nothing is left behind."""

import json
import shutil
import sys
import zipfile

import pytest

from conftest import SDISTS, assert_refused, pip_wheel, sh, suite_native_and_wasi

DEMO = SDISTS / "maturin-demo"
WHEEL = "maturindemo-0.1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"
HOST = {"WASIWHEEL_HOST_PYTHON": sys.executable}


def copy_of(project, tmp_path):
    """The project copied without build outputs (maturin writes `target/` in place)."""
    dest = tmp_path / project.name
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns("target", "build", "*.egg-info"))
    return dest


@pytest.fixture(scope="module")
def rust_wheel(tmp_path_factory, wasiwheel_cli):
    d = tmp_path_factory.mktemp("maturin")
    out = d / "dist"
    sh([wasiwheel_cli, "build", copy_of(DEMO, d), "-C", "target=wasm32-wasi", "-o", out], env=HOST, timeout=1800)
    return out / WHEEL


def test_wheel_has_the_dylib_and_the_static_archive(rust_wheel):
    with zipfile.ZipFile(rust_wheel) as z:
        names = z.namelist()
        so = z.read("maturindemo/_core.cpython-313-wasm32-wasi.so")
        manifest = json.loads(z.read("maturindemo-0.1.0.dist-info/static-extensions/manifest.json"))
        archive = z.read("maturindemo-0.1.0.dist-info/static-extensions/maturindemo._core.a")
    assert so[:4] == b"\0asm" and b"dylink.0" in so[:64], "not a wasm dylib"
    assert archive.startswith(b"!<arch>\n")
    assert [m["name"] for m in manifest["modules"]] == ["maturindemo._core"]
    assert manifest["modules"][0]["init"] == "PyInit__core"
    # The rebuilt std is in the archive, debug info is not: a few MB, not tens.
    assert len(archive) < 8_000_000, len(archive)
    assert not [n for n in names if n.endswith(".wasm") or "/target/" in n], names


def test_own_suite_in_wasi_as_natively(rust_wheel, tmp_path, wasiwheel_cli):
    native, wasi, text = suite_native_and_wasi(wasiwheel_cli, copy_of(DEMO, tmp_path), rust_wheel)
    assert wasi == native and len(wasi) == 5, text[-3000:]


def test_with_c_and_cxx_modules_in_one_interpreter(rust_wheel, tmp_path, isolated_env, wasiwheel_cli):
    """The Rust module (its own std, allocator and compiler-builtins) beside
    tests/sdists/cxxeh-demo's C and C++ modules (libc++, libunwind) in one
    relinked interpreter."""
    pip_wheel(SDISTS / "cxxeh-demo", tmp_path, isolated_env, "target=wasm32-wasi")
    (cxx,) = tmp_path.glob("cxxehdemo-*.whl")
    code = ("import json, maturindemo as m; from cxxehdemo import _throws, _jumps; "
            "c = m.Counter('n'); c.add('k', 3); "
            "print(json.dumps([m.word_counts('a b a'), list(m.ramp(255, 2)), c.get('k'), "
            "list(_throws.across(3)), list(_jumps.recover('12x4')), int('12345678901234567890') * 3]))")
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", rust_wheel, "--wheel", cxx, "--", "-c", code],
              check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout) == [{"a": 2, "b": 1}, [255, 0], 3, ["thrown at depth 3", 3, 4], [None, 3, 6],
                                       37037036703703703670]


def test_a_panic_ends_the_run_with_its_message(rust_wheel, wasiwheel_cli):
    """A Rust panic aborts in WASI (panic=abort: no unwinding into PyO3's
    PanicException, as natively), with Rust's message and a non-zero status."""
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", rust_wheel, "--", "-c",
               "import maturindemo; print('before', flush=True); maturindemo.panic('boom')"], check=False, timeout=300)
    assert proc.returncode != 0
    assert proc.stdout.strip() == "before"
    assert "panicked at src/lib.rs" in proc.stderr and "boom" in proc.stderr, proc.stderr[-3000:]


def test_missing_rust_target_is_named(tmp_path, wasiwheel_cli):
    """A Rust toolchain without the target's standard library: said before
    the backend runs, with the rustup command, and nothing written."""
    sysroot = tmp_path / "sysroot"
    (sysroot / "lib" / "rustlib" / "x86_64-unknown-linux-gnu" / "lib").mkdir(parents=True)
    rustc = tmp_path / "rustc"
    rustc.write_text(f"#!/bin/sh\necho {sysroot}\n")
    rustc.chmod(0o755)
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", copy_of(DEMO, tmp_path), "-C", "target=wasm32-wasi", "-o", out],
              env={**HOST, "RUSTC": str(rustc)}, check=False)
    assert_refused(proc, "has no standard library for wasm32-wasip1", "`rustup target add wasm32-wasip1`",
                   status=1, out=out)


BAD_LIB = """
use pyo3::prelude::*;

#[pyfunction]
fn connect(path: &str) -> PyResult<bool> {
    Ok(std::os::unix::net::UnixStream::connect(path).is_ok())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(connect, m)?)
}
"""


def test_rust_that_does_not_compile_for_wasi_fails_with_rustc_error(tmp_path, wasiwheel_cli):
    project = copy_of(DEMO, tmp_path)
    (project / "src" / "lib.rs").write_text(BAD_LIB)
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", project, "-C", "target=wasm32-wasi", "-o", out], env=HOST, check=False,
              timeout=1800)
    # The error names the crate's source, repeats rustc's diagnostic and adds the WASI limit behind it.
    assert_refused(proc, "compiling ", "src/lib.rs failed", "error[E0433]", "could not find `unix` in `os`",
                   "hint: wasm32-wasip1 is not a Unix target", status=1, out=out)


def fronted_by_wasiwheel(tmp_path):
    """tests/sdists/maturin-demo with wasiwheel in front: `[build-system]`
    names wasiwheel (and maturin among its requirements), and
    `tool.wasiwheel.backend` says that maturin builds it."""
    project = copy_of(DEMO, tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    own = 'requires = ["maturin>=1.9,<2"]\nbuild-backend = "maturin"'
    assert own in text
    text = text.replace(own, 'requires = ["wasiwheel", "maturin>=1.9,<2"]\nbuild-backend = "wasiwheel"')
    pyproject.write_text(text + '\n[tool.wasiwheel]\nbackend = "maturin"\n')
    return project


def test_pip_wheel_through_wasiwheels_cross_environment(tmp_path, wheelhouse, wasiwheel_cli):
    """`pip wheel . -C target=wasm32-wasi` of a maturin project fronted by
    wasiwheel: pip provisions wasiwheel and maturin (maturin from the index),
    wasiwheel runs maturin's hooks in its cross environment, and the result
    is the same WASI wheel as `wasiwheel build` makes; without a target pip
    gets maturin's own native wheel, and `python -m build --sdist` maturin's
    sdist, from which `wasiwheel build` makes the WASI wheel again."""
    project = fronted_by_wasiwheel(tmp_path)
    pip_env = {"PIP_FIND_LINKS": str(wheelhouse), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    wasi = tmp_path / "wasi"
    proc = pip_wheel(project, wasi, pip_env, "target=wasm32-wasi", check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    whl = wasi / WHEEL
    with zipfile.ZipFile(whl) as z:
        assert z.read("maturindemo/_core.cpython-313-wasm32-wasi.so")[:4] == b"\0asm"
        manifest = json.loads(z.read("maturindemo-0.1.0.dist-info/static-extensions/manifest.json"))
    assert [m["name"] for m in manifest["modules"]] == ["maturindemo._core"]
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "-d", tmp_path / "inst", whl])
    code = "import maturindemo as m; c = m.Counter('n'); c.add('k', 2); print(m.word_counts('x y x'), c.get('k'))"
    ran = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", whl, "--", "-c", code], check=False)
    assert ran.returncode == 0 and ran.stdout.strip() == "{'x': 2, 'y': 1} 2", ran.stderr[-3000:]

    native = tmp_path / "native"
    pip_wheel(project, native, pip_env)
    (nwhl,) = native.glob("maturindemo-0.1.0-*.whl")
    assert "linux" in nwhl.name, nwhl.name
    site = tmp_path / "native-site"
    sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, nwhl])
    ran = sh([sys.executable, "-c", code], env={"PYTHONPATH": str(site)})
    assert ran.stdout.strip() == "{'x': 2, 'y': 1} 2"

    sdists = tmp_path / "sdist"
    sh([sys.executable, "-m", "build", "--sdist", "-o", sdists, project], env=pip_env)
    (sdist,) = sdists.glob("maturindemo-0.1.0.tar.gz")
    again = tmp_path / "again"
    sh([wasiwheel_cli, "build", sdist, "-C", "target=wasm32-wasi", "-o", again], env=HOST, timeout=1800)
    assert (again / WHEEL).is_file()


def test_fronted_project_bad_settings(tmp_path, wheelhouse):
    """A wrapped project with keys of wasiwheel's own builds beside
    `backend`, and a component asked of a backend that makes wheels only:
    each refused naming the key, and no wheel written."""
    project = fronted_by_wasiwheel(tmp_path)
    pip_env = {"PIP_FIND_LINKS": str(wheelhouse), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    out = tmp_path / "out"
    proc = pip_wheel(project, out, pip_env, "target=wasm32-wasi", "artifact=component", check=False)
    assert_refused(proc, "`artifact`", "makes wheels only", out=out)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'packages = ["maturindemo"]\n')
    proc = pip_wheel(project, out, pip_env, "target=wasm32-wasi", check=False)
    assert_refused(proc, "tool.wasiwheel.backend", "`packages` would not be read", out=out)



def test_wasip2_rust_is_refused_with_the_reason(tmp_path, prefix314, wasiwheel_cli):
    """Rust for wasm32-wasip2 builds, but componentize-py cannot link the dylib (Rust's wasip2 standard
    library brings the wasi:http proxy world): refused before cargo runs, with the reason and the
    wasm32-wasip1 route, and nothing written."""
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", copy_of(DEMO, tmp_path), "-C", "target=wasm32-wasip2", "-C",
               f"python-prefix={prefix314}", "-o", out], env=HOST, check=False)
    assert_refused(proc, "Rust extensions for wasm32-wasip2 are not supported yet", "wasi:http",
                   "-C target=wasm32-wasi", status=1, out=out)
    assert "Compiling" not in proc.stderr
