"""Foreign sdists (issue 11): unmodified PyPI sdists whose backend is
setuptools, meson-python or scikit-build-core, built for WASI with one
``wasiwheel build NAME==VERSION -C target=wasm32-wasi`` each, and their own
test suites run in WASI CPython with ``wasiwheel test``.

The sdists come from the package index by pinned version; wasiwheel checks
the index's sha256 and caches them under ~/.cache/wasiwheel/sdists. Tests that
need what WASI lacks are listed with their reason in
``tests/wasi-limits.txt`` and deselected.
"""

import io
import json
import os
import shutil
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from conftest import (SDISTS, assert_refused, base_ids, guest_like_env, limits, real_cache, run_python, sh,
                      target_python_prefix)

TARGET = ["-C", "target=wasm32-wasi"]

# name, version, sha256 of the sdist (as PyPI lists it).
PINS = {
    "markupsafe": ("3.0.4", "2e9ad7dd851bf45fab9f75cbff4cb493fee9979e8d8c7c9c3ee119022518edd6"),
    "simplejson": ("4.3.0", "ffe34ab51a0d37e6d1c661a5672df00d2d5e18804e38eac07abffb83fa5ec3d7"),
    "bitarray": ("3.12.3", "919e35a951c0a551631b94bf568f3f5e38d004e0c60866cb2ca51bd8c4778fec"),
    "wrapt": ("2.5.2", "551cb49e88b3722faad780303833bc4fa70685fb1773270fb98b40d39d9fddbf"),
    "brotli": ("1.2.1", "02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de"),
    "msgpack": ("1.2.4", "475c44e12f2a5de766a8448783f149c9b33f3f49b88953c6cd739a77d93c732c"),
    "ujson": ("6.1.0", "aef7ea4cd9e2e9f8a35c4538a9780d58c80d76c5da66a8dad269b4cc6d930c29"),
    "kiwisolver": ("1.5.1", "f1303ef2eec81262a4b708c3e858afe58d7c75ad91c1c05266eda7673369859a"),
    "siphash24": ("1.9", "0aae53d2074cdddd51d36fac05efb70aa0724654f871c3b1420ca46167b143af"),
    "rapidfuzz": ("3.14.6", "e13a8160d017b499ec7a2fa9d0ce1ae2e7377080815785819f966fb235d4eb60"),
    "sqlalchemy": ("2.1.9", "d700a8b2edfb26282a470333d6bc4a454c4acda4d201a3bea7b72fa76c217d28"),
    "rpds-py": ("2026.9.1", "4793ef7f78268b124b73fa933440f01d258bbae01de9fa53e9080c9ab0425a12"),
    "orjson": ("3.13.0", "d1de5eb04485110c5da4c657e49168995d55e076b1ce60f1a042e254f4186c4f"),
    "pydantic-core": ("2.50.4", "aead3b74b68396bf0feab5d57e050b730ded7df55853c1e048a87e00aaf033c6"),
    "bcrypt": ("5.0.0", "f748f7c2d6fd375cc93d3fba7ef4a9e3a092421b8dbf34d8d4dc06be9492dfdd"),
}

# How each suite runs: (map the unpacked sdist at /project?, pytest arguments).
SUITES = {
    "markupsafe": (True, ["tests"]),
    "simplejson": (False, ["--pyargs", "simplejson.tests"]),
    "bitarray": (False, ["--pyargs", "bitarray.test_bitarray", "bitarray.test_util", "bitarray.test_bitfields"]),
    "wrapt": (True, ["tests"]),
    "brotli": (True, ["python/tests"]),
    "msgpack": (True, ["test"]),
    "ujson": (True, ["tests"]),
    # C++ that throws and catches (issue 22): built with wasm exception handling.
    "kiwisolver": (True, ["py/tests"]),
    "rapidfuzz": (True, ["tests"]),
    # Rust (issue 23): maturin and PyO3, linked by wasiwheel's linker for the target.
    "rpds-py": (True, ["tests"]),
    "orjson": (True, ["test"]),
    # Its whole suite but the doctests of its docstrings (pytest-examples, which its own test requirements
    # install only on x86_64 CPython) and the benchmarks. pytest-timeout is its ini's: WASI CPython's signal
    # module has SIGALRM but no setitimer, so the plugin is left out in both runs (with its ini key and mark).
    "pydantic-core": (True, ["-p", "no:timeout", "-W", "ignore::pytest.PytestConfigWarning",
                             "-W", "ignore::pytest.PytestUnknownMarkWarning", "tests",
                             "--ignore=tests/test_docstrings.py", "--ignore=tests/benchmarks"]),
    # setuptools-rust (PyO3): its backend is setuptools, its Rust built by cargo through setuptools-rust.
    "bcrypt": (True, ["tests"]),
}

# Test requirements besides pytest (`wasiwheel test --requires`): orjson's
# test/requirements.txt but numpy, pendulum and psutil (not for WASI), and
# tzdata (WASI has no system time-zone database for zoneinfo).
REQUIRES = {
    "rapidfuzz": ["hypothesis"],
    "orjson": ["faker", "pytz", "python-dateutil>=2,<3", "tzdata"],
    # Its testing group (pyproject.toml) for WASI: no numpy/pandas (as on its own non-x86_64 CI), no
    # pytest-examples, coverage, pytest-pretty or pytest-timeout.
    "pydantic-core": ["dirty-equals", "hypothesis", "inline-snapshot", "pytest-mock", "pytest-benchmark",
                      "pytest-run-parallel", "python-dateutil", "typing-inspection>=0.4.1", "tzdata",
                      "typing-extensions"],
}

# Build settings of a package's build (environment variables its backend reads). pydantic-core's
# release profile is fat LTO with one codegen unit, 28 minutes on two cores; cargo's standard
# overrides make it 1 minute (a bigger, slower module; the profile as shipped is .ci/run-realworld's).
BUILD_ENV = {"pydantic-core": {"CARGO_PROFILE_RELEASE_LTO": "false", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16"}}
# .ci/run-realworld: every package built as it ships (its own build profile).
REALWORLD = os.environ.get("WASIWHEEL_TEST_REALWORLD") == "1"
if REALWORLD:
    BUILD_ENV = {}

# The suites also run natively (PyPI's binary wheel, in a venv of the host CPython of the target's
# version) and are compared test by test.
COMPARED = ["rpds-py", "orjson", "pydantic-core", "bcrypt"]

def env(name=None):
    """The environment of every wasiwheel command here: the test interpreter
    (which has ``build``) drives the foreign backends; `name`'s build settings."""
    return {"WASIWHEEL_HOST_PYTHON": sys.executable, **BUILD_ENV.get(name, {})}


def sdist_path(name):
    version, _ = PINS[name]
    stem = name.replace("-", "_")  # PEP 625 sdist names: rpds_py-2026.9.1.tar.gz
    cached = [p for p in (real_cache() / "sdists").glob("*.tar.gz")
              if p.name.lower() in (f"{name}-{version}.tar.gz", f"{stem}-{version}.tar.gz")]
    return cached[0] if cached else None


def unpack(name, dest):
    """The unpacked sdist of `name` (from wasiwheel's cache) under `dest`."""
    path = sdist_path(name)
    assert path, f"{name} was not fetched into the cache"
    with tarfile.open(path) as t:
        t.extractall(dest, filter="data")
    (root,) = [p for p in Path(dest).iterdir() if p.is_dir()]
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory, wasiwheel_cli):
    """name → (wheel path, seconds) for each package built so far."""
    return {"_dir": tmp_path_factory.mktemp("foreign-wheels")}


def build(wasiwheel_cli, name, out, *extra, check=True):
    version, _ = PINS[name]
    return sh([wasiwheel_cli, "build", f"{name}=={version}", *TARGET, "-o", out, *extra], env=env(name),
              check=check)


def check_wheel(path, modules):
    """A retagged WASI wheel: tags, WHEEL, dylibs, archives, manifest, RECORD."""
    assert "-cp313-cp313-wasi_0_1_sdk_25_wasm32" in path.name, path.name
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        sos = [n for n in names if n.endswith(".so")]
        assert sos, names
        for so in sos:
            assert z.read(so)[:4] == b"\0asm", so
        (wheel,) = [n for n in names if n.endswith(".dist-info/WHEEL")]
        text = z.read(wheel).decode()
        assert "Root-Is-Purelib: false" in text and "Tag: cp313-cp313-wasi_0_1_sdk_25_wasm32" in text, text
        (manifest,) = [n for n in names if n.endswith("static-extensions/manifest.json")]
        m = json.loads(z.read(manifest))
        assert sorted(e["name"] for e in m["modules"]) == sorted(modules), m
        for e in m["modules"]:
            assert z.read(manifest.rsplit("/", 1)[0] + "/" + e["archive"])[:8] == b"!<arch>\n"
        assert names[-1].endswith(".dist-info/RECORD")
    target = path.parent / ("installed-" + path.stem)
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "-d", target, path])


EXPECTED_MODULES = {
    "markupsafe": ["markupsafe._speedups"],
    "simplejson": ["simplejson._speedups"],
    "bitarray": ["bitarray._bitarray", "bitarray._util"],
    "wrapt": ["wrapt._wrappers"],
    "brotli": ["_brotli"],
    "msgpack": ["msgpack._cmsgpack"],
    "ujson": ["ujson"],
    "kiwisolver": ["kiwisolver._cext"],
    "rapidfuzz": [f"rapidfuzz.{m}" for m in (
        "distance._initialize_cpp", "distance.metrics_cpp", "fuzz_cpp", "process_cpp_impl", "utils_cpp")],
    "rpds-py": ["rpds.rpds"],
    "orjson": ["orjson.orjson"],
    "pydantic-core": ["pydantic_core._pydantic_core"],
    "bcrypt": ["bcrypt._bcrypt"],
}


@pytest.mark.parametrize("name", list(SUITES))
def test_builds_from_unmodified_sdist(name, wasiwheel_cli, built, tmp_path):
    out = tmp_path / "dist"
    build(wasiwheel_cli, name, out)
    (whl,) = out.glob("*.whl")
    check_wheel(whl, EXPECTED_MODULES[name])
    kept = built["_dir"] / whl.name
    kept.write_bytes(whl.read_bytes())
    built[name] = kept


@pytest.mark.parametrize("name", list(SUITES))
def test_own_suite_runs_in_wasi(name, wasiwheel_cli, built, tmp_path):
    if name not in built:
        pytest.fail(f"{name} was not built (see test_builds_from_unmodified_sdist)")
    mapped, args = SUITES[name]
    cmd = [wasiwheel_cli, "test", built[name], *(a for r in REQUIRES.get(name, []) for a in ("--requires", r))]
    if mapped:
        cmd += ["--tests", unpack(name, tmp_path)]
    cmd += ["--", *args, *limits(name)]
    if name in COMPARED:
        cmd.insert(cmd.index("--") + 1, "-rA")
    proc = sh(cmd, env=env(), check=False, timeout=3600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "wasiwheel test:" in out and " 0 failed, 0 error" in out, out[-3000:]
    built[f"{name}:suite"] = out


@pytest.mark.parametrize("name", COMPARED)
def test_own_suite_passes_as_natively(name, built, tmp_path):
    """The same suite, with the same arguments and the same tests of tests/wasi-limits.txt left out, run
    natively on PyPI's binary wheel in a venv of the host CPython of the target's version: every test
    that passes natively passes in WASI (the suites' WASI-only skips are in the WASI run's summary)."""
    if f"{name}:suite" not in built:
        pytest.fail(f"{name}'s suite did not run in WASI (see test_own_suite_runs_in_wasi)")
    version, _ = PINS[name]
    host = target_python_prefix("3.13") / "host" / "bin" / "python3"
    assert host.is_file(), f"{host}: the target CPython's host interpreter is missing"
    venv = tmp_path / "venv"
    sh([host, "-m", "venv", venv])
    sh([venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--only-binary",
        f"{name}", f"{name}=={version}", "pytest", *REQUIRES.get(name, [])], timeout=1800)
    root = unpack(name, tmp_path / "sdist")
    _, args = SUITES[name]
    ran = sh([venv / "bin" / "python", "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *args, *limits(name)],
             cwd=root, env=guest_like_env(), inherit=False, check=False, timeout=3600)
    assert ran.returncode == 0, ran.stdout[-4000:]
    native, wasi = base_ids(ran.stdout), base_ids(built[f"{name}:suite"])
    assert sum(native.values()) > 100, ran.stdout[-2000:]
    assert native - wasi == Counter(), (native - wasi, wasi - native)


# sqlalchemy's own "reduced" wheel-test scope (noxfile.py, WHEEL_TEST_SCOPES): the suites that exercise its
# eight Cython modules, with the paired Py*/Cy* tests; the flags of its test-wheel session.
SQLALCHEMY_SCOPE = ["test/base", "test/engine/test_processors.py", "test/sql/test_resultset.py"]
SQLALCHEMY_FLAGS = ["-q", "-rA", "--nomemory", "--notimingintensive", "--nomypy"]


def test_sqlalchemy_core_suite_without_exit_trap(wasiwheel_cli, tmp_path):
    """Issue 20: sqlalchemy 2.1.9 (Cython 3.3) from its sdist. Every run used to end with a trap in the
    final collection of Py_FinalizeEx (CPython's own operator.methodcaller has a void tp_clear); now a
    query works and exits cleanly, and its own suite's core part runs in WASI (sqlite only, in the
    writable /tmp: it attaches schema databases in its working directory) with the installed wheel
    (PYTHONNOUSERSITE keeps its conftest from importing ./lib), every test passing but those listed."""
    out = tmp_path / "dist"
    build(wasiwheel_cli, "sqlalchemy", out)
    (whl,) = out.glob("*.whl")
    check_wheel(whl, [f"sqlalchemy.{m}" for m in (
        "engine._processors_cy", "engine._result_cy", "engine._row_cy", "engine._util_cy",
        "sql._cache_key_cy", "sql._util_cy", "util._collections_cy", "util._immutabledict_cy")])
    site = tmp_path / "site"
    sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, "typing_extensions==4.16.0"])
    code = ("import sqlalchemy; e = sqlalchemy.create_engine('sqlite://'); "
            "print(e.connect().exec_driver_sql('select 1').all())")
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", whl, "--site", site, "--", "-c", code],
              check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "[(1,)]", proc.stderr[-3000:]
    assert "wasm trap" not in proc.stderr, proc.stderr[-3000:]
    root = unpack("sqlalchemy", tmp_path / "sdist")
    cmd = [wasiwheel_cli, "test", whl, "--requires", "typing_extensions", "--tests", root, "--cwd", "/tmp",
           "--env", "PYTHONNOUSERSITE=1", "--env", "REQUIRE_SQLALCHEMY_CEXT=1", "--",
           *SQLALCHEMY_FLAGS, *[f"/project/{p}" for p in SQLALCHEMY_SCOPE], *limits("sqlalchemy")]
    proc = sh(cmd, env=env(), check=False, timeout=3600)
    out_text = proc.stdout + proc.stderr
    assert proc.returncode == 0, out_text[-6000:]
    assert "wasm trap" not in out_text, out_text[-3000:]
    assert "compiled extension enabled" in out_text, out_text[:3000]
    assert "wasiwheel test:" in out_text and " 0 failed, 0 error" in out_text, out_text[-3000:]


def test_several_wheels_in_one_interpreter(wasiwheel_cli, built):
    wheels = [built[n] for n in ("markupsafe", "msgpack", "ujson") if n in built]
    assert len(wheels) == 3, "the wheels were not built"
    code = (
        "import markupsafe, msgpack, ujson, markupsafe._speedups, msgpack._cmsgpack; "
        "print(markupsafe.escape('<a>'), msgpack.unpackb(msgpack.packb({'a': 1})), ujson.dumps({'b': 2}), "
        "msgpack.Packer.__module__)"
    )
    proc = run_python(wasiwheel_cli, code, wheels, check=False)
    assert proc.returncode == 0 and "&lt;a&gt; {'a': 1} {\"b\":2} msgpack._cmsgpack" in proc.stdout, proc.stderr


def test_same_init_symbol_in_two_wheels(wasiwheel_cli, built):
    """markupsafe._speedups and simplejson._speedups both define PyInit__speedups:
    in one static interpreter each is its own (symbol namespaces, objlink)."""
    code = "import markupsafe, simplejson; print(simplejson.dumps([markupsafe.escape('<a>')]))"
    proc = run_python(wasiwheel_cli, code, [built["markupsafe"], built["simplejson"]], check=False)
    assert proc.returncode == 0 and '["&lt;a&gt;"]' in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "sample, repair",
    [("meson-demo", True), ("cmake-demo", True), ("meson-demo", False)],
    ids=["meson-python", "scikit-build-core", "meson-python-unrepaired"],
)
def test_meson_and_cmake_samples(wasiwheel_cli, tmp_path, sample, repair):
    """Our own meson-python and scikit-build-core samples go through the meson
    cross file and the CMake toolchain file; their METH_NOARGS function cast to
    PyCFunction works in WASI because the wrappers repair the cast (and traps
    when the repair is turned off)."""
    out = tmp_path / "dist"
    sh([wasiwheel_cli, "build", SDISTS / sample, *TARGET, "-o", out, "-C", f"fpcast-repair={str(repair).lower()}"],
       env=env())
    (whl,) = out.glob("*.whl")
    package = sample.replace("-demo", "demo")
    check_wheel(whl, [f"{package}._fast"])
    code = f"import {package}; print({package}.add(2, 3), {package}._fast.__name__); print({package}.answer())"
    proc = run_python(wasiwheel_cli, code, [whl], check=False)
    if repair:
        assert proc.returncode == 0 and proc.stdout.split() == ["5", f"{package}._fast", "42"], proc.stderr
    else:
        assert proc.returncode != 0, proc.stdout
        assert "indirect call type mismatch" in proc.stderr, proc.stderr[-3000:]


def test_meson_python_host_interpreter_too_old(wasiwheel_cli, tmp_path):
    """meson-python checks requires-python against the host interpreter that
    runs it: wasiwheel says so, and how to give another, before anything runs."""
    import shutil

    project = tmp_path / "meson-demo"
    shutil.copytree(SDISTS / "meson-demo", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires-python = ">=3.9"', 'requires-python = ">=3.99"'))
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", project, *TARGET, "-o", out], env=env(), check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "requires Python >=3.99" in proc.stderr and "--host-python" in proc.stderr, proc.stderr[-3000:]
    assert f"`{sys.executable}`" in proc.stderr, proc.stderr[-3000:]
    assert not out.exists() or not any(out.iterdir())


def test_cxx_exceptions_off_refused_with_reason(wasiwheel_cli, tmp_path):
    """kiwisolver throws and catches C++ exceptions: with -C
    cxx-exceptions=false the compiler wrappers compile C++ with
    -fno-exceptions, and the refusal says why and how to turn them on."""
    out = tmp_path / "dist"
    proc = build(wasiwheel_cli, "kiwisolver", out, "-C", "cxx-exceptions=false", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "with exceptions disabled" in proc.stderr and "-C cxx-exceptions=false" in proc.stderr, proc.stderr[-4000:]
    assert not out.exists() or not any(out.iterdir())


def test_meson_python_project_without_network(wasiwheel_cli, tmp_path):
    """siphash24 (meson-python) gets its C libraries from git wraps on GitHub:
    without network the build fails in meson, and nothing is left behind."""
    out = tmp_path / "dist"
    proc = build(wasiwheel_cli, "siphash24", out, check=False)
    assert_refused(proc, "cross environment", "mesonpy", status=1, out=out)


RAPIDFUZZ_CALLS = """
import json
from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import Levenshtein
teams = ["Atlanta Falcons", "Dallas Cowboys", "New York Jets"]
out = [fuzz.ratio("this is a test", "this is a test!"), fuzz.partial_ratio("fuzzy wuzzy", "wuzzy"),
       process.extractOne("cowboys", teams, scorer=fuzz.WRatio, processor=utils.default_process),
       Levenshtein.distance("kitten", "sitting"), fuzz.ratio.__module__]
try:
    process.extractOne("a", [1, 2], scorer=fuzz.ratio)
except TypeError as e:
    out.append(str(e))
print(json.dumps(out))
"""


def test_rapidfuzz_scorers_are_its_cpp(wasiwheel_cli, built):
    """rapidfuzz 3.14.6 (scikit-build-core, C++ with exceptions, Cython
    `except +`, -flto from its CMake; built by test_builds_from_unmodified_sdist)
    uses its C++ scorers in WASI, which give its README's results, and a bad
    choice in its C++ path fails as the TypeError it gives natively."""
    if "rapidfuzz" not in built:
        pytest.fail("rapidfuzz was not built (see test_builds_from_unmodified_sdist)")
    whl = built["rapidfuzz"]
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", whl, "--", "-c", RAPIDFUZZ_CALLS], check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout) == [96.55172413793103, 100.0, ["Dallas Cowboys", 90.0, 1], 3,
                                       "rapidfuzz.fuzz_cpp", "object of type 'int' has no len()"]


def test_scikit_build_core_project(wasiwheel_cli, tmp_path):
    """rapidfuzz (scikit-build-core, C++ with exceptions) reaches CMake through
    the toolchain file; with -C cxx-exceptions=false its C++ is refused with the reason."""
    out = tmp_path / "dist"
    proc = build(wasiwheel_cli, "rapidfuzz", out, "-C", "cxx-exceptions=false", check=False)
    assert_refused(proc, "with exceptions disabled", "-C cxx-exceptions=false", status=1, out=out)


# ---- bad inputs -------------------------------------------------------------


def make_sdist(path, files, *, links=()):
    """A .tar.gz at `path` with `files` (name → text) and `links` ((name, target), …)."""
    with tarfile.open(path, "w:gz") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            t.addfile(info)
    return path


SETUP_PY = """
from setuptools import setup, Extension
setup(name="needsfork", version="1.0", ext_modules=[Extension("needsfork", ["needsfork.c"])])
"""
PYPROJECT = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
FORK_C = """
#include <Python.h>
#include <unistd.h>
static PyObject *f(PyObject *self, PyObject *args) { return PyLong_FromLong(fork()); }
static PyMethodDef methods[] = {{"f", f, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "needsfork", NULL, -1, methods};
PyMODINIT_FUNC PyInit_needsfork(void) { return PyModule_Create(&mod); }
"""


def test_c_that_needs_what_wasi_lacks(wasiwheel_cli, tmp_path):
    sdist = make_sdist(
        tmp_path / "needsfork-1.0.tar.gz",
        {"needsfork-1.0/setup.py": SETUP_PY, "needsfork-1.0/pyproject.toml": PYPROJECT,
         "needsfork-1.0/needsfork.c": FORK_C},
    )
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", sdist, *TARGET, "-o", out], env=env(), check=False)
    assert proc.returncode == 1
    err = proc.stderr
    assert "wasiwheel: error: compiling" in err and "needsfork.c" in err, err[-3000:]
    assert "fork" in err and "hint: WASI has no processes" in err, err[-3000:]
    assert not out.exists() or not any(out.iterdir())


HOST_SETUP_PY = """
import subprocess, sysconfig
from setuptools import setup, Extension
from setuptools.command.build_ext import build_ext

class HostBuild(build_ext):
    # A backend that ignores CC and calls the host compiler by path.
    def build_extension(self, ext):
        out = self.get_ext_fullpath(ext.name)
        import os; os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        subprocess.check_call(["/usr/bin/gcc", "-shared", "-fPIC", "-o", out, "host.c"])

setup(name="hostso", version="1.0", ext_modules=[Extension("hostso", ["host.c"])], cmdclass={"build_ext": HostBuild})
"""


def test_host_so_is_refused(wasiwheel_cli, tmp_path):
    sdist = make_sdist(
        tmp_path / "hostso-1.0.tar.gz",
        {"hostso-1.0/setup.py": HOST_SETUP_PY, "hostso-1.0/pyproject.toml": PYPROJECT,
         "hostso-1.0/host.c": "int answer(void) { return 42; }\n"},
    )
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", sdist, *TARGET, "-o", out], env=env(), check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "hostso" in proc.stderr and "host ELF shared object" in proc.stderr, proc.stderr[-3000:]
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    "member, links, why",
    [
        ("evil-1.0/../escaped.txt", (), "`..` component"),
        ("/tmp/absolute.txt", (), "absolute path"),
        ("evil-1.0/ok.txt", (("evil-1.0/link", "../../etc"),), "outside the sdist's tree"),
    ],
)
def test_unsafe_sdist_refused_before_anything_runs(wasiwheel_cli, tmp_path, member, links, why):
    marker = tmp_path / "ran"
    setup = f"open({str(marker)!r}, 'w').write('x')\nfrom setuptools import setup\nsetup()\n"
    files = {"evil-1.0/setup.py": setup, "evil-1.0/pyproject.toml": PYPROJECT, member: "x"}
    sdist = make_sdist(tmp_path / "evil-1.0.tar.gz", files, links=links)
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", sdist, *TARGET, "-o", out], env=env(), check=False)
    assert proc.returncode == 1
    assert "is refused" in proc.stderr and why in proc.stderr, proc.stderr
    assert not marker.exists()
    assert not out.exists() or not any(out.iterdir())


def test_requirement_not_found_names_the_index(wasiwheel_cli, tmp_path):
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", "markupsafe==0.0.999", *TARGET, "-o", out], env=env(), check=False)
    assert proc.returncode == 1
    assert "no sdist of `markupsafe==0.0.999` at the package index https://pypi.org/simple" in proc.stderr
    assert "asked https://pypi.org/simple/markupsafe/" in proc.stderr, proc.stderr
    proc = sh(
        [wasiwheel_cli, "build", "no-such-project-wasiwheel-test==1.0", *TARGET, "-o", out,
         "--index-url", "https://pypi.org/simple/"],
        env=env(), check=False,
    )
    assert proc.returncode == 1
    assert "was not found at the package index https://pypi.org/simple/" in proc.stderr, proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_unknown_settings_go_to_the_backend(wasiwheel_cli, tmp_path):
    """`-C` keys wasiwheel does not know reach setuptools (which rejects this one by name)."""
    out = tmp_path / "dist"
    proc = build(wasiwheel_cli, "markupsafe", out, "--config-setting=--build-option=--no-such-option", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "no-such-option" in text, text[-3000:]
    assert not out.exists() or not any(out.iterdir())


def test_index_download_is_checked(wasiwheel_cli, tmp_path):
    """The cached sdist equals the pinned sha256 that PyPI lists."""
    import hashlib

    for name in SUITES:
        path = sdist_path(name)
        if path:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == PINS[name][1], path


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, *sys.argv[1:]]))


def test_rust_c_and_cxx_wheels_in_one_interpreter(wasiwheel_cli, built, tmp_path):
    """The three Rust wheels (each with its own Rust standard library and allocator), a C wheel
    (markupsafe) and a C++ wheel with exceptions (kiwisolver), relinked into one interpreter."""
    names = ["rpds-py", "orjson", "pydantic-core", "markupsafe", "kiwisolver"]
    missing = [n for n in names if n not in built]
    assert not missing, f"not built: {missing}"
    code = (
        "import json, rpds, orjson, markupsafe, kiwisolver\n"
        "from pydantic_core import SchemaValidator, core_schema as cs\n"
        "v = SchemaValidator(cs.dict_schema(cs.str_schema(), cs.int_schema()))\n"
        "x = kiwisolver.Variable('x'); s = kiwisolver.Solver(); s.addConstraint(x == 7); s.updateVariables()\n"
        "try:\n"
        "    s.addConstraint(x == 8); s.addConstraint(x == 9)\n"
        "    err = None\n"
        "except kiwisolver.UnsatisfiableConstraint:\n"
        "    err = 'unsatisfiable'\n"
        "print(json.dumps([sorted(rpds.HashTrieMap({'a': 1}).insert('b', 2).keys()), orjson.dumps({'k': [1]}).decode(),"
        " v.validate_python({'n': '3'}), str(markupsafe.escape('<b>')), x.value(), err]))\n"
    )
    site = tmp_path / "site"  # pydantic-core's one dependency
    sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, "typing_extensions==4.16.0"])
    wheels = [a for n in names for a in ("--wheel", built[n])]
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", *wheels, "--site", site, "--", "-c", code], check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout) == [["a", "b"], '{"k":[1]}', {"n": 3}, "&lt;b&gt;", 7.0, "unsatisfiable"]


PYDANTIC_APP = '''
import json
import jsonschema
from pydantic import BaseModel, ValidationError


class Point(BaseModel):
    x: int
    label: str = "p"


def main():
    p = Point.model_validate({"x": "3"})
    try:
        Point(x="not a number")
        error = None
    except ValidationError as e:
        error = e.errors()[0]["type"]
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    jsonschema.validate({"x": 1}, schema)
    try:
        jsonschema.validate({"x": "one"}, schema)
        invalid = None
    except jsonschema.ValidationError as e:
        invalid = e.validator
    print(json.dumps([p.model_dump_json(), error, invalid]))
'''
PYDANTIC_EXPECTED = ['{"x":3,"label":"p"}', "int_parsing", "type"]


def test_pydantic_and_jsonschema_from_a_wasi_wheelhouse(wasiwheel_cli, tmp_path, isolated_env):
    """pydantic 2.14.3 (pure) on the WASI pydantic-core and jsonschema 4.26.0 on the WASI rpds-py, from a
    wheelhouse that `wasiwheel build -r` makes (it builds the two Rust packages from their sdists and
    downloads the pure rest), installed with `wasiwheel install`: a model validates, serializes to JSON
    and reports a ValidationError, and jsonschema validates, in `wasiwheel run` and in a component
    (`-C artifact=component` with the wheelhouse's wheels inside)."""
    from wasm_host import run_command

    house = tmp_path / "wheelhouse"
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pydantic==2.14.3\njsonschema==4.26.0\n")
    proc = sh([wasiwheel_cli, "build", "-r", reqs, *TARGET, "-o", house], env=env("pydantic-core"), timeout=3600)
    table = proc.stdout
    for name in ("pydantic-core", "rpds-py"):
        assert any(l.split()[:1] == [name] and " built " in f" {l} " for l in table.splitlines()), table
    for name in ("pydantic", "jsonschema"):
        assert any(l.split()[:1] == [name] and "downloaded" in l for l in table.splitlines()), table
    site = tmp_path / "site"
    sh([wasiwheel_cli, "install", "--python", "3.13", "--no-index", "--find-links", house, "--target", site,
        "-r", reqs])
    app = tmp_path / "app"
    (app / "pyapp").mkdir(parents=True)
    (app / "pyapp" / "__init__.py").write_text(PYDANTIC_APP)
    shutil.copytree(app / "pyapp", site / "pyapp")
    code = "import pyapp; pyapp.main()"
    ran = sh([wasiwheel_cli, "run", "--python", "3.13", "--site", site, "--", "-c", code], cwd=app, check=False)
    assert ran.returncode == 0, ran.stderr[-4000:]
    assert json.loads(ran.stdout) == PYDANTIC_EXPECTED
    (app / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n\n'
        '[project]\nname = "pyapp"\nversion = "1.0"\n'
        'dependencies = ["pydantic==2.14.3", "jsonschema==4.26.0"]\n\n'
        '[project.scripts]\npyapp = "pyapp:main"\n'
    )
    out = tmp_path / "dist"
    sh([sys.executable, "-m", "build", "-w", "-C", "target=wasm32-wasi", "-C", "artifact=component", "-C",
        f"component-wheels={house}", "--outdir", out, app], env=isolated_env, timeout=1800)
    run = run_command(out / "pyapp-1.0.wasm")
    assert run.code == 0, run.stderr[-4000:]
    assert json.loads(run.stdout) == PYDANTIC_EXPECTED
