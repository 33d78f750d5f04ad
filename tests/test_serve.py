"""`wasiwheel serve`: componentize-py 0.25.1's own `http` example (a
wasi:http/proxy component of CPython, built by componentize-py from the
pinned sdist) served by the embedded wasmtime, a fresh instance per request;
and the one-line errors for what cannot be served."""

import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Server, sh


def componentize_py() -> str:
    cpy = shutil.which("componentize-py", path=str(Path(sys.executable).parent))
    assert cpy, "componentize-py is installed by .ci/setup"
    return cpy


def build(sdist: Path, world: str, app_dir: Path, out: Path) -> Path:
    """`componentize-py -d WIT -w WORLD componentize app -o OUT`, run in
    `app_dir` (the app's directory is on its path)."""
    sh([componentize_py(), "-d", sdist / "wit", "-w", world, "componentize", "app", "-o", out], cwd=app_dir)
    return out


@pytest.fixture(scope="module")
def http_wasm(cli_sdist, tmp_path_factory) -> Path:
    """The `http` example as its README builds it."""
    out = tmp_path_factory.mktemp("http") / "http.wasm"
    return build(cli_sdist, "wasi:http/proxy@0.2.0", cli_sdist / "examples" / "http", out)


def test_serves_the_http_example(http_wasm, wasiwheel_cli, tmp_path):
    server = Server(wasiwheel_cli, http_wasm, tmp_path / "serve.log")
    try:
        text = "’Twas brillig, and the slithy toves\n      Did gyre and gimble in the wabe:\n".encode()
        status, body, headers = server.request("/echo", text, {"content-type": "text/plain"})
        assert (status, body) == (200, text)
        assert headers["content-type"] == "text/plain"
        # Several requests in a row, each by a fresh instance.
        for i in range(5):
            payload = f"request {i}".encode() * (i * 1000 + 1)
            assert server.request("/echo", payload, {"content-type": "text/plain"})[:2] == (200, payload)
        # The app answers 400 with an empty body to anything but /echo and /hash-all.
        assert server.request("/unknown")[:2] == (400, b"")
        assert server.request("/echo")[:2] == (400, b"")  # GET, not POST
        assert server.request("/echo", b"still serving", {"content-type": "text/plain"})[:2] == (200, b"still serving")
    finally:
        log = server.stop()
    # SIGTERM stops it cleanly.
    assert server.proc.returncode == 0, log
    assert "Traceback" not in log and "panicked" not in log, log


@pytest.fixture(scope="module")
def crash_wasm(cli_sdist, tmp_path_factory) -> Path:
    """The `http` example with one more route, /crash, that raises."""
    app = tmp_path_factory.mktemp("crash-app")
    source = (cli_sdist / "examples" / "http" / "app.py").read_text()
    route = '    elif isinstance(method, Method_Post) and path == "/echo":'
    assert route in source
    crash = '    elif path == "/crash":\n        raise RuntimeError("crash on purpose")\n'
    (app / "app.py").write_text(source.replace(route, crash + route, 1))
    return build(cli_sdist, "wasi:http/proxy@0.2.0", app, app / "crash.wasm")


def test_a_trap_is_a_500_and_serving_goes_on(crash_wasm, wasiwheel_cli, tmp_path):
    server = Server(wasiwheel_cli, crash_wasm, tmp_path / "serve.log")
    try:
        status, body, _ = server.request("/crash")
        assert status == 500, body
        assert server.request("/echo", b"after", {"content-type": "text/plain"})[:2] == (200, b"after")
        assert server.request("/crash")[0] == 500
    finally:
        log = server.stop(signal.SIGINT)
    assert "wasiwheel serve: GET /crash: the component failed" in log, log
    assert "crash on purpose" in log, log  # the guest's own traceback, on its stderr
    # Ctrl-C stops it cleanly, also through the Python entry point.
    assert server.proc.returncode == 0, log
    # (The guest's own runtime panics on its stderr: "thread '<unnamed>' panicked"; the host does not.)
    assert "KeyboardInterrupt" not in log and "'main' panicked" not in log and "worker' panicked" not in log, log
    assert log.rstrip().endswith("wasiwheel serve: stopped"), log


def serve_error(cli, *args) -> str:
    """The one-line error of `wasiwheel serve ARGS…`, which must fail."""
    proc = subprocess.run([cli, "serve", *map(str, args)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "panicked" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wasiwheel: error: "), proc.stderr
    return lines[0]


def test_missing_file(wasiwheel_cli, tmp_path):
    e = serve_error(wasiwheel_cli, tmp_path / "nope.wasm")
    assert f"{tmp_path / 'nope.wasm'} does not exist" in e


def test_not_webassembly(wasiwheel_cli, tmp_path):
    (tmp_path / "junk.wasm").write_text("hello")
    e = serve_error(wasiwheel_cli, tmp_path / "junk.wasm")
    assert "junk.wasm is not WebAssembly" in e and "wasi:http/proxy" in e


def test_core_module(wasiwheel_cli, tmp_path):
    (tmp_path / "core.wasm").write_bytes(b"\0asm\x01\0\0\0")
    e = serve_error(wasiwheel_cli, tmp_path / "core.wasm")
    assert "core.wasm is a core WebAssembly module" in e and "not a component" in e
    assert "exports wasi:http/incoming-handler" in e


def test_empty_component(wasiwheel_cli, tmp_path):
    (tmp_path / "empty.wasm").write_bytes(b"\0asm\x0d\0\x01\0")
    e = serve_error(wasiwheel_cli, tmp_path / "empty.wasm", "--addr", "127.0.0.1:0")
    assert "empty.wasm does not export wasi:http/incoming-handler" in e and "it exports nothing" in e


def test_command_component(cli_sdist, wasiwheel_cli, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text(
        "from wit_world import exports\n\n\nclass Run(exports.Run):\n    def run(self) -> None:\n        print('hi')\n"
    )
    wasm = build(cli_sdist, "wasi:cli/command@0.2.0", app, tmp_path / "command.wasm")
    e = serve_error(wasiwheel_cli, wasm, "--addr", "127.0.0.1:0")
    assert "command.wasm does not export wasi:http/incoming-handler" in e
    assert "wasi:cli/run@0.2.0" in e and "wasiwheel run --component" in e


def test_bad_address(wasiwheel_cli, tmp_path):
    (tmp_path / "empty.wasm").write_bytes(b"\0asm\x0d\0\x01\0")
    e = serve_error(wasiwheel_cli, tmp_path / "empty.wasm", "--addr", "not-an-address")
    assert "--addr `not-an-address` is not an address" in e


def test_address_in_use(http_wasm, wasiwheel_cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        e = serve_error(wasiwheel_cli, http_wasm, "--addr", addr)
    assert f"cannot listen on {addr} (--addr)" in e and "in use" in e
