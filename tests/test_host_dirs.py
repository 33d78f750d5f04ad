"""No build machine's headers or libraries in a target compile (issue 24).

meson-python, CMake and setuptools get only the target CPython's include and
library directories from the cross environment, and the compiler wrappers
refuse any flag that names the build machine's: the host interpreter's
prefixes, ``/usr/include``, ``/usr/lib…``, a host numpy's headers. Checked on
every compile command of a meson C sample and a meson pybind11 sample (the
shape of contourpy), and on setuptools samples that ask for host directories.
"""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import SDISTS, assert_refused, run_python, sh, target_python_prefix

#: The directories given by `-I DIR`, `-IDIR`, `-isystem DIR` in a command line.
INCLUDE = re.compile(r"(?:^|\s)(?:-I|-isystem)\s*(\S+)")


def host_prefixes():
    """The base prefixes of the interpreters a build could take headers
    from: this test's own and the target CPython's host (build) Python."""
    host = target_python_prefix("3.13") / "host" / "bin" / "python3"
    out = subprocess.run([host, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True,
                         check=True).stdout.strip()
    return {sys.base_prefix, out}


@pytest.mark.parametrize("sample", ["meson-demo", "meson-pybind-demo"])
def test_meson_compiles_see_only_the_targets_headers(sample, tmp_path, wasiwheel_cli):
    """Every compile of the sample's extension (and of meson's probes) has the
    target CPython's ``include/python3.13`` as its first Python include
    directory and no directory of a host interpreter or of the system; the
    wheel imports and, for pybind11, has wasm32's sizes."""
    project = tmp_path / sample
    shutil.copytree(SDISTS / sample, project)
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", project, "-C", "target=wasm32-wasi", "-o", out],
              env={"WASIWHEEL_VERBOSE": "1"})
    text = proc.stdout + proc.stderr
    compiles = [line for line in text.splitlines() if "--target=wasm32" in line and " -c " in line]
    assert compiles, text[-3000:]
    target_include = str(target_python_prefix("3.13") / "include" / "python3.13")
    hosts = host_prefixes()
    for line in compiles:
        dirs = INCLUDE.findall(line)
        python_dirs = [d for d in dirs if "/include/python3." in d]
        assert python_dirs and python_dirs[0] == target_include, line
        assert all(d.startswith(target_include) for d in python_dirs), line
        bad = [d for d in dirs if d.startswith("/usr/include") or any(d.startswith(h + "/include") for h in hosts)]
        assert not bad, (bad, line)
    (wheel,) = out.glob("*.whl")
    if sample == "meson-pybind-demo":
        code = ("import mesonpybind as m\nprint(m.sizes(), m.item(2))\ntry:\n    m.item(5)\n"
                "except IndexError as e:\n    print('IndexError', e)")
        ran = run_python(wasiwheel_cli, code, [wheel])
        assert ran.stdout.split("\n")[:2] == ["(4, 4, 4) 20", "IndexError index out of range"], ran.stdout
    else:
        ran = run_python(wasiwheel_cli, "import mesondemo, mesondemo._fast; print('ok')", [wheel])
        assert ran.stdout.strip() == "ok", ran.stdout


@pytest.mark.parametrize(
    "option, flag, what",
    [
        ("include_dirs=['/usr/include']", "-I/usr/include", "the build machine's system headers"),
        ("library_dirs=['/usr/lib/x86_64-linux-gnu']", "-L/usr/lib/x86_64-linux-gnu",
         "the build machine's system libraries"),
        (f"include_dirs=[{sys.base_prefix + '/include/python3.11'!r}]", f"-I{sys.base_prefix}/include/python3.11",
         "'s prefix"),
    ],
)
def test_host_directory_flag_is_refused(option, flag, what, tmp_path, wasiwheel_cli):
    """A setuptools project that asks for a build machine's directory fails
    with the flag named and what the directory is, and leaves no wheel."""
    project = tmp_path / "hostdir"
    project.mkdir()
    (project / "hd.c").write_text(
        '#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "hd"};\n'
        "PyMODINIT_FUNC PyInit_hd(void) { return PyModule_Create(&m); }\n")
    (project / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        f"setup(name='hostdir', version='1.0', ext_modules=[Extension('hd', ['hd.c'], {option})])\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "setuptools.build_meta"\n')
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", project, "-C", "target=wasm32-wasi", "-o", out], check=False,
              env={"WASIWHEEL_HOST_PYTHON": sys.executable})
    assert_refused(proc, f"`{flag}` names", what, "must not see the build machine's headers", out=out)

