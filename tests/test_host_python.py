"""The host interpreter of WASI builds (issue 20): foreign backends run under
the native CPython of the target's version that is kept with the target
CPython (the build Python of CPython's WASI build), as pyodide-build runs
builds under a host Python of the target's version; and ``pip install
wasiwheel`` alone brings what the driver of foreign builds imports (`build`).

Each test installs wasiwheel into a fresh virtual environment of the test
interpreter (from the local wheelhouse, with its dependencies) and runs its
``wasiwheel`` without activating the environment, on a PATH where no
``python3`` has `build`."""

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import SDISTS, sh, target_python_prefix

HOST_PROBE_SETUP = '''\
import os
import sys

from setuptools import Extension, setup

# Record the interpreter that runs this backend.
os.makedirs("hostprobe", exist_ok=True)
with open("hostprobe/_host.py", "w") as f:
    f.write(f"VERSION = {tuple(sys.version_info[:2])!r}\\nBASE_PREFIX = {sys.base_prefix!r}\\n")
setup(
    name="hostprobe",
    version="1.0",
    packages=["hostprobe"],
    ext_modules=[Extension("hostprobe._speed", ["speed.c"])],
)
'''

SPEED_C = """\
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *unused) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""


@pytest.fixture(scope="module")
def fresh_wasiwheel(tmp_path_factory, wheelhouse):
    """`wasiwheel` of a fresh venv where only `pip install wasiwheel` ran (from the wheelhouse)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    sh([sys.executable, "-m", "venv", venv])
    sh([venv / "bin/python", "-m", "pip", "install", "-q", "--no-index", "--find-links", wheelhouse, "wasiwheel"])
    return venv / "bin/wasiwheel"


@pytest.fixture(scope="module")
def bare_path():
    """A PATH with the system's programs, on which no `python3` has `build`."""
    path = "/usr/local/bin:/usr/bin:/bin"
    probe = subprocess.run(["sh", "-c", "python3 -c 'import build'"], env={"PATH": path}, capture_output=True)
    assert probe.returncode != 0, f"a python3 on {path} has `build`: the test needs a PATH without one"
    return path


def host_probe_sdist(dest: Path) -> Path:
    src = dest / "hostprobe-1.0"
    src.mkdir(parents=True)
    (src / "setup.py").write_text(HOST_PROBE_SETUP)
    (src / "speed.c").write_text(SPEED_C)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: hostprobe\nVersion: 1.0\n")
    sdist = dest / "hostprobe-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as t:
        t.add(src, arcname=src.name)
    return sdist


def test_setuptools_sdist_builds_under_the_targets_host_python(tmp_path, fresh_wasiwheel, bare_path):
    sdist = host_probe_sdist(tmp_path / "src")
    out = tmp_path / "out"
    proc = sh(
        [fresh_wasiwheel, "build", sdist, "-o", out, "-C", "target=wasm32-wasi"],
        env={"PATH": bare_path, "WASIWHEEL_HOST_PYTHON": ""},
    )
    prefix = Path(target_python_prefix("3.13", "wasm32-wasip1"))
    host = prefix / "host"
    assert f"host interpreter {host}/bin/python3.13" in proc.stderr, proc.stderr
    (wheel,) = out.glob("*.whl")
    assert wheel.name.endswith("-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"), wheel.name
    with zipfile.ZipFile(wheel) as z:
        recorded = z.read("hostprobe/_host.py").decode()
    # The backend ran under the native CPython 3.13 kept with the target CPython.
    assert "VERSION = (3, 13)" in recorded, recorded
    assert f"BASE_PREFIX = {str(host)!r}" in recorded, recorded
    ran = sh([fresh_wasiwheel, "run", "--python", "3.13", "--wheel", wheel, "--", "-c",
              "import hostprobe._speed as s; print(s.answer())"], env={"PATH": bare_path})
    assert ran.stdout.strip() == "42", ran.stderr


def test_meson_python_sdist_excluding_the_venvs_python(tmp_path, fresh_wasiwheel, bare_path):
    assert sys.version_info[:2] < (3, 13), "the test needs a test interpreter older than the target"
    project = tmp_path / "mesondemo"
    sh(["cp", "-r", SDISTS / "meson-demo", project])
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires-python = ">=3.9"', 'requires-python = ">=3.13"'))
    out = tmp_path / "out"
    sh([fresh_wasiwheel, "build", project, "-o", out, "-C", "target=wasm32-wasi"], env={"PATH": bare_path})
    (wheel,) = out.glob("*.whl")
    assert wheel.name.startswith("mesondemo-1.0.0-cp313-cp313-wasi_0_1_sdk_25"), wheel.name
