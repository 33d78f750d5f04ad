"""First use on a machine where nothing is provisioned (issue 20): a WASI
build provisions the pinned WASI SDK and target CPython itself, saying what
it does; with provisioning off it fails at once naming `wasiwheel setup`; the
cache can be listed and entries removed.

Each test has a cache of its own (``WASIWHEEL_CACHE_DIR``, empty). The one
that provisions shares only the downloaded sources (``sources/``: the pinned
CPython tarball and the standard library's C library sources, fetched by
``.ci/setup`` through the same code), so that it does not download them
again; the SDK is assembled and CPython is built there from nothing, once
per run (about ten minutes). That build starts as soon as the session has
collected its tests and runs beside them (``pytest.mark.early``, see
conftest); its test runs last and checks what it printed and built."""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from conftest import DEMO, assert_refused, pip_wheel, private_cache, sh


def cache_env(tmp_path, keep=()):
    return {"WASIWHEEL_CACHE_DIR": str(private_cache(tmp_path, keep))}


def pip_wheel_verbose_args(out):
    """`pip wheel -v` of the demo for WASI: -v makes pip show the backend's own output as it goes."""
    return [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", DEMO, "-w", out, "-C", "target=wasm32-wasi"]


def isolated_env():
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": os.environ["WASIWHEEL_WHEELHOUSE"],
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


class FirstBuild:
    """The provisioning build in an empty cache, started early in a process of
    its own; its output goes to files (a pipe nobody reads would fill up)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="wasiwheel-first-use-"))
        self.env = cache_env(self.root, keep=("sources",))
        self.out = self.root / "out"
        self.log = self.root / "stdout.txt", self.root / "stderr.txt"
        with open(self.log[0], "w") as stdout, open(self.log[1], "w") as stderr:
            self.proc = subprocess.Popen(
                [str(a) for a in pip_wheel_verbose_args(self.out)],
                env={**os.environ, **isolated_env(), **self.env},
                stdout=stdout,
                stderr=stderr,
            )

    def wait(self):
        """Wait for the build; returns (exit status, everything it printed)."""
        status = self.proc.wait(timeout=3600)
        return status, self.log[0].read_text() + self.log[1].read_text()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_early():
    """Called by conftest when the session has collected the test below."""
    return FirstBuild()


@pytest.mark.early
def test_pip_wheel_provisions_on_first_use(early_job, wasiwheel_cli):
    first = early_job
    status, text = first.wait()
    assert status == 0, text
    assert "provisioning CPython 3.13.5 for wasm32-wasip1" in text, text
    assert "about ten minutes" in text, text
    assert "provisioning the Debian-package equivalent of WASI SDK 25" in text, text
    assert "installed CPython 3.13.5 for wasm32-wasip1" in text, text
    (wheel,) = first.out.glob("*.whl")
    assert wheel.name.endswith("-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"), wheel.name
    with zipfile.ZipFile(wheel) as z:
        assert any(n.endswith(".cpython-313-wasm32-wasi.so") for n in z.namelist())
    # The provisioned interpreter runs the wheel's extension; the native
    # CPython of the same version is kept with it as the host interpreter.
    listing = sh([wasiwheel_cli, "python", "list"], env=first.env).stdout
    assert "+zlib 1.3.1 (zlib)" in listing and "+sqlite3 3.46.1 (_sqlite3)" in listing, listing
    assert "host: " in listing and listing.rstrip().endswith("/host/bin/python3.13"), listing
    ran = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-m", "wasidemo.cli"], env=first.env)
    assert ran.stdout.strip(), ran.stderr
    # A second build provisions nothing.
    again = sh(pip_wheel_verbose_args(first.root / "again"), env={**isolated_env(), **first.env}, timeout=3600)
    assert "wasiwheel: compiled" in again.stdout + again.stderr, again.stderr
    assert "provisioning" not in again.stdout + again.stderr


def test_no_provision_fails_at_once(tmp_path, isolated_env, wasiwheel_cli):
    env = {**cache_env(tmp_path), "WASIWHEEL_NO_PROVISION": "1"}
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, "target=wasm32-wasi", env=env, check=False)
    needles = ["wasiwheel setup --python 3.13", "provisioning is off"]
    absent = ["Traceback", "panicked"]
    assert_refused(proc, "no target CPython 3.13 for wasm32-wasip1 is installed", *needles, absent=absent, out=out)
    # --offline means the same for the command line.
    cli_out = tmp_path / "cli-out"
    proc = sh(
        [wasiwheel_cli, "build", DEMO, "-o", cli_out, "-C", "target=wasm32-wasi", "--offline"],
        env=cache_env(tmp_path / "2"),
        check=False,
    )
    assert_refused(proc, *needles, status=1, absent=absent, out=cli_out)
    # Nothing was provisioned into either cache.
    for c in (tmp_path / "cache", tmp_path / "2" / "cache"):
        assert not any((c / d).exists() and any((c / d).iterdir()) for d in ("sdk", "python")), list(c.rglob("*"))


def test_cache_listing_and_removal(tmp_path, wasiwheel_cli):
    env = cache_env(tmp_path)
    cache = tmp_path / "cache"
    empty = sh([wasiwheel_cli, "cache"], env=env).stdout
    assert empty.splitlines()[0] == str(cache) and "(empty)" in empty, empty
    sh([wasiwheel_cli, "sdk", "install", "--from-debian", "25"], env=env)
    headers = os.environ["WASIWHEEL_TEST_PY314_HEADERS"]
    sh([wasiwheel_cli, "python", "assemble", "3.14", "--headers", headers, "--sdk", "25"], env=env)
    listing = sh([wasiwheel_cli, "cache"], env=env).stdout
    sdk_line = next(line for line in listing.splitlines() if line.strip().endswith("sdk/wasi-sdk-25-debian"))
    assert sdk_line.split()[1] in ("kB", "MB", "GB"), listing
    assert any("python/3.14" in line for line in listing.splitlines()), listing

    removed = sh([wasiwheel_cli, "python", "remove", "3.14", "--target", "wasm32-wasip2"], env=env).stdout
    assert "removed CPython 3.14" in removed, removed
    assert "3.14" not in sh([wasiwheel_cli, "python", "list"], env=env).stdout
    again = sh([wasiwheel_cli, "python", "remove", "3.14", "--target", "wasm32-wasip2"], env=env, check=False)
    assert again.returncode == 1 and "no target CPython 3.14 for wasm32-wasip2 is in the cache" in again.stderr

    assert sh([wasiwheel_cli, "sdk", "find", "25"], env=env).stdout.strip() == str(cache / "sdk/wasi-sdk-25-debian")
    assert "removed WASI SDK 25" in sh([wasiwheel_cli, "sdk", "remove", "25"], env=env).stdout
    gone = sh([wasiwheel_cli, "sdk", "find", "25"], env=env, check=False)
    assert gone.returncode == 1 and "WASI SDK 25 is not installed" in gone.stderr, gone.stderr
    assert not (cache / "sdk" / "wasi-sdk-25-debian").exists()
    # Only what the cache holds can be removed.
    outside = sh([wasiwheel_cli, "python", "remove", "--prefix", tmp_path], env=env, check=False)
    assert outside.returncode == 1 and "is not a target CPython in the cache" in outside.stderr
    assert tmp_path.exists()
