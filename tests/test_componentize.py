"""Native extensions for componentize-py: wasm32-wasip2 dylibs built against a
compile-only CPython 3.14 (Debian's headers + a pyconfig.h derived by probing
the SDK-33 equivalent), installed with the line `wasiwheel tags` prints, linked
into a component by componentize-py 0.25.1 (CPython 3.14.0, wasi-sdk 33), and
run with the wasmtime PyPI package."""

import json
import zipfile

from conftest import DEMO, SDISTS, componentize, install_with_tags_line, pip_wheel, reference_results, sh
from wasm_host import call_export

def test_compile_only_prefix_cannot_run(prefix314, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "run", "--python-prefix", prefix314, "--", "-c", "pass"], check=False)
    assert proc.returncode == 1 and "compile-only" in proc.stderr, proc.stderr


def test_c_extension_in_componentize_py(tmp_path, isolated_env, prefix314, wasiwheel_cli):
    wheels = tmp_path / "wheels"
    pip_wheel(DEMO, wheels, isolated_env, "target=wasm32-wasip2", f"python-prefix={prefix314}")
    wheel = wheels / "wasidemo-0.3.0-cp314-cp314-wasi_0_2_sdk_33_wasm32.whl"
    assert [p.name for p in wheels.iterdir()] == [wheel.name]
    with zipfile.ZipFile(wheel) as z:
        assert "wasidemo/_checksum.cpython-314-wasm32-wasi.so" in z.namelist()
    site = tmp_path / "site"
    install_with_tags_line(wasiwheel_cli, "3.14", "33", site, wheels, "wasidemo", target="wasm32-wasip2")
    app = """
        import json
        import wit_world
        import wasidemo
        from wasidemo.workload import results


        class WitWorld(wit_world.WitWorld):
            def run(self, arg: str) -> str:
                try:
                    wasidemo.parse_floats(arg)
                    error = None
                except ValueError as e:
                    error = str(e)
                return json.dumps({"results": results(wasidemo), "error": error, "origin": wasidemo._checksum.__file__})
    """
    wasm = componentize(tmp_path, site, app, wasiwheel_cli)
    r = call_export(wasm, "run", "1.5, 2, oops")
    assert r.code == 0, r.stderr
    got = json.loads(r.result)
    assert got["results"] == reference_results()
    assert got["error"] == "not a number: 'oops' at offset 8"
    assert got["origin"].endswith("_checksum.cpython-314-wasm32-wasi.so")


def test_abi3_extension_in_componentize_py(tmp_path, isolated_env, prefix314, wasiwheel_cli):
    wheels = tmp_path / "wheels"
    pip_wheel(SDISTS / "abi3-demo", wheels, isolated_env, "target=wasm32-wasip2", f"python-prefix={prefix314}")
    wheel = wheels / "abi3demo-1.0.0-cp39-abi3-wasi_0_2_sdk_33_wasm32.whl"
    assert [p.name for p in wheels.iterdir()] == [wheel.name]
    site = tmp_path / "site"
    install_with_tags_line(wasiwheel_cli, "3.14", "33", site, wheels, "abi3demo", target="wasm32-wasip2")
    assert (site / "abi3demo" / "_fast.abi3.so").exists()
    app = """
        import json
        import wit_world
        import abi3demo


        class WitWorld(wit_world.WitWorld):
            def run(self, arg: str) -> str:
                return json.dumps(abi3demo.check())
    """
    wasm = componentize(tmp_path, site, app, wasiwheel_cli)
    r = call_export(wasm, "run", "")
    assert r.code == 0, r.stderr
    got = json.loads(r.result)
    assert set(got) == {"dot", "djb2"}, got
    for key, (c_result, py_result) in got.items():
        assert c_result == py_result, key
