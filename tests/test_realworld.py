"""Real PyPI sdists as wasiwheel projects (issue 10): each pinned sdist
(tests/realworld/pins.toml, fetched by .ci/fetch-sdists) is unpacked, given a
pyproject.toml of ours ([build-system] wasiwheel, [project] name and version,
and the package's [tool.wasiwheel] table from tests/realworld/NAME.toml; its
sources and tests are untouched), built into a WASI wheel and a native wheel
with pip (build isolation), and its own test suite is run natively and under
``wasiwheel run``. Every test that passes natively must pass in WASI, except
those listed with their reason in tests/realworld/wasi-limits.toml; and no run
may trap (the function-pointer cast repair makes bitarray, wrapt and brotli
callable on WebAssembly)."""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, pip_wheel, sh

REALWORLD = ROOT / "tests" / "realworld"
PINS = tomllib.loads((REALWORLD / "pins.toml").read_text())
SUITES = tomllib.loads((REALWORLD / "suites.toml").read_text())
LIMITS = tomllib.loads((REALWORLD / "wasi-limits.toml").read_text())
PYTEST_NATIVE = ["-p", "no:cacheprovider", "-rA", "-q", "--color=no"]
PYTEST_WASI = PYTEST_NATIVE + ["-p", "no:faulthandler", "--capture=sys"]
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
        table = tomllib.loads((REALWORLD / f"{name}.toml").read_text())
        assert table["tool"]["wasiwheel"]["ext-modules"], name
        assert name in SUITES, name
    for name, entries in LIMITS.items():
        assert name in PINS, name
        for test_id, reason in entries.items():
            assert "::" in test_id and reason.strip(), (name, test_id)


@pytest.fixture(scope="session")
def guest_pytest(tmp_path_factory):
    """pytest and its pure-Python dependencies for the WASI guest (CPython 3.13),
    installed with ``pip install --target`` (the version the host runs)."""
    import pytest as host_pytest

    site = tmp_path_factory.mktemp("guest-pytest")
    sh(
        [sys.executable, "-m", "pip", "install", "-q", "--target", site, "--python-version", "3.13",
         "--only-binary=:all:", "--implementation", "py", f"pytest=={host_pytest.__version__}"],
        env={"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return site


def build_and_run(name, tmp_path, isolated_env, wasiwheel_cli, guest_pytest, wasi_config=()):
    """Build `name` natively and for WASI and run its suite both ways; return
    (native results, WASI results, WASI process)."""
    root = project(name, tmp_path / "src")
    suite = SUITES[name]
    wasi_out, native_out = tmp_path / "wasi", tmp_path / "native"
    pip_wheel(root, wasi_out, isolated_env, "target=wasm32-wasi", *wasi_config)
    pip_wheel(root, native_out, isolated_env)
    (wasi_wheel,) = wasi_out.glob("*.whl")
    (native_wheel,) = native_out.glob("*.whl")
    native_site = tmp_path / "native-site"
    sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", native_site, native_wheel])
    # Build trees must not shadow the installed packages.
    shutil.rmtree(root / "build", ignore_errors=True)

    def args(src, site):
        rootdir = src if suite["rootdir"] == "src" else site
        a = [f"--rootdir={rootdir}"]
        a += [f"{src}/{p}" for p in suite.get("paths", [])]
        if suite.get("pyargs"):
            a += ["--pyargs", *suite["pyargs"]]
        return a

    empty = tmp_path / "empty"
    empty.mkdir()
    native = subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_NATIVE, *args(root, native_site)],
        cwd=empty,
        env={**os.environ, "PYTHONPATH": str(native_site)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    wasi = subprocess.run(
        [wasiwheel_cli, "run", "--python", "3.13", "--wheel", wasi_wheel, "--site", guest_pytest,
         "--dir", f"{root}::/src", "--", "-m", "pytest", *PYTEST_WASI, *args("/src", "/site-packages")],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return results(native.stdout), results(wasi.stdout), native, wasi


@pytest.mark.parametrize("name", ["bitarray", "wrapt", "brotli"])
def test_own_suite_passes_in_wasi(name, tmp_path, isolated_env, wasiwheel_cli, guest_pytest):
    native, wasi, nproc, wproc = build_and_run(name, tmp_path, isolated_env, wasiwheel_cli, guest_pytest)
    log = (
        f"--- native\n{nproc.stdout[-3000:]}\n--- wasi stdout\n{wproc.stdout[-6000:]}\n"
        f"--- stderr\n{wproc.stderr[-3000:]}"
    )
    assert "trap" not in wproc.stderr.lower() and "mismatch" not in wproc.stderr, log
    assert wproc.returncode in (0, 1), log
    passed_natively = {t for t, r in native.items() if r == "PASSED"}
    assert len(passed_natively) > 50, log
    limits = LIMITS.get(name, {})
    missing = sorted(t for t in passed_natively - set(limits) if wasi.get(t) != "PASSED")
    assert not missing, f"pass natively but not in WASI: {missing[:50]}\n{log}"
    stale = sorted(t for t in limits if wasi.get(t) == "PASSED")
    assert not stale, f"listed in tests/realworld/wasi-limits.toml but pass in WASI: {stale}"
