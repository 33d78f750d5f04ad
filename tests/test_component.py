"""A finished component as the build artifact: `-C artifact=component` makes a
pre-initialized wasi:cli/command component of the project (CPython, the
project, its extensions, the standard library), run here by the wasmtime
PyPI package with no directories preopened, and by `wasiwheel run --component`."""

import os
import shutil
import statistics
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import DEMO, SDISTS, assert_refused, component, pip_wheel, private_cache, sh, write_project
from wasm_host import bundle, run_command


@pytest.fixture(scope="module")
def built(tmp_path_factory, isolated_env):
    out = tmp_path_factory.mktemp("component")
    started = time.time()
    proc = sh(
        [
            sys.executable,
            "-m",
            "build",
            "-w",
            "-C",
            "target=wasm32-wasi",
            "-C",
            "artifact=component",
            "--outdir",
            out,
            DEMO,
        ],
        env=isolated_env,
    )
    return out, started, proc


def test_build_writes_component_beside_and_inside_the_wheel(built, tmp_path):
    out, _, _ = built
    names = sorted(p.name for p in out.iterdir())
    assert names == ["wasidemo-0.3.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl", "wasidemo-0.3.0.wasm"]
    wasm = (out / "wasidemo-0.3.0.wasm").read_bytes()
    assert wasm[:8] == b"\0asm\x0d\x00\x01\x00", "not a component (layer 1)"
    wheel = out / names[0]
    with zipfile.ZipFile(wheel) as z:
        assert z.read("wasidemo-0.3.0.data/data/share/wasiwheel/components/wasidemo-0.3.0.wasm") == wasm
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "--destdir", tmp_path / "root", wheel])


def test_runs_with_no_preopens_and_passes_arguments_and_status(built):
    out, _, _ = built
    wasm = out / "wasidemo-0.3.0.wasm"
    r = run_command(wasm)
    assert r.code == 0, r.stderr
    assert "all results match the pure-Python reference" in r.stdout
    assert "platform   wasi cpython 3.13.5" in r.stdout
    r = run_command(wasm, "--fail")
    assert r.code != 0
    assert "Traceback (most recent call last)" in r.stderr and "RuntimeError: failure requested with --fail" in r.stderr


def test_preinitialization_is_real(built, tmp_path, wasiwheel_cli):
    """The entry module was imported at build time: its IMPORTED_AT is the
    fixed time the pre-initialization's clock shows (SOURCE_DATE_EPOCH, else
    1980-01-01), so that snapshots do not depend on when they were built;
    without pre-initialization it is the run's time, and starting takes
    longer."""
    out, started, _ = built
    wasm = out / "wasidemo-0.3.0.wasm"
    before_run = time.time()
    fast = run_command(wasm, "--imported-at", runs=3)
    assert fast.code == 0
    imported_at = float(fast.stdout.split()[0])
    assert imported_at == float(os.environ.get("SOURCE_DATE_EPOCH", 315532800)) < started < before_run
    plain = tmp_path / "plain.wasm"
    component(wasiwheel_cli, DEMO, plain, "-C", "component-preinit=false")
    before_run = time.time()
    slow = run_command(plain, "--imported-at", dirs=[bundle(plain)], runs=3)
    assert slow.code == 0, slow.stderr
    assert float(slow.stdout.split()[0]) >= before_run
    # Startup (instantiate + a trivial entry): the pre-initialized component
    # skips CPython's initialization and the imports.
    assert statistics.median(fast.times) * 2 < statistics.median(slow.times), (fast.times, slow.times)


def test_wasiwheel_run_component(built, wasiwheel_cli):
    out, _, _ = built
    built_at = (out / "wasidemo-0.3.0.wasm").stat().st_mtime
    proc = sh([wasiwheel_cli, "run", "--component", out / "wasidemo-0.3.0.wasm", "--", "--imported-at"])
    # The entry module was imported at build time (pre-initialization), so the
    # time it recorded is no later than when the component was written.
    imported_at = float(proc.stdout.split()[0])
    assert 0 < imported_at <= built_at + 1, (imported_at, built_at)
    proc = sh([wasiwheel_cli, "run", "--component", out / "wasidemo-0.3.0.wasm", "--", "--fail"], check=False)
    assert proc.returncode == 1 and "RuntimeError: failure requested with --fail" in proc.stderr


def test_no_entry_point(tmp_path, wasiwheel_cli):
    out = tmp_path / "out"
    proc = sh(
        [
            wasiwheel_cli,
            "build",
            SDISTS / "abi3-demo",
            "-o",
            out,
            "-C",
            "target=wasm32-wasi",
            "-C",
            "artifact=component",
        ],
        check=False,
    )
    assert_refused(proc, "needs an entry point", "tool.wasiwheel.component.entry", absent=["panicked"], out=out)


def test_entry_that_does_not_import(tmp_path, wasiwheel_cli):
    project = tmp_path / "p"
    shutil.copytree(SDISTS / "abi3-demo", project, ignore=shutil.ignore_patterns("build"))
    with open(project / "pyproject.toml", "a") as f:
        f.write('\n[tool.wasiwheel.component]\nentry = "abi3demo.missing:main"\n')
    out = tmp_path / "out"
    proc = sh(
        [wasiwheel_cli, "build", project, "-o", out, "-C", "target=wasm32-wasi", "-C", "artifact=component"],
        check=False,
    )
    assert_refused(
        proc,
        "importing the entry module failed",
        "ModuleNotFoundError",
        "pre-initializing the component failed",
        absent=["panicked"],
        out=out,
    )


def test_module_imported_at_run_time(tmp_path, wasiwheel_cli):
    """A module the entry imports only when it runs (inside `main`) is served from the component's
    bundle at run time; the bundle's finder used to import importlib.machinery while finding it, which
    asked the finder again until the recursion limit (before anything else had imported it). And the
    package of a name that is no Python source (`import pkg._ext` of an extension module) is kept: it
    used to be left out, and `import markupsafe._speedups` failed in a component."""
    project = write_project(tmp_path / "lazyapp", "lazyapp", {
        "src/lazyapp/__init__.py": (
            "def main():\n"
            "    from lazyapp import helper\n"
            "    try:\n"
            "        import lazyapp.deep.notamodule\n"
            "    except ImportError as e:\n"
            "        print(helper.VALUE, e.name)\n"
        ),
        "src/lazyapp/helper.py": "VALUE = 'the helper, imported at run time'\n",
        # Named only as the parent of a name that is no Python source (as an extension module's package is).
        "src/lazyapp/deep/__init__.py": "",
    }, tables='[project.scripts]\nlazyapp = "lazyapp:main"\n')
    out = tmp_path / "lazyapp.wasm"
    component(wasiwheel_cli, project, out)
    r = run_command(out)
    assert r.code == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "the helper, imported at run time lazyapp.deep.notamodule"


def test_component_for_a_compile_only_target(tmp_path, wasiwheel_cli):
    env = {"WASIWHEEL_CACHE_DIR": str(private_cache(tmp_path))}
    headers = Path(os.environ["WASIWHEEL_TEST_PY313_HEADERS"])
    sh(
        [wasiwheel_cli, "python", "assemble", "3.13", "--headers", headers, "--sdk", "25", "--target", "wasm32-wasip1"],
        env=env,
    )
    out = tmp_path / "out"
    proc = sh(
        [wasiwheel_cli, "build", DEMO, "-o", out, "-C", "target=wasm32-wasi", "-C", "artifact=component"],
        env=env,
        check=False,
    )
    assert_refused(proc, "compile-only", "component", absent=["panicked"], out=out)


def test_component_wheels_go_inside(tmp_path, isolated_env, wasiwheel_cli):
    """`--wheel` (and -C component-wheels=DIR) put other wheels' pure-Python files in the component's bundle
    (a pre-initialized component keeps those its entry can import: see test_component_size.py)."""
    wheels = tmp_path / "wheels"
    pip_wheel(SDISTS / "pure-src", wheels, isolated_env)

    def bundled(out):
        with zipfile.ZipFile(f"{out}.bundle/bundle.zip") as z:
            return any(b"hello from pure-src" in z.read(n) for n in z.namelist() if n.endswith(".py"))

    out = tmp_path / "demo.wasm"
    plain = ["-C", "component-preinit=false"]
    component(wasiwheel_cli, DEMO, out, "--wheel", next(wheels.glob("*.whl")), *plain)
    assert bundled(out)
    out2 = tmp_path / "demo2.wasm"
    component(wasiwheel_cli, DEMO, out2, "-C", f"component-wheels={wheels}", *plain)
    assert bundled(out2)
