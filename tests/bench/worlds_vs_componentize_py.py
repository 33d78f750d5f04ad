"""Benchmark: componentize-py 0.25.1's own examples (`cli`, `http`,
`sandbox`, app code unchanged, from its pinned sdist) built by wasiwheel and by
componentize-py, side by side in one run: build time, size, compile time in
wasmtime (the Python package, no cache), instantiate + first call (median of
20 fresh instances in one engine), and for `http` the requests per second of
each component under `wasiwheel serve` (tests/bench/serve_rps.py). Prints a
Markdown table. Needs the .venv of .ci/setup.

    .venv/bin/python tests/bench/worlds_vs_componentize_py.py [--rps-seconds 10]
"""

import argparse
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from wasmtime import Engine, Store, WasiConfig, component

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

EXAMPLES = {
    # name: (world, app module, extra wasiwheel args, extra componentize-py args, WIT relative to the sdist)
    "cli": ("wasi:cli/command@0.2.0", "app", [], [], "wit"),
    "http": ("wasi:http/proxy@0.2.0", "app", ["-p", "{sdist}/bundled"], [], "wit"),
    "sandbox": (None, "guest", ["--stub-wasi"], ["--stub-wasi"], "examples/sandbox/sandbox.wit"),
}


def timed(args, cwd=None):
    t = time.perf_counter()
    subprocess.run([str(a) for a in args], check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - t


def build(tool, sdist, name, out):
    world, app, ww_args, cpy_args, wit = EXAMPLES[name]
    ex = sdist / "examples" / name
    w = ["-w", world] if world else []
    if tool == "wasiwheel":
        extra = [a.format(sdist=sdist) for a in ww_args]
        return timed([BIN / "wasiwheel", "component", ex, "--wit", sdist / wit, *w, "--app", app, *extra, "-o", out])
    # componentize-py: as the examples' READMEs run it, in the example's directory.
    flags = ["--stub-wasi"] if cpy_args else []
    return timed([BIN / "componentize-py", "-d", sdist / wit, *w, "componentize", *flags, app, "-o", out], cwd=ex)


def first_call(engine, comp, name):
    """Median seconds of instantiate + the example's first call."""
    linker = component.Linker(engine)
    if name != "sandbox":
        linker.add_wasip2()
        if name == "http":
            linker.add_wasi_http()
    times = []
    for _ in range(20):
        store = Store(engine)
        store.set_wasi(WasiConfig())
        t = time.perf_counter()
        inst = linker.instantiate(store, comp)
        if name == "cli":
            iface = inst.get_export_index(store, "wasi:cli/run@0.2.0")
            run = inst.get_func(store, inst.get_export_index(store, "run", iface))
            run(store)
        elif name == "sandbox":
            f = inst.get_func(store, "eval")
            f(store, "2 + 2")
        else:
            # No request from Python here: the handler's presence (its export looked up) is the first call.
            iface = inst.get_export_index(store, "wasi:http/incoming-handler@0.2.0")
            inst.get_func(store, inst.get_export_index(store, "handle", iface))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rps(wasm, seconds):
    out = subprocess.run(
        [sys.executable, ROOT / "tests" / "bench" / "serve_rps.py", str(wasm), "--threads", "4", "--seconds",
         str(seconds), "--wasiwheel", str(BIN / "wasiwheel")], capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"([0-9.]+) req/s", out)
    return float(m.group(1)) if m else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rps-seconds", type=int, default=10)
    a = ap.parse_args()
    archive = subprocess.run(["bash", ROOT / ".ci" / "fetch-sdists", "componentize-py"], capture_output=True,
                             text=True, check=True).stdout.split()[-1]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with tarfile.open(archive) as t:
            t.extractall(work, filter="data")
        (sdist,) = work.iterdir()
        rows = []
        for name in EXAMPLES:
            for tool in ["wasiwheel", "componentize-py"]:
                out = work / f"{name}-{tool}.wasm"
                secs = build(tool, sdist, name, out)
                engine = Engine()
                t = time.perf_counter()
                comp = component.Component(engine, out.read_bytes())
                compile_s = time.perf_counter() - t
                call = first_call(engine, comp, name)
                r = f"{rps(out, a.rps_seconds):.0f}" if name == "http" else ""
                rows.append((name, tool, secs, out.stat().st_size / 1e6, compile_s, call * 1e3, r))
        print("| example | built by | build | size | compile | instantiate + first call | req/s (serve) |")
        print("|---|---|---|---|---|---|---|")
        for name, tool, secs, size, comp_s, call_ms, r in rows:
            print(f"| {name} | {tool} | {secs:.1f} s | {size:.1f} MB | {comp_s:.1f} s | {call_ms:.2f} ms | {r} |")


if __name__ == "__main__":
    main()
