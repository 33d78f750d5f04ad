"""Native extensions for componentize-py: wasm32-wasip2 dylibs built against a
compile-only CPython 3.14 (Debian's headers + a pyconfig.h derived by probing
the SDK-33 equivalent), installed with the line `wasiwheel tags` prints, linked
into a component by componentize-py 0.25.1 (CPython 3.14.0, wasi-sdk 33), and
run with the wasmtime PyPI package."""

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import DEMO, SDISTS, pip_wheel, real_cache, reference_results, sh
from wasm_host import call_export

WIT = """package wasiwheel:test;

world app {
  export run: func(arg: string) -> string;
}
"""

@pytest.fixture(scope="module")
def headers314() -> Path:
    d = os.environ.get("WASIWHEEL_TEST_PY314_HEADERS")
    if not d or not (Path(d) / "python3.14" / "Python.h").exists():
        pytest.fail(
            "WASIWHEEL_TEST_PY314_HEADERS must name Debian's usr/include of libpython3.14-dev (.ci/test sets it)"
        )
    return Path(d)


@pytest.fixture(scope="module")
def prefix314(headers314, wasiwheel_cli) -> Path:
    sh(
        [
            wasiwheel_cli,
            "python",
            "assemble",
            "3.14",
            "--headers",
            headers314,
            "--sdk",
            "33",
            "--target",
            "wasm32-wasip2",
        ]
    )
    listing = sh([wasiwheel_cli, "python", "list"]).stdout
    line = next(l for l in listing.splitlines() if l.startswith("CPython 3.14") and "wasm32-wasip2" in l)
    assert "(compile-only)" in line
    return Path(next(w for w in line.split() if w.endswith("-headers")))


def componentize(tmp_path, site, app_code, wasiwheel_cli):
    (tmp_path / "wit").mkdir()
    (tmp_path / "wit" / "app.wit").write_text(WIT)
    (tmp_path / "appdir").mkdir()
    (tmp_path / "appdir" / "app.py").write_text(textwrap.dedent(app_code))
    cpy = shutil.which("componentize-py", path=str(Path(sys.executable).parent))
    assert cpy, "componentize-py is installed by .ci/setup"
    out = tmp_path / "app.wasm"
    sh(
        [
            cpy,
            "-d",
            tmp_path / "wit",
            "-w",
            "app",
            "componentize",
            "app",
            "-p",
            tmp_path / "appdir",
            "-p",
            site,
            "-o",
            out,
        ]
    )
    return out


def install_with_tags_line(wasiwheel_cli, python, sdk, site, wheels, *extra):
    out = sh(
        [wasiwheel_cli, "tags", "--python", python, "--sdk", sdk, "--target", "wasm32-wasip2", "--install-dir", site]
    ).stdout
    line = next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("install with:"))
    args = shlex.split(line)
    sh([sys.executable, "-m", *args[:-1], "--no-index", "--find-links", wheels, *extra])


def test_compile_only_prefix_cannot_run(prefix314, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "run", "--python-prefix", prefix314, "--", "-c", "pass"], check=False)
    assert proc.returncode == 1 and "compile-only" in proc.stderr, proc.stderr


def test_c_extension_in_componentize_py(tmp_path, isolated_env, prefix314, wasiwheel_cli):
    wheels = tmp_path / "wheels"
    pip_wheel(DEMO, wheels, isolated_env, "target=wasm32-wasip2", f"python-prefix={prefix314}")
    wheel = wheels / "wasidemo-0.3.0-cp314-cp314-wasi_0_2_sdk_33_wasm32.whl"
    assert [p.name for p in wheels.iterdir()] == [wheel.name]
    with zipfile.ZipFile(wheel) as z:
        assert "wasidemo/_checksum.cpython-314-wasm32-wasi.so" in z.namelist()
    site = tmp_path / "site"
    install_with_tags_line(wasiwheel_cli, "3.14", "33", site, wheels, "wasidemo")
    app = """
        import json
        import wit_world
        import wasidemo
        from wasidemo.workload import results


        class WitWorld(wit_world.WitWorld):
            def run(self, arg: str) -> str:
                try:
                    wasidemo.parse_floats(arg)
                    error = None
                except ValueError as e:
                    error = str(e)
                return json.dumps({"results": results(wasidemo), "error": error, "origin": wasidemo._checksum.__file__})
    """
    wasm = componentize(tmp_path, site, app, wasiwheel_cli)
    r = call_export(wasm, "run", "1.5, 2, oops")
    assert r.code == 0, r.stderr
    got = json.loads(r.result)
    assert got["results"] == reference_results()
    assert got["error"] == "not a number: 'oops' at offset 8"
    assert got["origin"].endswith("_checksum.cpython-314-wasm32-wasi.so")


def test_abi3_extension_in_componentize_py(tmp_path, isolated_env, prefix314, wasiwheel_cli):
    wheels = tmp_path / "wheels"
    pip_wheel(SDISTS / "abi3-demo", wheels, isolated_env, "target=wasm32-wasip2", f"python-prefix={prefix314}")
    wheel = wheels / "abi3demo-1.0.0-cp39-abi3-wasi_0_2_sdk_33_wasm32.whl"
    assert [p.name for p in wheels.iterdir()] == [wheel.name]
    site = tmp_path / "site"
    install_with_tags_line(wasiwheel_cli, "3.14", "33", site, wheels, "abi3demo")
    assert (site / "abi3demo" / "_fast.abi3.so").exists()
    app = """
        import json
        import wit_world
        import abi3demo


        class WitWorld(wit_world.WitWorld):
            def run(self, arg: str) -> str:
                return json.dumps(abi3demo.check())
    """
    wasm = componentize(tmp_path, site, app, wasiwheel_cli)
    r = call_export(wasm, "run", "")
    assert r.code == 0, r.stderr
    got = json.loads(r.result)
    assert set(got) == {"dot", "djb2"}, got
    for key, (c_result, py_result) in got.items():
        assert c_result == py_result, key
