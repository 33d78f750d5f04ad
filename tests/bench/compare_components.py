"""Benchmark: a hello-world component built by wasiwheel (`wasiwheel
component`) and by componentize-py 0.25.1 (a one-function custom world): build
time, size, compile time in wasmtime (the Python package) and instantiate +
first call (the median of 20 instances in one engine). Needs the .venv of
.ci/setup (wasiwheel, componentize-py, wasmtime). Prints a Markdown table.

    .venv/bin/python tests/bench/compare_components.py
"""

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wasmtime import Engine, Store, WasiConfig, component

BIN = Path(sys.executable).parent


def timed(args):
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t


def wasiwheel(work):
    (work / "ww" / "hello").mkdir(parents=True)
    (work / "ww" / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n\n'
        '[project]\nname = "hello"\nversion = "1.0"\n\n[tool.wasiwheel.component]\nentry = "hello:main"\n'
    )
    (work / "ww" / "hello" / "__init__.py").write_text('def main():\n    print("hello, world")\n')
    out = work / "ww.wasm"
    return timed([BIN / "wasiwheel", "component", work / "ww", "-o", out]), out


def componentize_py(work):
    (work / "wit").mkdir()
    (work / "wit" / "app.wit").write_text("package bench:hello;\n\nworld app {\n  export run: func();\n}\n")
    (work / "app").mkdir()
    (work / "app" / "app.py").write_text(
        'import wit_world\n\n\nclass WitWorld(wit_world.WitWorld):\n    def run(self) -> None:\n'
        '        print("hello, world")\n'
    )
    out = work / "cpy.wasm"
    cpy = BIN / "componentize-py"
    return timed([cpy, "-d", work / "wit", "-w", "app", "componentize", "app", "-p", work / "app", "-o", out]), out


def first_call(engine, comp, kind):
    linker = component.Linker(engine)
    linker.add_wasip2()
    times = []
    for _ in range(20):
        store = Store(engine)
        wasi = WasiConfig()
        store.set_wasi(wasi)
        t = time.perf_counter()
        inst = linker.instantiate(store, comp)
        if kind == "ww":
            iface = next(
                i
                for i in (inst.get_export_index(store, f"wasi:cli/run@0.2.{v}") for v in range(10))
                if i is not None
            )
            inst.get_func(store, inst.get_export_index(store, "run", iface))(store)
        else:
            inst.get_func(store, "run")(store)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    work = Path(tempfile.mkdtemp(prefix="compare-components."))
    try:
        rows = []
        for label, kind, build in (
            ("hello, wasiwheel", "ww", wasiwheel),
            ("hello, componentize-py", "cpy", componentize_py),
        ):
            build_s, wasm = build(work)
            engine = Engine()
            t = time.perf_counter()
            comp = component.Component.from_file(engine, str(wasm))
            compile_s = time.perf_counter() - t
            run_s = first_call(engine, comp, kind)
            rows.append(
                f"| {label} | {build_s:.1f} s | {wasm.stat().st_size / 1e6:.1f} MB | {compile_s:.1f} s "
                f"| {run_s * 1e3:.2f} ms |"
            )
        print("| | build | size | compile in wasmtime | instantiate + run |\n|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
