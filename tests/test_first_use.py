"""First use on a machine where nothing is provisioned (issue 20): a WASI
build provisions the pinned WASI SDK and target CPython itself, saying what
it does; with provisioning off it fails at once naming `wasiwheel setup`; the
cache can be listed and entries removed.

Each test has a cache of its own (``WASIWHEEL_CACHE_DIR``, empty). The one
that provisions shares only the downloaded sources (``sources/``: the pinned
CPython tarball and the standard library's C library sources, fetched by
``.ci/setup`` through the same code), so that it does not download them
again; the SDK is assembled and CPython is built there from nothing, once
per run (about ten minutes)."""

import os
import sys
import zipfile

from conftest import DEMO, pip_wheel, real_cache, sh


def empty_cache(tmp_path, *, share_sources=False):
    cache = tmp_path / "cache"
    cache.mkdir(parents=True)
    if share_sources:
        (cache / "sources").symlink_to(real_cache() / "sources", target_is_directory=True)
    return {"WASIWHEEL_CACHE_DIR": str(cache)}


def pip_wheel_verbose(out, env):
    """`pip wheel -v` of the demo for WASI: -v makes pip show the backend's own output as it goes."""
    args = [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", DEMO, "-w", out, "-C", "target=wasm32-wasi"]
    return sh(args, env=env, timeout=3600)


def test_pip_wheel_provisions_on_first_use(tmp_path, isolated_env, wasiwheel_cli):
    env = empty_cache(tmp_path, share_sources=True)
    out = tmp_path / "out"
    proc = pip_wheel_verbose(out, {**isolated_env, **env})
    text = proc.stdout + proc.stderr
    assert "provisioning CPython 3.13.5 for wasm32-wasip1" in text, text
    assert "about ten minutes" in text, text
    assert "provisioning the Debian-package equivalent of WASI SDK 25" in text, text
    assert "installed CPython 3.13.5 for wasm32-wasip1" in text, text
    (wheel,) = out.glob("*.whl")
    assert wheel.name.endswith("-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"), wheel.name
    with zipfile.ZipFile(wheel) as z:
        assert any(n.endswith(".cpython-313-wasm32-wasi.so") for n in z.namelist())
    # The provisioned interpreter runs the wheel's extension.
    listing = sh([wasiwheel_cli, "python", "list"], env=env).stdout
    assert "+zlib 1.3.1 (zlib)" in listing and "+sqlite3 3.46.1 (_sqlite3)" in listing, listing
    ran = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-m", "wasidemo.cli"], env=env)
    assert ran.stdout.strip(), ran.stderr
    # A second build provisions nothing.
    again = pip_wheel_verbose(tmp_path / "again", {**isolated_env, **env})
    assert "wasiwheel: compiled" in again.stdout + again.stderr, again.stderr
    assert "provisioning" not in again.stdout + again.stderr


def test_no_provision_fails_at_once(tmp_path, isolated_env, wasiwheel_cli):
    env = {**empty_cache(tmp_path), "WASIWHEEL_NO_PROVISION": "1"}
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, "target=wasm32-wasi", env=env, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "no target CPython 3.13 for wasm32-wasip1 is installed" in text, text
    assert "wasiwheel setup --python 3.13" in text and "provisioning is off" in text, text
    assert "Traceback" not in text and "panicked" not in text
    assert not out.exists() or list(out.iterdir()) == []
    # --offline means the same for the command line.
    cli_out = tmp_path / "cli-out"
    proc = sh(
        [wasiwheel_cli, "build", DEMO, "-o", cli_out, "-C", "target=wasm32-wasi", "--offline"],
        env=empty_cache(tmp_path / "2"),
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "wasiwheel setup --python 3.13" in proc.stderr and "provisioning is off" in proc.stderr, proc.stderr
    assert not cli_out.exists() or list(cli_out.iterdir()) == []
    # Nothing was provisioned into either cache.
    for c in (tmp_path / "cache", tmp_path / "2" / "cache"):
        assert not any((c / d).exists() and any((c / d).iterdir()) for d in ("sdk", "python")), list(c.rglob("*"))


def test_cache_listing_and_removal(tmp_path, wasiwheel_cli):
    env = empty_cache(tmp_path)
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
