"""Requests per second of `wasiwheel serve`: start it on a component that
answers POST /echo (e.g. componentize-py's `http` example), then POST /echo
from N client threads (one keep-alive connection each) for D seconds, and
print one line: requests, rps, latency percentiles, errors.

    python tests/bench/serve_rps.py http.wasm [--threads 4] [--seconds 10] [--wasiwheel wasiwheel]

No assertions: a measurement to compare builds and machines by.
"""

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def start(cli, wasm):
    """`wasiwheel serve WASM --addr 127.0.0.1:0`; returns (process, host, port, log file)."""
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(
        [cli, "serve", wasm, "--addr", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=log, text=True
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        log.seek(0)
        m = re.search(r"^serving http://([\d.]+):(\d+)/$", log.read(), re.M)
        if m:
            return proc, m.group(1), int(m.group(2)), log
        time.sleep(0.1)
    proc.kill()
    log.seek(0)
    sys.exit(f"wasiwheel serve did not start:\n{log.read()}")


def client(host, port, until, body, latencies, errors):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    while time.monotonic() < until:
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/echo", body=body, headers={"content-type": "text/plain"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200 or data != body:
                errors.append(r.status)
        except (OSError, http.client.HTTPException) as e:
            errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
            continue
        latencies.append(time.perf_counter() - t0)
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("component")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--body-bytes", type=int, default=64)
    ap.add_argument("--wasiwheel", default=shutil.which("wasiwheel") or "wasiwheel")
    a = ap.parse_args()
    proc, host, port, log = start(a.wasiwheel, a.component)
    body = b"x" * a.body_bytes
    try:
        # Warm up (the first instantiation touches the component's pages).
        client(host, port, time.monotonic() + 1.0, body, [], [])
        latencies, errors = [], []
        until = time.monotonic() + a.seconds
        t0 = time.monotonic()
        threads = [
            threading.Thread(target=client, args=(host, port, until, body, latencies, errors)) for _ in range(a.threads)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    print(
        f"serve_rps: {len(latencies)} requests in {elapsed:.1f}s with {a.threads} threads: "
        f"{len(latencies) / elapsed:.0f} req/s, latency p50 {pct(0.5):.1f} ms p99 {pct(0.99):.1f} ms, "
        f"{len(errors)} errors"
    )


if __name__ == "__main__":
    main()
