"""numpy 2.5.5 for WASI from its unmodified PyPI sdist (issue 24).

`wasiwheel build numpy==2.5.5 -C target=wasm32-wasi` (meson-python with
numpy's vendored meson, the cross file, no BLAS, C++ with exceptions) is built
once per session; every extension module of the wheel imports in
`wasiwheel run`, a set of kernels gives the results of PyPI's binary wheel run
natively, and a deterministic slice of numpy's own suite passes in WASI as
natively, except the tests of tests/wasi-limits.txt. The whole suite runs in
.ci/run-realworld.
"""

import json
import os
import zipfile

import pytest

from conftest import base_ids, guest_like_env, limits, passed_ids, sh, target_python_prefix

VERSION = "2.5.5"

#: The slice of numpy's suite .ci/run runs (WASIWHEEL_TEST_REALWORLD=1: all of `--pyargs numpy`):
#: the array object, ufuncs, dtypes, indexing, numeric functions, linear algebra, FFT, random.
SLICE = [
    "numpy/_core/tests/test_multiarray.py",
    "numpy/_core/tests/test_umath.py",
    "numpy/_core/tests/test_dtype.py",
    "numpy/_core/tests/test_indexing.py",
    "numpy/_core/tests/test_numeric.py",
    "numpy/linalg/tests/test_linalg.py",
    "numpy/fft/tests/test_pocketfft.py",
    "numpy/random/tests/test_generator_mt19937.py",
]

#: Kernels whose results WASI and native must agree on (JSON-printable summaries).
KERNELS = """
import json, numpy as np
rng = np.random.default_rng(12345)
a = rng.random(10**6)
m = rng.random((256, 256))
ints = rng.integers(0, 1000, 10**6)
x = np.linspace(0, 1, 2**20)
out = {
    "sort": float(np.sort(a)[[0, 1000, 500000, -1]].sum()),
    "matmul": round(float((m @ m).trace()), 6),
    "ufunc": round(float(np.sum(np.sqrt(np.exp(-a) * np.sin(a) + 1.0))), 6),
    "unique": int(np.unique(ints).size),
    "fft": round(float(np.abs(np.fft.fft(np.sin(2 * np.pi * 50 * x))).max()), 3),
    "solve": [round(v, 9) for v in np.linalg.solve([[3.0, 1.0], [1.0, 2.0]], [9.0, 8.0]).tolist()],
    "svd": [round(v, 9) for v in np.linalg.svd([[1.0, 2.0], [3.0, 4.0]], compute_uv=False).tolist()],
    "longdouble": [np.finfo(np.longdouble).bits, str(np.longdouble(1) / 3)[:20]],
    "dtype_sizes": [np.dtype(np.intp).itemsize, np.dtype("l").itemsize],
    "random": rng.standard_normal(3).round(12).tolist(),
    "str": np.char.upper(np.array(["wasi", "numpy"])).tolist(),
    "datetime": str(np.datetime64("2026-12-05") + np.timedelta64(30, "D")),
}
print(json.dumps(out, sort_keys=True))
"""


@pytest.fixture(scope="session")
def numpy_wheel(tmp_path_factory, wasiwheel_cli):
    """numpy's WASI wheel, built once for the session from its PyPI sdist."""
    out = tmp_path_factory.mktemp("numpy-wasi")
    sh([wasiwheel_cli, "build", f"numpy=={VERSION}", "-C", "target=wasm32-wasi", "-o", out], timeout=3600)
    (wheel,) = out.glob(f"numpy-{VERSION}-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl")
    return wheel


@pytest.fixture(scope="session")
def native_numpy(tmp_path_factory):
    """A venv of the target CPython's host Python (3.13) with PyPI's numpy binary wheel and the suite's
    test requirements: the native side of every comparison."""
    venv = tmp_path_factory.mktemp("numpy-native") / "venv"
    sh([target_python_prefix("3.13") / "host" / "bin" / "python3", "-m", "venv", venv])
    python = venv / "bin" / "python"
    sh([python, "-m", "pip", "install", "-q", "--only-binary", "numpy", f"numpy=={VERSION}", "pytest",
        "hypothesis"], timeout=1800)
    return python


def run(cli, wheel, code, *extra):
    return sh([cli, "run", "--python", "3.13", "--wheel", wheel, *extra, "--", "-c", code], timeout=1800)


def test_every_extension_module_imports(numpy_wheel, wasiwheel_cli):
    """Each `.so` of the wheel (`_multiarray_umath`, `_umath_linalg`, `_pocketfft_umath`, numpy.random's Cython
    modules, …) is a module that imports in the target CPython relinked with them."""
    with zipfile.ZipFile(numpy_wheel) as z:
        modules = sorted(n[: -len(".cpython-313-wasm32-wasi.so")].replace("/", ".")
                         for n in z.namelist() if n.endswith(".so"))
    for name in ["numpy._core._multiarray_umath", "numpy.linalg._umath_linalg", "numpy.fft._pocketfft_umath",
                 "numpy.random._generator", "numpy.random._mt19937", "numpy.random.mtrand"]:
        assert name in modules, modules
    code = f"import importlib, json\nprint(json.dumps([importlib.import_module(m).__name__ for m in {modules!r}]))"
    assert json.loads(run(wasiwheel_cli, numpy_wheel, code).stdout) == modules


def test_kernels_give_the_native_results(numpy_wheel, native_numpy, wasiwheel_cli):
    """Sorting, matmul (lapack_lite, no BLAS), a ufunc chain, unique, FFT, solve, SVD, random streams, strings
    and datetimes give in WASI what PyPI's numpy gives natively; long double is IEEE quad on wasm32 (113-bit
    mantissa, 128 bits), as numpy found at configure time by running its probe under wasiwheel."""
    wasi = json.loads(run(wasiwheel_cli, numpy_wheel, KERNELS).stdout)
    native = json.loads(sh([native_numpy, "-c", KERNELS]).stdout)
    assert wasi["longdouble"][0] == 128 and wasi["dtype_sizes"] == [4, 4], wasi
    assert native["dtype_sizes"] == [8, 8], native
    for key in ("longdouble", "dtype_sizes"):
        wasi.pop(key), native.pop(key)
    assert wasi == native


def suite_args():
    if os.environ.get("WASIWHEEL_TEST_REALWORLD") == "1":
        return ["--pyargs", "numpy"]
    return ["--pyargs", *(p[: -len(".py")].replace("/", ".") for p in SLICE)]


def test_own_suite_passes_in_wasi_as_natively(numpy_wheel, native_numpy, wasiwheel_cli):
    """numpy's own tests (the slice above; all of them in .ci/run-realworld) with pytest and hypothesis: every
    test that passes natively on PyPI's wheel passes in WASI, except those of tests/wasi-limits.txt."""
    args = ["-q", "-rA", "-p", "no:cacheprovider", "-p", "no:randomly", *suite_args(), *limits("numpy")]
    wasi = sh([wasiwheel_cli, "test", numpy_wheel, "--requires", "pytest", "--requires", "hypothesis", "--",
               *args], check=False, timeout=5400)
    text = wasi.stdout + wasi.stderr
    assert wasi.returncode == 0 and " 0 failed, 0 error" in text, text[-6000:]
    native = sh([native_numpy, "-m", "pytest", *args], env=guest_like_env(), inherit=False, check=False,
                timeout=3600, cwd=native_numpy.parent)
    assert native.returncode == 0, native.stdout[-4000:]
    n, w = base_ids(native.stdout), base_ids(text)
    assert sum(n.values()) > 1000, native.stdout[-2000:]
    assert n - w == type(n)(), (n - w, passed_ids(text)[:5])
