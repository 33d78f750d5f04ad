"""What a pre-initialized component keeps: only the modules its entry can
import (reachable by import statements, plus `include-modules`), as bytecode,
so that a hello-world component stays small; modules imported lazily inside
the project's functions work, and a module no import statement names is left
out with an ImportError that says how to keep it."""

import subprocess
import sys

import pytest

from conftest import sh

RUNNER = r"""
import sys
from wasmtime import Engine, Store, WasiConfig, component, ExitTrap
path, args = sys.argv[1], sys.argv[2:]
engine = Engine()
comp = component.Component.from_file(engine, path)
linker = component.Linker(engine)
linker.add_wasip2()
store = Store(engine)
wasi = WasiConfig()
wasi.argv = ["app", *args]
wasi.inherit_stdout()
wasi.inherit_stderr()
store.set_wasi(wasi)
inst = linker.instantiate(store, comp)
exports = (inst.get_export_index(store, f"wasi:cli/run@0.2.{v}") for v in range(10))
run_iface = next(i for i in exports if i is not None)
run = inst.get_func(store, inst.get_export_index(store, "run", run_iface))
try:
    r = run(store)
    code = 0 if r is None or r.tag == "ok" else 1
except ExitTrap as e:
    code = e.code
sys.stdout.flush()
sys.exit(code)
"""

APP = '''
import importlib, sys


def main():
    print("hello, world", flush=True)
    if sys.argv[1:] == ["lazy"]:
        import json  # imported only here, at run time

        print(json.dumps({"lazy": [1, 2]}), flush=True)
    elif sys.argv[1:] == ["dynamic"]:
        name = "".join(["color", "sys"])  # no import statement names it
        print(importlib.import_module(name).rgb_to_hsv(1.0, 0.0, 0.0), flush=True)
    elif sys.argv[1:] == ["fail"]:
        raise RuntimeError("failure requested")
    return 0
'''


def run(wasm, *args):
    return subprocess.run([sys.executable, "-c", RUNNER, str(wasm), *args], capture_output=True, text=True, timeout=600)


def make_app(root, include=None):
    (root / "hello").mkdir(parents=True)
    extra = f"include-modules = {include!r}\n".replace("'", '"') if include else ""
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n\n'
        '[project]\nname = "hello"\nversion = "1.0"\n\n'
        f'[tool.wasiwheel.component]\nentry = "hello:main"\n{extra}'
    )
    (root / "hello" / "__init__.py").write_text(APP)
    return root


@pytest.fixture(scope="module")
def hello(tmp_path_factory, wasiwheel_cli):
    base = tmp_path_factory.mktemp("size")
    wasm = base / "hello.wasm"
    sh([wasiwheel_cli, "component", make_app(base / "p"), "-o", wasm])
    return wasm


def test_hello_world_is_small(hello):
    size = hello.stat().st_size
    assert size < 12_000_000, f"{size / 1e6:.1f} MB"
    proc = run(hello)
    assert proc.returncode == 0 and proc.stdout == "hello, world\n", proc.stderr


def test_lazy_import_in_the_entry_works(hello):
    proc = run(hello, "lazy")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["hello, world", '{"lazy": [1, 2]}']


def test_tracebacks_print_without_source(hello):
    proc = run(hello, "fail")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr and "RuntimeError: failure requested" in proc.stderr


def test_dynamic_import_needs_include_modules(hello, tmp_path, wasiwheel_cli):
    proc = run(hello, "dynamic")
    assert proc.returncode == 1
    assert "ModuleNotFoundError" in proc.stderr and "include-modules" in proc.stderr, proc.stderr
    wasm = tmp_path / "included.wasm"
    sh([wasiwheel_cli, "component", make_app(tmp_path / "p", include=["colorsys"]), "-o", wasm])
    proc = run(wasm, "dynamic")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["hello, world", "(0.0, 1.0, 1.0)"]


def test_include_modules_must_be_module_names(tmp_path, wasiwheel_cli):
    project = make_app(tmp_path / "p", include=["not a module"])
    proc = sh([wasiwheel_cli, "component", project, "-o", tmp_path / "x.wasm"], check=False)
    assert proc.returncode != 0
    assert "include-modules" in proc.stderr + proc.stdout and "not a dotted module name" in proc.stderr + proc.stdout
