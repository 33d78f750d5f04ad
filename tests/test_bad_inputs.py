"""Bad inputs: each gives a short error naming what to fix, a non-zero exit,
no Rust panic, no Python traceback, and no wheel (or partial wheel) left in
the output directory.

Each runs twice: through pip with build isolation, as users hit them (the
message), and by calling the backend's ``build_wheel`` hook directly with
``pyproject_hooks`` (the message, and that nothing is left in the directory
the backend itself was asked to write to: pip builds into a temporary
directory and copies only on success, so its output directory proves
nothing)."""

import sys
from pathlib import Path

import pytest

from conftest import DEMO, SDISTS, assert_refused, pip_wheel, private_cache, sdk_dir, sh


def partial_cache(tmp_path, keep):
    """The environment of a cache holding only the `keep` parts (sdk, python) of the real one."""
    return {"WASIWHEEL_CACHE_DIR": str(private_cache(tmp_path, keep))}


def installed_sdk25() -> Path:
    return sdk_dir(25)


def fake_sdk(tmp_path, version_text):
    """An SDK directory that is the real SDK 25 but identifies as another release."""
    d = tmp_path / "other-sdk"
    d.mkdir()
    for part in ("bin", "lib", "share"):
        (d / part).symlink_to(installed_sdk25() / part, target_is_directory=True)
    (d / "VERSION").write_text(version_text)
    return d


HOOK = """
import subprocess, sys
import pyproject_hooks
caller = pyproject_hooks.BuildBackendHookCaller(sys.argv[1], "wasiwheel")
settings = dict(a.split("=", 1) for a in sys.argv[3:])
try:
    print(caller.build_wheel(sys.argv[2], config_settings=settings))
except subprocess.CalledProcessError:
    sys.exit(1)  # the backend's own message is already on stderr
"""


@pytest.fixture(params=["pip", "hook"])
def build(request, isolated_env):
    """Run a wheel build of a bad input: `build(project, out, *config, env=…)`."""

    def run(project, out, *config, env=None):
        if request.param == "pip":
            return pip_wheel(project, out, isolated_env, *config, check=False, env=env)
        out.mkdir(parents=True, exist_ok=True)
        return sh([sys.executable, "-c", HOOK, project, out, *config], env=env, check=False)

    run.frontend = request.param
    return run


def assert_clean_failure(proc, out: Path, *needles):
    assert_refused(proc, *needles, absent=["Traceback", "panicked", "RUST_BACKTRACE"], out=out)


def test_no_sdk_installed(tmp_path, build):
    out = tmp_path / "out"
    env = {**partial_cache(tmp_path, ["python"]), "WASI_SDK_PATH": "", "WASIWHEEL_NO_PROVISION": "1"}
    proc = build(DEMO, out, "target=wasm32-wasi", env=env)
    assert_clean_failure(proc, out, "WASI SDK 25 is not installed", "wasiwheel setup", "sdk install --from-debian 25")


def test_sdk_of_another_major(tmp_path, build):
    out = tmp_path / "out"
    sdk = fake_sdk(tmp_path, "30.0\nwasi-libc: ec0effd769df\nllvm-version: 21.1.0\n")
    proc = build(DEMO, out, "target=wasm32-wasi", f"wasi-sdk={sdk}")
    assert_clean_failure(proc, out, "WASI SDK 30", "built with WASI SDK 25", "allow-sdk-mismatch")


def test_no_target_cpython_installed(tmp_path, build):
    out = tmp_path / "out"
    env = {**partial_cache(tmp_path, ["sdk"]), "WASIWHEEL_NO_PROVISION": "1"}
    proc = build(DEMO, out, "target=wasm32-wasi", env=env)
    assert_clean_failure(proc, out, "no target CPython", "provisioning is off", "wasiwheel setup --python 3.13")


def test_missing_source_file(tmp_path, build):
    out = tmp_path / "out"
    proc = build(SDISTS / "broken-missing-source", out, "target=wasm32-wasi")
    assert_clean_failure(proc, out, "csrc/does_not_exist.c", "does not exist", "brk._core")


@pytest.mark.parametrize("target", ["wasm32-wasi", None])
def test_c_compile_error_shows_clang_diagnostic(tmp_path, build, target):
    out = tmp_path / "out"
    config = [f"target={target}"] if target else []
    proc = build(SDISTS / "broken-compile-error", out, *config)
    # The compiler's own diagnostic, with file and line.
    assert_clean_failure(proc, out, "csrc/bad.c:6:", "error:", "undeclared", "compiling")


def test_unknown_config_key(tmp_path, build):
    out = tmp_path / "out"
    proc = build(DEMO, out, "traget=wasm32-wasi")
    assert_clean_failure(proc, out, "`traget`", "did you mean `target`?")


def test_missing_project_name(tmp_path, build):
    out = tmp_path / "out"
    proc = build(SDISTS / "broken-no-name", out)
    assert_clean_failure(proc, out, "pyproject.toml", "`project.name` is missing")


def test_bad_target_value(tmp_path, build):
    out = tmp_path / "out"
    proc = build(DEMO, out, "target=wasm64-wasi")
    assert_clean_failure(proc, out, "config setting `target`", "wasm32-wasip1")
