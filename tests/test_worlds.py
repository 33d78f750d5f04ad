"""Components of WIT worlds implemented in Python: componentize-py 0.25.1's
own examples (taken from its pinned sdist, app code unchanged) built by
wasiwheel and run by their hosts (`sandbox` through wasmtime-py 38.0.0 as its
host.py does, `cli` as a wasi:cli/command, `http` under `wasiwheel serve`),
the bindings under `mypy --strict`, and the bad inputs: a world that does not
parse, an export the app does not implement, an app class with the wrong
name — a clear error each, and no partial `.wasm`."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT, Server, component, sh

#: wasmtime-py 38.0.0 (the version componentize-py's sandbox README pins), in
#: its own virtual environment made by .ci/setup.
WASMTIME38 = ROOT / ".venv-wasmtime38" / "bin" / "python"


def no_wasm_left(directory: Path):
    """Nothing half-written where the component was to go (write_atomic's
    temporary files included)."""
    assert sorted(p.name for p in directory.iterdir() if p.suffix == ".wasm" or p.name.startswith(".")) == []


def test_sandbox_example_under_its_wasmtime_py_host(cli_sdist, wasiwheel_cli, tmp_path):
    """`sandbox`: world-level exports (`eval`, `exec`) returning results;
    built with the WASI stubbed (componentize-py's --stub-wasi) so that
    wasmtime-py's bindgen can host it; its own host.py evaluates `2 + 2`, and
    an exception comes back as an `Err`."""
    ex = cli_sdist / "examples" / "sandbox"
    wasm = tmp_path / "sandbox.wasm"
    component(wasiwheel_cli, ex, wasm, "--wit", ex / "sandbox.wit", "--app", "guest", "--stub-wasi")
    host = tmp_path / "host"
    host.mkdir()
    shutil.copy(ex / "host.py", host / "host.py")
    sh([WASMTIME38, "-m", "wasmtime.bindgen", wasm, "--out-dir", host / "sandbox"])
    # host.py gives the guest 20 s from the start, compiling included: on a busy 2-core machine the
    # first, uncached compile of the component can take longer. Warm wasmtime's cache (host.py turns
    # it on) with a first run, whatever its outcome.
    sh([WASMTIME38, "host.py", "0"], cwd=host, check=False)
    run = lambda *a: sh([WASMTIME38, "host.py", *a], cwd=host).stdout  # noqa: E731
    assert run("2 + 2") == "result: 4\n"
    assert run("1/0") == "eval error: ZeroDivisionError: division by zero\n"
    assert run("global foo\ndef foo(): return 42", "foo()") == "result: 42\n"
    # An exec error: host.py prints it and exits with -1.
    r = sh([WASMTIME38, "host.py", "raise ValueError('nope')", "1"], cwd=host, check=False)
    assert (r.returncode, r.stdout) == (255, "exec error: ValueError: nope\n")


def test_cli_example_is_a_command(cli_sdist, wasiwheel_cli, tmp_path):
    """`cli`: `Run(exports.Run)` implements wasi:cli/run of
    wasi:cli/command@0.2.0; run as a command component it prints its line."""
    ex = cli_sdist / "examples" / "cli"
    wasm = tmp_path / "cli.wasm"
    component(wasiwheel_cli, ex, wasm, "--wit", cli_sdist / "wit", "--world", "wasi:cli/command@0.2.0", "--app", "app")
    r = sh([wasiwheel_cli, "run", "--component", wasm])
    assert r.stdout == "Hello, world!\n"


def test_http_example_under_wasiwheel_serve(cli_sdist, wasiwheel_cli, tmp_path):
    """`http`: wasi:http/proxy@0.2.0, with componentize-py's own `poll_loop`
    (from the sdist's bundled directory, on the app's path as componentize-py
    puts it); served by `wasiwheel serve`, `/echo` round-trips a body and an
    unknown path gets the app's 400, over several requests (a fresh instance
    each)."""
    ex = cli_sdist / "examples" / "http"
    wasm = tmp_path / "http.wasm"
    component(
        wasiwheel_cli, ex, wasm, "--wit", cli_sdist / "wit", "--world", "wasi:http/proxy@0.2.0", "--app", "app",
        "-p", cli_sdist / "bundled",
    )
    server = Server(wasiwheel_cli, wasm, tmp_path / "serve.log")
    try:
        for i in range(3):
            body = f"’Twas brillig, and the slithy toves {i}\n".encode() * 50
            status, got, headers = server.request("/echo", body, {"content-type": "text/plain"})
            assert (status, got) == (200, body)
            assert headers["content-type"] == "text/plain"
        status, got, _ = server.request("/nope")
        assert status == 400 and got == b""
    finally:
        server.stop()


def test_matrix_math_example():
    """`matrix-math` needs numpy for WASI."""
    pytest.skip("matrix-math imports numpy, whose WASI build is blocked (issue 14: numpy's C++ needs exceptions)")


def test_bindings_pass_mypy_strict(cli_sdist, wasiwheel_cli, tmp_path):
    """`wasiwheel bindings` for wasi:http/proxy and the sandbox world: the
    package layout componentize-py generates, clean under `mypy --strict`."""
    worlds = [(cli_sdist / "wit", "wasi:http/proxy@0.2.0"), (cli_sdist / "examples/sandbox/sandbox.wit", None)]
    for wit, world in worlds:
        out = tmp_path / (world or "sandbox").replace(":", "-").replace("/", "-")
        sh([wasiwheel_cli, "bindings", "--wit", wit, *(["--world", world] if world else []), "-o", out])
        names = {str(p.relative_to(out)) for p in out.rglob("*.py")}
        assert {"wit_world/__init__.py", "wit_world/exports/__init__.py", "componentize_py_types.py"} <= names
        if world:
            assert {"wit_world/imports/types.py", "wit_world/imports/streams.py", "wit_world/imports/poll.py",
                    "wit_world/exports/incoming_handler.py"} <= names
        r = sh([sys.executable, "-m", "mypy", "--strict", "--python-version", "3.13", "--no-incremental",
                "-p", "wit_world", "-m", "componentize_py_types", "-m", "_wasiwheel_wit"], cwd=out)
        assert "Success: no issues found" in r.stdout


SANDBOX_WIT = """package local:sandbox;

world sandbox {
  export eval: func(expression: string) -> result<string, string>;
  export exec: func(statements: string) -> result<_, string>;
}
"""


#: An app of SANDBOX_WIT's world with only `eval`, in the class `cls`; EXEC adds `exec` to it.
EVAL_ONLY = (
    "import wit_world\n\nclass {cls}(wit_world.WitWorld):\n    def eval(self, expression: str) -> str:\n"
    "        return expression\n"
)
EXEC = "\n    def exec(self, statements: str) -> None:\n        pass\n"


def refused_app(cli, tmp_path: Path, source: str, *args, wit: str = SANDBOX_WIT) -> str:
    """`wasiwheel component` of an app (`guest.py` with `source`) of the WIT
    `wit` with `args`: it fails and leaves no .wasm; its stderr."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "guest.py").write_text(source)
    (tmp_path / "sandbox.wit").write_text(wit)
    (tmp_path / "out").mkdir()
    r = component(cli, app, tmp_path / "out" / "x.wasm", "--wit", tmp_path / "sandbox.wit", *args, check=False)
    assert r.returncode != 0
    no_wasm_left(tmp_path / "out")
    return r.stderr


def test_world_that_does_not_parse(wasiwheel_cli, tmp_path):
    """wit-parser's message, with the file and the line."""
    wit = "package local:sandbox;\n\nworld sandbox {\n  export eval: func(e: strin) -> string;\n}\n"
    err = refused_app(wasiwheel_cli, tmp_path, "", "--app", "guest", wit=wit)
    assert "component-wit-path" in err and "sandbox.wit:4" in err and "strin" in err, err
    assert "Traceback" not in err and "panicked" not in err


def test_unknown_world(wasiwheel_cli, tmp_path):
    err = refused_app(wasiwheel_cli, tmp_path, "", "--world", "nope", "--app", "guest")
    assert "component-world" in err and "local:sandbox/sandbox" in err, err


def test_export_the_app_does_not_implement(wasiwheel_cli, tmp_path):
    """Both names: the app's class and the export it lacks."""
    err = refused_app(wasiwheel_cli, tmp_path, EVAL_ONLY.format(cls="WitWorld"), "--app", "guest")
    assert "`guest.WitWorld`" in err and "does not implement `exec`" in err, err
    assert "local:sandbox/sandbox" in err


def test_app_class_with_the_wrong_name(wasiwheel_cli, tmp_path):
    err = refused_app(wasiwheel_cli, tmp_path, EVAL_ONLY.format(cls="Sandbox") + EXEC, "--app", "guest")
    assert "defines no class `WitWorld`" in err and "it defines Sandbox" in err, err


def test_app_module_missing(wasiwheel_cli, tmp_path):
    err = refused_app(wasiwheel_cli, tmp_path, "", "--app", "nope")
    assert "No module named 'nope'" in err, err


def test_world_without_app(wasiwheel_cli, tmp_path):
    err = refused_app(wasiwheel_cli, tmp_path, "")
    assert "component-app" in err, err


WORLD_DEMO = ROOT / "tests" / "sdists" / "world-demo"

#: Host of tests/sdists/world-demo's component with wasmtime-py 50: provides
#: `demo:greeter/shout`, calls the world's `greet` and `stats.summarize`.
WORLD_HOST = r"""
import json, sys
from wasmtime import Engine, Store, WasiConfig, component

engine = Engine()
store = Store(engine)
store.set_wasi(WasiConfig())
linker = component.Linker(engine)
linker.add_wasip2()
with linker.root() as root:
    with root.add_instance("demo:greeter/shout@1.0.0") as shout:
        shout.add_func("shout", lambda store, name: name.upper())
inst = linker.instantiate(store, component.Component.from_file(engine, sys.argv[1]))
greet = inst.get_func(store, "greet")
out = {}
for name in ["wasi", ""]:
    r = greet(store, name)
    greet.post_return(store)
    out[name or "empty"] = [r.tag, r.payload]
stats = inst.get_export_index(store, "demo:greeter/stats@1.0.0")
summarize = inst.get_func(store, inst.get_export_index(store, "summarize", stats))
for values in [[1, 2, 3, 4000000000], []]:
    r = summarize(store, values)
    summarize.post_return(store)
    out[str(len(values))] = {k: getattr(r, k) for k in ("count", "total", "mean")}
print(json.dumps(out))
"""


def test_project_component_of_a_world(tmp_path, isolated_env):
    """A project with `[tool.wasiwheel.component] wit-path/world/app` and a C
    extension, built with `python -m build -C artifact=component`: the
    component is written beside the wheel, its world-level export and its exported
    interface run in wasmtime-py 50 (a host providing the world's import),
    calling the extension and the host."""
    out = tmp_path / "dist"
    sh([sys.executable, "-m", "build", "-w", "-C", "target=wasm32-wasi", "-C", "artifact=component", "--outdir", out,
        WORLD_DEMO], env=isolated_env)
    assert sorted(p.name for p in out.iterdir()) == [
        "world_demo-1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl", "world_demo-1.0.wasm"]
    wasm = out / "world_demo-1.0.wasm"
    r = sh([sys.executable, "-c", WORLD_HOST, wasm])
    got = json.loads(r.stdout)
    assert got["wasi"] == ["ok", "Hello, WASI!"]
    assert got["empty"] == ["err", "an empty name"]
    assert got["4"] == {"count": 4, "total": 4000000006, "mean": 1000000001.5}
    assert got["0"] == {"count": 0, "total": 0, "mean": None}
