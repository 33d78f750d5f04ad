"""Provisioning WASI SDKs: official downloads are checked against pinned
checksums and leave nothing behind when they fail; concurrent installs of
the same SDK do not corrupt the cache; `sdk list` shows each SDK's identity."""

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import sh


def wasiwheel(cli, *args, cache, check=False):
    return sh([cli, *args], env={"WASIWHEEL_CACHE_DIR": str(cache), "WASIWHEEL_SDK_MIRROR": ""}, check=check)


def cache_entries(cache: Path):
    sdk = cache / "sdk"
    return sorted(p.name for p in sdk.iterdir()) if sdk.exists() else []


@pytest.fixture
def serve(tmp_path):
    """Serve tmp_path/www over HTTP on 127.0.0.1; yields the base URL."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_wrong_checksum_leaves_cache_as_it_was(tmp_path, serve, wasiwheel_cli):
    root, base = serve
    asset = root / "wasi-sdk-24" / "wasi-sdk-24.0-x86_64-linux.tar.gz"
    asset.parent.mkdir()
    asset.write_bytes(os.urandom(300_000))
    cache = tmp_path / "cache"
    proc = wasiwheel(wasiwheel_cli, "sdk", "install", "24", "--mirror", base, cache=cache)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "sha256" in text and "c6c38aab56e5de88adf6c1ebc9c3ae8da72f88ec2b656fb024eda8d4167a0bc5" in text
    assert f"{base}/wasi-sdk-24/wasi-sdk-24.0-x86_64-linux.tar.gz" in text
    assert "Traceback" not in text and "panicked" not in text
    assert cache_entries(cache) == []


def test_dropped_connection_leaves_cache_as_it_was(tmp_path, wasiwheel_cli):
    """A server that promises 5 MB and hangs up after 64 KiB."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def drop_once():
        conn, _ = srv.accept()
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\nContent-Type: application/gzip\r\n\r\n"
            + b"\x1f\x8b"
            + b"x" * 65534
        )
        conn.close()

    t = threading.Thread(target=drop_once, daemon=True)
    t.start()
    cache = tmp_path / "cache"
    proc = wasiwheel(wasiwheel_cli, "sdk", "install", "24", "--mirror", f"http://127.0.0.1:{port}", cache=cache)
    t.join(5)
    srv.close()
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "interrupted" in text, text
    assert "Traceback" not in text and "panicked" not in text
    assert cache_entries(cache) == []


def test_missing_release_and_unpinned_major(tmp_path, serve, wasiwheel_cli):
    _, base = serve
    cache = tmp_path / "cache"
    proc = wasiwheel(wasiwheel_cli, "sdk", "install", "25", "--mirror", base, cache=cache)
    assert proc.returncode == 1 and "404" in proc.stderr, proc.stderr
    proc = wasiwheel(wasiwheel_cli, "sdk", "install", "26", cache=cache)
    assert proc.returncode == 1 and "no pinned checksum for WASI SDK 26" in proc.stderr, proc.stderr
    assert cache_entries(cache) == []


def test_concurrent_installs_share_one_sdk(tmp_path, wasiwheel_cli):
    """Two processes install the Debian SDK 25 at once: a lock serialises them,
    the second finds the first's result, and the cache holds one valid SDK."""
    cache = tmp_path / "cache"
    env = {**os.environ, "WASIWHEEL_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [wasiwheel_cli, "sdk", "install", "--from-debian", "25"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert cache_entries(cache) == ["wasi-sdk-25-debian"]
    assert sum("already installed" in err for _, err in outs) == 1, outs
    listing = wasiwheel(wasiwheel_cli, "sdk", "list", cache=cache, check=True).stdout
    assert "WASI SDK 25" in listing and "wasi-libc 574b88da4815" in listing and "wasm32-wasip1,wasm32-wasip2" in listing


def test_debian_sdk_33_compiles_and_runs(tmp_path, wasiwheel_cli):
    """The SDK-33 equivalent (sid's wasi-libc + clang-22) compiles for both
    WASI targets, and its preview1 output runs under the embedded wasmtime."""
    listing = sh([wasiwheel_cli, "sdk", "list"]).stdout
    line = next(l for l in listing.splitlines() if l.startswith("WASI SDK 33"))
    assert "wasi-libc 161b3195fc25" in line and "LLVM 22." in line
    root = Path(next(w for w in line.split() if w.endswith("wasi-sdk-33-debian")))
    src = tmp_path / "hello.c"
    src.write_text(
        '#include <stdio.h>\nint main(int argc, char **argv) { printf("hello %s\\n", argv[1]); return 3; }\n'
    )
    sh([root / "bin" / "clang", "-O2", src, "-o", tmp_path / "hello.wasm"])
    sh([root / "bin" / "clang", "--target=wasm32-wasip2", "-c", src, "-o", tmp_path / "hello-p2.o"])
    proc = sh([wasiwheel_cli, "exec", tmp_path / "hello.wasm", "wasi"], check=False)
    assert proc.returncode == 3 and proc.stdout == "hello wasi\n"
