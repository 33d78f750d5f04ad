"""Bad inputs: each gives a short error naming what to fix, a non-zero exit,
no Rust panic, no Python traceback, and no wheel (or partial wheel) left in
the output directory. Driven through pip with build isolation, as users hit them."""

import os
from pathlib import Path

import pytest

from conftest import DEMO, SDISTS, pip_wheel, real_cache


def partial_cache(tmp_path, keep):
    """A cache dir holding only the `keep` parts (sdk, python) of the real one."""
    c = tmp_path / "cache"
    c.mkdir()
    for part in keep:
        (c / part).symlink_to(real_cache() / part, target_is_directory=True)
    return {"WASIWHEEL_CACHE_DIR": str(c)}


def installed_sdk25() -> Path:
    return real_cache() / "sdk" / "wasi-sdk-25-debian"


def fake_sdk(tmp_path, version_text):
    """An SDK directory that is the real SDK 25 but identifies as another release."""
    d = tmp_path / "other-sdk"
    d.mkdir()
    for part in ("bin", "lib", "share"):
        (d / part).symlink_to(installed_sdk25() / part, target_is_directory=True)
    (d / "VERSION").write_text(version_text)
    return d


def assert_clean_failure(proc, out: Path, *needles):
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    for n in needles:
        assert n in text, f"{n!r} not in:\n{text}"
    assert "Traceback" not in text, text
    assert "panicked" not in text and "RUST_BACKTRACE" not in text, text
    leftovers = list(out.iterdir()) if out.exists() else []
    assert leftovers == [], f"left in the output directory: {leftovers}"


def test_no_sdk_installed(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, "target=wasm32-wasi", check=False, env={**partial_cache(tmp_path, ["python"]), "WASI_SDK_PATH": ""})
    assert_clean_failure(proc, out, "no WASI SDK is installed", "wasiwheel sdk install --from-debian 25")


def test_sdk_of_another_major(tmp_path, isolated_env):
    out = tmp_path / "out"
    sdk = fake_sdk(tmp_path, "30.0\nwasi-libc: ec0effd769df\nllvm-version: 21.1.0\n")
    proc = pip_wheel(DEMO, out, isolated_env, "target=wasm32-wasi", f"wasi-sdk={sdk}", check=False)
    assert_clean_failure(proc, out, "WASI SDK 30", "built with WASI SDK 25", "allow-sdk-mismatch")


def test_no_target_cpython_installed(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, "target=wasm32-wasi", check=False, env=partial_cache(tmp_path, ["sdk"]))
    assert_clean_failure(proc, out, "no target CPython", "wasiwheel python install")


def test_missing_source_file(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(SDISTS / "broken-missing-source", out, isolated_env, "target=wasm32-wasi", check=False)
    assert_clean_failure(proc, out, "csrc/does_not_exist.c", "does not exist", "brk._core")


@pytest.mark.parametrize("target", ["wasm32-wasi", None])
def test_c_compile_error_shows_clang_diagnostic(tmp_path, isolated_env, target):
    out = tmp_path / "out"
    config = [f"target={target}"] if target else []
    proc = pip_wheel(SDISTS / "broken-compile-error", out, isolated_env, *config, check=False)
    # The compiler's own diagnostic, with file and line.
    assert_clean_failure(proc, out, "csrc/bad.c:6:", "error:", "undeclared", "compiling")


def test_unknown_config_key(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, "traget=wasm32-wasi", check=False)
    assert_clean_failure(proc, out, "`traget`", "did you mean `target`?")


def test_missing_project_name(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(SDISTS / "broken-no-name", out, isolated_env, check=False)
    assert_clean_failure(proc, out, "pyproject.toml", "`project.name` is missing")


def test_bad_target_value(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(DEMO, out, isolated_env, "target=wasm64-wasi", check=False)
    assert_clean_failure(proc, out, "config setting `target`", "wasm32-wasip1")
