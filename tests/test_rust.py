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
    assert_refused(proc, "error[E0433]", "unix", "the project's build backend `maturin`", status=1, out=out)
