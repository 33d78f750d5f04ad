"""Issue 22: C++ exceptions and setjmp/longjmp for WASI. tests/sdists/cxxeh-demo
throws and catches across six frames with destructors counted, by base class,
rethrows with ``throw;``, catches what libc++ throws (``std::vector::at``,
``std::stol``) and maps C++ exceptions to Python ones at the module boundary;
its C module recovers with ``longjmp`` from a nested call and jumps between
nested ``setjmp``s. Built with wasm exception handling (exnref) against
wasiwheel's exception-enabled libc++/libc++abi/libunwind and wasi-libc's
libsetjmp, it gives what a native build gives, in ``wasiwheel run`` (a
relinked interpreter), in ``wasiwheel test`` (its own suite) and in a
pre-initialized component; the same C module built by setuptools in the cross
environment does too. An exception no handler catches ends the run with
std::terminate's message; ``-C cxx-exceptions=false`` refuses the throwing
code and the jumping code with clang's diagnostic and the hint, leaving
nothing behind."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import (SDISTS, assert_refused, component, pip_wheel, sh, suite_native_and_wasi,
                      write_project)
from wasm_host import run_command

DEMO = SDISTS / "cxxeh-demo"
WHEEL = "cxxehdemo-0.1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"
TERMINATE = "terminating due to uncaught exception of type std::runtime_error: escaped every handler"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, isolated_env):
    d = tmp_path_factory.mktemp("cxxeh")
    pip_wheel(DEMO, d, isolated_env, "target=wasm32-wasi")
    return d / WHEEL


@pytest.fixture(scope="module")
def native_results(tmp_path_factory, isolated_env):
    """The sample's results from a native build of it, in a venv of the test interpreter."""
    d = tmp_path_factory.mktemp("cxxeh-native")
    pip_wheel(DEMO, d / "wheels", isolated_env)
    sh([sys.executable, "-m", "venv", d / "venv"])
    py = d / "venv" / "bin" / "python"
    sh([py, "-m", "pip", "install", "-q", "--no-index", *(d / "wheels").glob("*.whl")])
    return json.loads(sh([py, "-m", "cxxehdemo.cli"]).stdout), py


def test_relinked_interpreter_gives_the_native_results(wheel, native_results, wasiwheel_cli):
    expected, _ = native_results
    assert expected["across"] == ["thrown at depth 6", 6, 7], expected
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-m", "cxxehdemo.cli"], check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout) == expected


def test_own_suite_in_wasiwheel_test(wheel, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "test", wheel, "--tests", DEMO, "--", "-q", "tests"], check=False, timeout=3600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "wasiwheel test:" in out and "9 passed, 0 failed, 0 error" in out, out[-3000:]


def test_uncaught_exception_terminates_with_its_message(wheel, native_results, wasiwheel_cli):
    _, py = native_results
    native = sh([py, "-m", "cxxehdemo.cli", "escape"], check=False)
    assert native.returncode != 0 and "escaped every handler" in native.stderr, native.stderr
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-m", "cxxehdemo.cli", "escape"],
              check=False, timeout=300)
    assert proc.returncode != 0
    assert proc.stdout.strip() == "escaping"
    assert TERMINATE in proc.stderr, proc.stderr[-3000:]


def test_component(tmp_path, native_results, wasiwheel_cli):
    expected, _ = native_results
    out = tmp_path / "cxxehdemo.wasm"
    component(wasiwheel_cli, DEMO, out)
    r = run_command(out)
    assert r.code == 0, r.stderr[-4000:]
    assert json.loads(r.stdout) == expected
    r = run_command(out, "escape")
    assert r.code != 0 and TERMINATE in r.stderr, r.stderr[-3000:]


def test_exceptions_off_refuses_throwing_code(tmp_path, wasiwheel_cli):
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", DEMO, "-C", "target=wasm32-wasi", "-C", "cxx-exceptions=false",
               "-C", f"build-dir={tmp_path / 'build'}", "-o", out], check=False)
    assert_refused(proc, "cannot use 'throw' with exceptions disabled", "-C cxx-exceptions=false",
                   status=1, out=out)


def test_sdk_list_names_the_runtime(wasiwheel_cli):
    proc = sh([wasiwheel_cli, "sdk", "list"])
    assert "C++ exceptions (wasm32-wasip1): yes" in proc.stdout, proc.stdout
    assert "setjmp/longjmp (wasm32-wasip1): yes, compiled by /usr/lib/llvm-22/bin/clang" in proc.stdout, proc.stdout
    # componentize-py's dylibs: said, with the reason, for every SDK that has the target.
    p2 = [l for l in proc.stdout.splitlines() if "(wasm32-wasip2)" in l]
    assert p2 and all("no: its extensions are dylibs that componentize-py links" in l for l in p2), proc.stdout


PROGRAM = r"""
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>
static int live = 0;
struct Guard { Guard() { ++live; } ~Guard() { --live; } };
struct Base : std::runtime_error { using std::runtime_error::runtime_error; };
struct Derived : Base { using Base::Base; };
static void dive(int n) { Guard g; if (n == 0) throw Derived("deep"); dive(n - 1); }
int main(int argc, char** argv) {
  try { dive(6); } catch (const Base& e) { std::printf("caught %s live=%d\n", e.what(), live); }
  try { try { throw std::logic_error("first"); } catch (...) { throw; } }
  catch (const std::exception& e) { std::printf("rethrown %s\n", e.what()); }
  std::vector<int> v{1, 2, 3};
  try { (void)v.at(3); } catch (const std::out_of_range&) { std::printf("out_of_range\n"); }
  try { (void)std::stol("x"); } catch (const std::invalid_argument&) { std::printf("invalid_argument\n"); }
  std::string dir = argv[1];
  { std::ofstream(dir + "/a.txt") << "copied"; }
  std::filesystem::copy_file(dir + "/a.txt", dir + "/b.txt");
  std::string got;
  std::ifstream(dir + "/b.txt") >> got;
  std::printf("%s\n", got.c_str());
  try { std::filesystem::copy_file(dir + "/missing", dir + "/c.txt"); }
  catch (const std::filesystem::filesystem_error&) { std::printf("filesystem_error\n"); }
  return 0;
}
"""


def test_sdk33_runtime_from_llvm22(tmp_path, wasiwheel_cli):
    """WASI SDK 33's Debian equivalent (clang 22, no libc++ of its own for
    wasm32-wasip1) gets wasiwheel's runtime built from the pinned LLVM 22.1.8
    source: a program that throws across frames, rethrows, catches what libc++
    throws and copies a file with std::filesystem (copy_file_range is absent in
    WASI; libc++ falls back to streams) gives what the host's g++ build gives."""
    def entry():
        lines = sh([wasiwheel_cli, "sdk", "list"]).stdout.splitlines()
        return [Path(l.split("yes, ", 1)[1].strip()) for l in lines
                if l.strip().startswith("C++ exceptions (wasm32-wasip1): yes, ") and "wasi-sdk-33-" in l]

    if not entry():  # an SDK installed before the runtime existed: its install step builds it
        sh([wasiwheel_cli, "sdk", "install", "--from-debian", "33"], timeout=1800)
    (rt,) = entry()
    assert "libcxx-22.1.8-" in rt.name, rt
    sdk = Path(sh([wasiwheel_cli, "sdk", "find", "33"]).stdout.strip())
    (tmp_path / "prog.cpp").write_text(PROGRAM)
    sh([sdk / "bin" / "clang++", "--target=wasm32-wasip1", "-nostdinc++", "-isystem", rt / "include" / "c++" / "v1",
        "-fwasm-exceptions", "-mllvm", "-wasm-use-legacy-eh=false", "-D_WASI_EMULATED_PTHREAD", "-O2",
        tmp_path / "prog.cpp", f"-L{rt / 'lib'}", "-lunwind", "-o", tmp_path / "prog.wasm"])
    sh(["g++", "-std=c++17", "-O2", tmp_path / "prog.cpp", "-o", tmp_path / "prog"])
    (tmp_path / "native").mkdir()
    (tmp_path / "wasi").mkdir()
    native = sh([tmp_path / "prog", tmp_path / "native"]).stdout
    assert native.splitlines() == ["caught deep live=0", "rethrown first", "out_of_range", "invalid_argument",
                                   "copied", "filesystem_error"], native
    wasi = sh([wasiwheel_cli, "exec", "--dir", f"{tmp_path / 'wasi'}::/w", tmp_path / "prog.wasm", "/w"])
    assert wasi.stdout == native


def test_damaged_runtime_cache_is_rebuilt(tmp_path, wasiwheel_cli):
    """A runtime library that no longer matches its RECORD.json (here cut
    short, as an interrupted copy leaves it) is found at the next build, and
    the runtime is built again from the cached LLVM source."""
    import shutil

    from conftest import private_cache, real_cache

    cache = private_cache(tmp_path, keep=("sdk", "python", "sources"))
    # The entry builds use, as the cache's own lookup names it (`sdk list`).
    listing = sh([wasiwheel_cli, "sdk", "list"]).stdout
    (entry,) = [Path(line.split("yes, ", 1)[1].strip()) for line in listing.splitlines()
                if line.strip().startswith("C++ exceptions (wasm32-wasip1): yes, ") and "wasi-sdk-25-" in line]
    assert entry.parent == real_cache() / "cxx-eh", entry
    copy = cache / "cxx-eh" / entry.name
    shutil.copytree(entry, copy, symlinks=True)
    lib = copy / "lib" / "libc++abi.a"
    lib.write_bytes(lib.read_bytes()[:4096])
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", DEMO, "-C", "target=wasm32-wasi", "-C", f"build-dir={tmp_path / 'build'}",
               "-o", out], env={"WASIWHEEL_CACHE_DIR": str(cache)}, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "is damaged" in proc.stderr and "does not match its sha256" in proc.stderr, proc.stderr[-3000:]
    assert (out / WHEEL).is_file()
    assert (copy / "RECORD.json").is_file() and lib.stat().st_size > 4096


JUMPS_SETUP = """
from setuptools import setup, Extension
setup(name="jumps", version="1.0", ext_modules=[Extension("_jumps", ["_jumps.c"])])
"""


def jumps_project(root):
    """A setuptools project (a foreign backend: the cross environment's
    compiler wrappers) whose one module is the sample's setjmp/longjmp C."""
    root.mkdir()
    (root / "setup.py").write_text(JUMPS_SETUP)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n')
    (root / "_jumps.c").write_text((DEMO / "csrc" / "jumps.c").read_text())
    return root


HOST = {"WASIWHEEL_HOST_PYTHON": sys.executable}


def test_setjmp_in_a_foreign_build(tmp_path, native_results, wasiwheel_cli):
    expected, _ = native_results
    out = tmp_path / "dist"
    sh([wasiwheel_cli, "build", jumps_project(tmp_path / "jumps"), "-C", "target=wasm32-wasi", "-o", out], env=HOST)
    (wheel,) = out.glob("jumps-1.0-*.whl")
    code = ("import _jumps, json; print(json.dumps([list(_jumps.recover('1234')), list(_jumps.recover('12x4')), "
            "list(_jumps.recover(''))] + [list(_jumps.nested())]))")
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-c", code], check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout) == expected["recover"] + [expected["nested"]]


def test_setjmp_in_c_only_project(tmp_path, native_results, wasiwheel_cli):
    """wasiwheel's own backend lowers setjmp/longjmp in a project without C++
    too (the exnref compiler alone; no C++ runtime is needed)."""
    expected, _ = native_results
    project = write_project(tmp_path / "conly", "conly", {"csrc/jumps.c": (DEMO / "csrc" / "jumps.c").read_text()},
                            tables='[[tool.wasiwheel.ext-modules]]\nname = "_jumps"\nsources = ["csrc/jumps.c"]\n')
    out = tmp_path / "dist"
    sh([wasiwheel_cli, "build", project, "-C", "target=wasm32-wasi", "-o", out])
    (wheel,) = out.glob("conly-1.0-*.whl")
    code = "import _jumps, json; print(json.dumps([list(_jumps.recover('12x4')), list(_jumps.nested())]))"
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-c", code], check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout) == [expected["recover"][1], expected["nested"]]


def test_setjmp_dylib_for_componentize_py_is_refused(tmp_path, prefix314, wasiwheel_cli):
    """wasm32-wasip2 dylibs load in componentize-py, which has no libsetjmp or
    libunwind: code that jumps is refused there, saying so."""
    project = write_project(tmp_path / "p2", "p2jumps", {"csrc/jumps.c": (DEMO / "csrc" / "jumps.c").read_text()},
                            tables='[[tool.wasiwheel.ext-modules]]\nname = "_jumps"\nsources = ["csrc/jumps.c"]\n')
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", project, "-C", "target=wasm32-wasip2", "-C", f"python-prefix={prefix314}",
               "-o", out], check=False)
    assert_refused(proc, "Setjmp/longjmp support requires Exception handling",
                   "the target is wasm32-wasip2 (componentize-py cannot load a dylib that uses it)", status=1, out=out)


def test_cxx_dylib_for_componentize_py_without_libcxx_is_refused(tmp_path, prefix314, wasiwheel_cli):
    """C++ for wasm32-wasip2 gets no exception runtime (componentize-py could
    not load it), and Debian's SDK 33 has no libc++ for that target: said
    before anything is compiled, with both reasons."""
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", DEMO, "-C", "target=wasm32-wasip2", "-C", f"python-prefix={prefix314}",
               "-C", f"build-dir={tmp_path / 'build'}", "-o", out], check=False)
    assert_refused(proc, "C++ is compiled with -fno-exceptions and setjmp/longjmp is refused for wasm32-wasip2",
                   "extension module `cxxehdemo._throws` is C++",
                   "has no C++ standard library (libc++) for wasm32-wasip2: Debian has no libc++ for wasm32-wasip2",
                   status=1, out=out)


def test_exceptions_off_refuses_setjmp(tmp_path, wasiwheel_cli):
    out = tmp_path / "dist"
    proc = sh([wasiwheel_cli, "build", jumps_project(tmp_path / "jumps"), "-C", "target=wasm32-wasi",
               "-C", "cxx-exceptions=false", "-o", out], env=HOST, check=False)
    assert_refused(proc, "Setjmp/longjmp support requires Exception handling", "_jumps.c",
                   "hint: setjmp/longjmp need WebAssembly exception handling", "-C cxx-exceptions=false", out=out)


PYBIND = SDISTS / "pybind-demo"


def test_pybind11_maps_cxx_exceptions_in_wasi(tmp_path, wasiwheel_cli):
    """tests/sdists/pybind-demo (setuptools + pybind11 3.0.1 from PyPI, a
    foreign build in the cross environment): std::out_of_range reaches Python
    as IndexError, std::invalid_argument as ValueError, a class registered
    with py::register_exception as itself, one mapped by a translator of its
    own as ArithmeticError, and a Python exception raised in a callback
    crosses C++ frames back as itself; its own suite passes in WASI as
    natively, test by test."""
    project = tmp_path / "pybind-demo"
    shutil.copytree(PYBIND, project, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    out = tmp_path / "dist"
    sh([wasiwheel_cli, "build", project, "-C", "target=wasm32-wasi", "-o", out], env=HOST)
    (wheel,) = out.glob("pybinddemo-0.1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl")
    shutil.rmtree(project / "build", ignore_errors=True)
    native, wasi, text = suite_native_and_wasi(wasiwheel_cli, project, wheel)
    assert wasi == native and len(wasi) == 8, text[-3000:]
    assert "8 passed, 0 failed, 0 error" in text, text[-3000:]
