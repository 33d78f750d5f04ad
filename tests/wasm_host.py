"""The tests' host for components: the wasmtime PyPI package, in a process of
its own (a fresh host each time).

`run_command` runs a ``wasi:cli/command`` component: each of `runs` instances
(one engine and linker, a fresh store each) gets the argv, exactly the
environment given and nothing else, the host directories given preopened, and
the host process's stdout and stderr; its ``wasi:cli/run@0.2.x`` ``run`` is
called. `call_export` calls a world-level export with string arguments in an
instance with an empty WASI configuration.

The script (``python wasm_host.py WASM --report FILE [--runs N] [--env
NAME=VALUE]… [--dir HOST::GUEST]… [--call NAME] -- ARG…``) does that and
writes a JSON report to FILE: each instance's exit code (``codes``: 0 for
``ok``, 1 for ``err``, a ``wasi:cli/exit`` status as given), its seconds from
instantiation to the end of ``run`` (``times``) and, with ``--call``, the
export's result (``result``).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from wasmtime import Config, Engine, ExitTrap, Store, WasiConfig, component

#: Where a component built with ``component-preinit=false`` reads its bundle.
BUNDLE_GUEST_DIR = "/wasiwheel-bundle"


@dataclass
class Run:
    """What one host process reported: `code`, the first nonzero exit code of
    its instances (else 0) or, when the host itself failed (a trap ends it,
    its traceback on stderr), the host's exit status; each finished
    instance's code and seconds; the instances' stdout and stderr; and the
    result of a `call_export`."""

    code: int
    codes: list
    times: list
    stdout: str
    stderr: str
    result: object = None


def bundle(wasm) -> tuple[str, str]:
    """The preopen a component built with ``component-preinit=false`` needs:
    the bundle directory written beside it."""
    return f"{wasm}.bundle", BUNDLE_GUEST_DIR


def _host(wasm, options, args, timeout) -> Run:
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "report.json"
        proc = subprocess.run(
            [sys.executable, __file__, str(wasm), "--report", str(report), *options, "--", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not report.exists():
            assert proc.returncode != 0, proc.stderr
            return Run(proc.returncode, [], [], proc.stdout, proc.stderr)
        info = json.loads(report.read_text())
    code = next((c for c in info["codes"] if c), 0)
    return Run(code, info["codes"], info["times"], proc.stdout, proc.stderr, info.get("result"))


def run_command(wasm, *args, argv0="app", env=(), dirs=(), runs=1, timeout=600) -> Run:
    """Run `runs` instances of the command component `wasm` one after the
    other in one host process, each with argv ``[argv0, *args]`` (`args` alone
    when `argv0` is None), exactly the environment `env` ((name, value)
    pairs) and the preopened directories `dirs` ((host path, guest path)
    pairs)."""
    options = [f"--runs={runs}"]
    options += [f"--env={name}={value}" for name, value in env]
    options += [f"--dir={host}::{guest}" for host, guest in dirs]
    argv = list(args) if argv0 is None else [argv0, *args]
    return _host(wasm, options, argv, timeout)


def call_export(wasm, name, *args, timeout=600) -> Run:
    """Call the world-level export `name` of `wasm` with the string
    arguments `args`; its result is the Run's `result`."""
    return _host(wasm, [f"--call={name}"], args, timeout)


def _instance(engine, linker, comp, a):
    """One instance in a fresh store: its exit code, the export's result (with
    --call) and the seconds from instantiation to the end of the call."""
    store = Store(engine)
    wasi = WasiConfig()
    if not a.call:
        wasi.argv = a.args
        wasi.env = [e.split("=", 1) for e in a.env]
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        for d in a.dir:
            host, guest = d.split("::", 1)
            wasi.preopen_dir(host, guest)
    store.set_wasi(wasi)
    t = time.perf_counter()
    inst = linker.instantiate(store, comp)
    if a.call:
        result = inst.get_func(store, a.call)(store, *a.args)
        return 0, result, time.perf_counter() - t
    exports = (inst.get_export_index(store, f"wasi:cli/run@0.2.{v}") for v in range(10))
    run_iface = next(i for i in exports if i is not None)
    run = inst.get_func(store, inst.get_export_index(store, "run", run_iface))
    try:
        r = run(store)
        code = 0 if r is None or r.tag == "ok" else 1
    except ExitTrap as e:
        code = e.code
    return code, None, time.perf_counter() - t


def main(argv):
    p = argparse.ArgumentParser(description="Run a component under wasmtime-py (see this module's docstring).")
    p.add_argument("wasm")
    p.add_argument("--report", required=True, help="where the JSON report goes")
    p.add_argument("--runs", type=int, default=1, help="instances, one after the other")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--dir", action="append", default=[], metavar="HOST::GUEST")
    p.add_argument("--call", metavar="NAME", help="call this world-level export once instead of wasi:cli/run")
    split = argv.index("--") if "--" in argv else len(argv)
    a = p.parse_args(argv[:split])
    a.args = argv[split + 1 :]

    config = Config()
    # Extensions that use C++ exceptions run on wasm exception handling (exnref).
    config.wasm_exceptions = True
    engine = Engine(config)
    comp = component.Component.from_file(engine, a.wasm)
    linker = component.Linker(engine)
    linker.add_wasip2()
    report = {"codes": [], "times": []}
    for _ in range(1 if a.call else a.runs):
        code, result, seconds = _instance(engine, linker, comp, a)
        report["codes"].append(code)
        report["times"].append(seconds)
        if a.call:
            report["result"] = result
    sys.stdout.flush()
    Path(a.report).write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
