"""The main job: a C-extension project becomes a WASI wheel with pip and with
build (each with build isolation), passes installer's RECORD validation, and
its extensions compute the pure-Python reference's results under
``wasiwheel run`` (wasmtime embedded in wasiwheel)."""

import json
import sys
import zipfile

import pytest

from conftest import DEMO, RESULTS_SNIPPET, SDISTS, pip_wheel, reference_results, sh, wheel_names
from wasm_binary import custom_section_names

WHEEL = "wasidemo-0.3.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"


@pytest.fixture(scope="module")
def pip_built(tmp_path_factory, isolated_env):
    out = tmp_path_factory.mktemp("pip-wasi")
    pip_wheel(DEMO, out, isolated_env, "target=wasm32-wasi")
    return out


@pytest.fixture(scope="module")
def build_built(tmp_path_factory, isolated_env):
    out = tmp_path_factory.mktemp("build-wasi")
    sh([sys.executable, "-m", "build", "--wheel", "-C", "target=wasm32-wasi", "--outdir", out, DEMO], env=isolated_env)
    return out


@pytest.mark.parametrize("frontend", ["pip_built", "build_built"])
def test_wheel_name_and_record(frontend, request, tmp_path):
    out = request.getfixturevalue(frontend)
    wheels = sorted(p.name for p in out.glob("*.whl"))
    assert wheels == [WHEEL]
    # installer checks every RECORD hash and size.
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "--destdir", tmp_path / "root", out / WHEEL])


def test_wheel_contents(pip_built):
    names = wheel_names(pip_built / WHEEL)
    assert "wasidemo/_checksum.cpython-313-wasm32-wasi.so" in names
    assert "wasidemo/num/_stats.cpython-313-wasm32-wasi.so" in names
    dist = "wasidemo-0.3.0.dist-info"
    assert f"{dist}/static-extensions/wasidemo._checksum.a" in names
    assert f"{dist}/static-extensions/wasidemo.num._stats.a" in names
    with zipfile.ZipFile(pip_built / WHEEL) as z:
        for so in ("wasidemo/_checksum.cpython-313-wasm32-wasi.so", "wasidemo/num/_stats.cpython-313-wasm32-wasi.so"):
            assert "dylink.0" in custom_section_names(z.read(so)), f"{so} is not a wasm dylib"
        wheel_meta = z.read(f"{dist}/WHEEL").decode()
        assert "Root-Is-Purelib: false" in wheel_meta
        assert "Tag: cp313-cp313-wasi_0_1_sdk_25_wasm32" in wheel_meta
        manifest = json.loads(z.read(f"{dist}/static-extensions/manifest.json"))
    assert manifest["target"] == "wasm32-wasip1"
    assert manifest["sdk"]["major"] == 25
    assert manifest["version"] == 2
    # Unique init symbols in the static archives (length-prefixed dotted names).
    assert {m["name"]: m["init"] for m in manifest["modules"]} == {
        "wasidemo._checksum": "PyInit_8wasidemo9_checksum",
        "wasidemo.num._stats": "PyInit_8wasidemo3num6_stats",
    }


@pytest.mark.parametrize("frontend", ["pip_built", "build_built"])
def test_runs_under_wasmtime_with_reference_results(frontend, request, wasiwheel_cli):
    out = request.getfixturevalue(frontend)
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", out / WHEEL, "--", "-c", RESULTS_SNIPPET])
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["platform"] == "wasi"
    # Statically linked into the relinked interpreter.
    assert got["origins"] == ["built-in", "built-in"]
    assert got["results"] == reference_results()


def test_console_entry_and_exit_status(pip_built, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", pip_built / WHEEL, "--", "-m", "wasidemo.cli"])
    assert "all results match the pure-Python reference" in proc.stdout
    assert "platform   wasi cpython 3.13.5" in proc.stdout
    # Exit statuses pass through.
    proc = sh(
        [
            wasiwheel_cli,
            "run",
            "--python",
            "3.13",
            "--",
            "-c",
            "import sys; print('to stderr', file=sys.stderr); sys.exit(7)",
        ],
        check=False,
    )
    assert proc.returncode == 7
    assert "to stderr" in proc.stderr


def test_exceptions_from_c_cross_the_boundary(pip_built, wasiwheel_cli):
    code = (
        "import wasidemo\ntry:\n    wasidemo.parse_floats('1, 2, x3')\n"
        "except ValueError as e:\n    print('caught', e)\n"
    )
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", pip_built / WHEEL, "--", "-c", code])
    assert "caught not a number: 'x3' at offset 6" in proc.stdout


def test_optional_module_that_fails_is_left_out(isolated_env, wasiwheel_cli, tmp_path):
    """`optional = true`: a module that does not compile for WASI (fork) is
    left out of the WASI wheel with a warning naming it and the reason; the
    other module is built, and the package runs without it. Natively both
    are built."""
    out = tmp_path / "wasi"
    # pip shows the backend's output with -v.
    proc = pip_wheel(SDISTS / "optional-ext", out, isolated_env, "target=wasm32-wasi", env={"PIP_VERBOSE": "1"})
    text = proc.stdout + proc.stderr
    assert "optional extension module `optext._forky` was not built" in text, text[-4000:]
    assert "hint: WASI has no processes" in text, text[-4000:]
    (whl,) = out.glob("*.whl")
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        modules = [n for n in names if n.endswith(".so")]
        (manifest,) = [n for n in names if n.endswith("static-extensions/manifest.json")]
        static = sorted(m["name"] for m in json.loads(z.read(manifest))["modules"])
    assert [m.split("/")[-1].split(".")[0] for m in modules] == ["_core"], names
    assert static == ["optext._core"], static
    run = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", whl, "--",
              "-c", "import optext; print(optext.answer(), optext.HAS_FORK)"])
    assert run.stdout.split() == ["42", "False"], run.stdout
    native = tmp_path / "native"
    pip_wheel(SDISTS / "optional-ext", native, isolated_env)
    (nwhl,) = native.glob("*.whl")
    with zipfile.ZipFile(nwhl) as z:
        assert sorted(n.split("/")[-1].split(".")[0] for n in z.namelist() if n.endswith(".so")) == ["_core", "_forky"]
