"""What a pre-initialized component keeps: only the modules its entry can
import (reachable by import statements, plus `include-modules`), as bytecode,
so that a hello-world component stays small; modules imported lazily inside
the project's functions work, and a module no import statement names is left
out with an ImportError that says how to keep it."""

import pytest

from conftest import assert_refused, component, write_project
from wasm_host import run_command

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


def make_app(root, include=None):
    extra = f"include-modules = {include!r}\n".replace("'", '"') if include else ""
    tables = f'[tool.wasiwheel.component]\nentry = "hello:main"\n{extra}'
    return write_project(root, "hello", {"hello/__init__.py": APP}, tables=tables)


@pytest.fixture(scope="module")
def hello(tmp_path_factory, wasiwheel_cli):
    base = tmp_path_factory.mktemp("size")
    wasm = base / "hello.wasm"
    component(wasiwheel_cli, make_app(base / "p"), wasm)
    return wasm


def test_hello_world_is_small(hello):
    size = hello.stat().st_size
    # 12.2 MB (docs/components.md), of which ~0.2 MB is the linked interpreter's result repair;
    # componentize-py's hello world is 18.5 MB.
    assert size < 12_500_000, f"{size / 1e6:.1f} MB"
    r = run_command(hello)
    assert r.code == 0 and r.stdout == "hello, world\n", r.stderr


def test_lazy_import_in_the_entry_works(hello):
    r = run_command(hello, "lazy")
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines() == ["hello, world", '{"lazy": [1, 2]}']


def test_tracebacks_print_without_source(hello):
    r = run_command(hello, "fail")
    assert r.code == 1
    assert "Traceback (most recent call last)" in r.stderr and "RuntimeError: failure requested" in r.stderr


def test_dynamic_import_needs_include_modules(hello, tmp_path, wasiwheel_cli):
    r = run_command(hello, "dynamic")
    assert r.code == 1
    assert "ModuleNotFoundError" in r.stderr and "include-modules" in r.stderr, r.stderr
    wasm = tmp_path / "included.wasm"
    component(wasiwheel_cli, make_app(tmp_path / "p", include=["colorsys"]), wasm)
    r = run_command(wasm, "dynamic")
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines() == ["hello, world", "(0.0, 1.0, 1.0)"]


def test_include_modules_must_be_module_names(tmp_path, wasiwheel_cli):
    project = make_app(tmp_path / "p", include=["not a module"])
    proc = component(wasiwheel_cli, project, tmp_path / "x.wasm", check=False)
    assert_refused(proc, "include-modules", "not a dotted module name")
