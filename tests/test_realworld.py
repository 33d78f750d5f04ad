"""Real PyPI sdists as wasiwheel projects (issue 10): each pinned sdist
(tests/realworld/pins.toml, fetched by .ci/fetch-sdists) is unpacked, given a
pyproject.toml of ours ([build-system] wasiwheel, [project] name and version,
and the package's [tool.wasiwheel] table from tests/realworld/NAME.toml; its
sources and tests are untouched), built into a WASI wheel and a native wheel
with pip (build isolation), and its own test suite is run natively and in
WASI with ``wasiwheel test`` (``wasiwheel run``'s relinked interpreter with
pytest installed for the target and what pytest needs of the OS stood in).
Every test that passes natively must pass in WASI, except those listed with
their reason in tests/wasi-limits.txt; and no run may trap (the
function-pointer cast repair makes bitarray, wrapt and brotli callable on
WebAssembly)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, componentize, guest_like_env, install_with_tags_line, pip_wheel, sh, wasi_limits
from wasm_host import call_export

REALWORLD = ROOT / "tests" / "realworld"
PINS = tomllib.loads((REALWORLD / "pins.toml").read_text())
SUITES = tomllib.loads((REALWORLD / "suites.toml").read_text())
PYTEST_NATIVE = ["-p", "no:cacheprovider", "-rA", "-q", "--color=no"]
RESULT = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+::\S+)")


def sdist_path(name: str) -> Path:
    """The cached, sha256-checked sdist of `name` (fetched by .ci/fetch-sdists)."""
    proc = sh(["bash", ROOT / ".ci" / "fetch-sdists", name])
    return Path(proc.stdout.strip().splitlines()[-1])


def project(name: str, dest: Path) -> Path:
    """Unpack `name`'s sdist under `dest` and write our pyproject.toml into it."""
    pin = PINS[name]
    with tarfile.open(sdist_path(name)) as t:
        t.extractall(dest, filter="data")
    root = dest / pin["filename"].removesuffix(".tar.gz")
    assert root.is_dir(), f"{pin['filename']} does not unpack into {root.name}/"
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n\n'
        f'[project]\nname = "{pin["pypi-name"]}"\nversion = "{pin["version"]}"\n\n'
        + (REALWORLD / f"{name}.toml").read_text()
    )
    return root


def results(output: str) -> dict:
    """Node id → outcome from pytest's ``-rA`` summary."""
    return {m.group(2): m.group(1) for m in map(RESULT.match, output.splitlines()) if m}


def test_pins_and_tables_agree():
    """Every pinned sdist has a [tool.wasiwheel] table and a suite; every
    wasi-limits entry names a pinned project and gives a reason."""
    for name, pin in PINS.items():
        assert re.fullmatch(r"[0-9a-f]{64}", pin["sha256"]), name
        if pin.get("role") == "examples":  # read by tests/test_worlds.py, not built as a project
            continue
        assert re.fullmatch(r"[0-9a-f]{64}", pin["sha256"]), name
        table = tomllib.loads((REALWORLD / f"{name}.toml").read_text())
        assert table["tool"]["wasiwheel"]["ext-modules"], name
        assert name in SUITES, name



def build_and_run(name, tmp_path, isolated_env, wasiwheel_cli, wasi_config=()):
    """Build `name` natively and for WASI and run its suite both ways; return
    (native results, WASI results, WASI process)."""
    root = project(name, tmp_path / "src")
    suite = SUITES[name]
    wasi_out, native_out = tmp_path / "wasi", tmp_path / "native"
    pip_wheel(root, wasi_out, isolated_env, "target=wasm32-wasi", *wasi_config)
    pip_wheel(root, native_out, isolated_env)
    (wasi_wheel,) = wasi_out.glob("*.whl")
    (native_wheel,) = native_out.glob("*.whl")
    # pytest's summary names tests relative to its working directory: each run
    # works in the directory that holds the suite (the unpacked sdist, mapped
    # at /project in WASI; or the parent of a `site-packages` directory, which
    # is `/` in WASI), so that both runs name every test alike.
    native_site = tmp_path / "native-install" / "site-packages"
    sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", native_site, native_wheel])
    # Build trees must not shadow the installed packages.
    shutil.rmtree(root / "build", ignore_errors=True)
    in_src = suite["rootdir"] == "src"

    def args(src, site):
        a = [f"--rootdir={src if in_src else site}"]
        a += [f"{src}/{p}" for p in suite.get("paths", [])]
        if suite.get("pyargs"):
            a += ["--pyargs", *suite["pyargs"]]
        return a

    native = subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_NATIVE, *args(root, native_site)],
        cwd=root if in_src else native_site.parent,
        env=guest_like_env(PYTHONPATH=str(native_site)),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    tests = ["--tests", root] if in_src else []
    wasi = subprocess.run(
        [wasiwheel_cli, "test", wasi_wheel, *tests, "--", *PYTEST_NATIVE, *args("/project", "/site-packages")],
        env={**os.environ, "WASIWHEEL_HOST_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return results(native.stdout), results(wasi.stdout), native, wasi


@pytest.mark.parametrize("name", ["bitarray", "wrapt", "brotli"])
def test_own_suite_passes_in_wasi(name, tmp_path, isolated_env, wasiwheel_cli):
    native, wasi, nproc, wproc = build_and_run(name, tmp_path, isolated_env, wasiwheel_cli)
    log = (
        f"--- native\n{nproc.stdout[-3000:]}\n--- wasi stdout\n{wproc.stdout[-6000:]}\n"
        f"--- stderr\n{wproc.stderr[-3000:]}"
    )
    assert "trap" not in wproc.stderr.lower() and "mismatch" not in wproc.stderr, log
    assert wproc.returncode in (0, 1), log
    passed_natively = {t for t, r in native.items() if r == "PASSED"}
    assert len(passed_natively) > 50, log
    entries = wasi_limits(name)

    def limited(test_id):
        return [s for s, _ in entries if (s[2:] in test_id.split("::")[-1] if s.startswith("k:") else test_id == s)]

    missing = sorted(t for t in passed_natively if wasi.get(t) != "PASSED" and not limited(t))
    assert not missing, f"pass natively but not in WASI: {missing}\n{log}"
    stale = sorted({s for t, r in wasi.items() if r == "PASSED" for s in limited(t)})
    assert not stale, f"listed in tests/wasi-limits.txt but pass in WASI: {stale}"


# ---- the same three for wasm32-wasip2, in componentize-py ---------------------------------------

# Calls that trapped before the cast repair ("indirect call type mismatch"): bitarray's
# get_default_endian (METH_NOARGS declared with one parameter), wrapt's ObjectProxy getters
# (PyGetSetDef getters without the closure), brotli's Compressor.flush and finish (METH_NOARGS).
TRAPPED_CALLS = """
import json
import wit_world
import bitarray, brotli, wrapt
import bitarray._bitarray, wrapt._wrappers, _brotli


def calls():
    def f():
        "Documented."

    proxy = wrapt.ObjectProxy(f)
    c = brotli.Compressor()
    data = c.process(b"wasiwheel " * 100) + c.flush() + c.finish()
    return {
        "endian": bitarray.get_default_endian(),
        "bits": bitarray.bitarray("1011").to01(),
        "proxy": [proxy.__name__, proxy.__doc__, proxy.__wrapped__ is f, proxy.__module__],
        "brotli": brotli.decompress(data).decode() == "wasiwheel " * 100,
        "origins": [m.__file__.rsplit("/", 1)[-1] for m in (bitarray._bitarray, wrapt._wrappers, _brotli)],
    }


class WitWorld(wit_world.WitWorld):
    def run(self, arg: str) -> str:
        return json.dumps(calls())
"""


@pytest.mark.parametrize("repair", [True, False], ids=["repaired", "unrepaired"])
def test_wasip2_builds_load_in_componentize_py(tmp_path, isolated_env, prefix314, wasiwheel_cli, repair):
    """bitarray, wrapt and brotli built for wasm32-wasip2 (CPython 3.14 headers,
    SDK 33) load as dylibs in a componentize-py component, and the calls that
    trapped work there."""
    wheels = tmp_path / "wheels"
    for name in ("bitarray", "wrapt", "brotli"):
        root = project(name, tmp_path / "src" / name)
        pip_wheel(root, wheels, isolated_env, "target=wasm32-wasip2", f"python-prefix={prefix314}",
                  f"fpcast-repair={str(repair).lower()}")
    names = sorted(p.name for p in wheels.iterdir())
    assert len(names) == 3 and all(n.endswith("-cp314-cp314-wasi_0_2_sdk_33_wasm32.whl") for n in names), names
    site = tmp_path / "site"
    packages = ("bitarray", "wrapt", "brotli")
    install_with_tags_line(wasiwheel_cli, "3.14", "33", site, wheels, *packages, target="wasm32-wasip2")
    wasm = componentize(tmp_path, site, TRAPPED_CALLS, wasiwheel_cli)
    r = call_export(wasm, "run", "")
    if not repair:
        # Without the repair the same calls trap: the test exercises them.
        assert r.code != 0 and "indirect call type mismatch" in r.stderr, r.stderr[-3000:]
        return
    assert r.code == 0, r.stderr
    got = json.loads(r.result)
    assert got["endian"] in ("big", "little") and got["bits"] == "1011", got
    assert got["proxy"] == ["f", "Documented.", True, "app"], got
    assert got["brotli"] is True, got
    assert got["origins"] == [
        "_bitarray.cpython-314-wasm32-wasi.so",
        "_wrappers.cpython-314-wasm32-wasi.so",
        "_brotli.cpython-314-wasm32-wasi.so",
    ], got
