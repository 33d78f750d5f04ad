"""The function-pointer cast repair, end to end: tests/sdists/fpcast-demo
registers a METH_NOARGS method, a module function (through
``void (*)(void)``) and a getter and setter with fewer parameters than CPython
calls them with. Without the repair each such call traps under wasmtime
("indirect call type mismatch"); with it (the default) they work, and the
METH_VARARGS | METH_KEYWORDS method cast to PyCFunction keeps working."""

import pytest

from conftest import SDISTS, pip_wheel, sh

DEMO = SDISTS / "fpcast-demo"
WHEEL = "fpcastdemo-0.1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"
CALLS = {
    "bump": "c = fpcastdemo.Counter(); c.bump(); c.bump(); print(c.value_ok)",
    "getter": "c = fpcastdemo.Counter(); c.bump_ok(); print(c.value)",
    "setter": "c = fpcastdemo.Counter(); c.value = 41; c.bump_ok(); print(c.value_ok)",
    "answer": "print(fpcastdemo.answer())",
    "address-of": "c = fpcastdemo.Counter(); c.bump_ok(); print(c.twice())",
    "kwargs": "c = fpcastdemo.Counter(); print(c.add(amount=5), c.add())",
}
EXPECTED = {"bump": "2", "getter": "1", "setter": "42", "answer": "42", "address-of": "2", "kwargs": "5 6"}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, isolated_env):
    out = {}
    for label, config in [("repaired", []), ("unrepaired", ["fpcast-repair=false"])]:
        d = tmp_path_factory.mktemp(label)
        pip_wheel(DEMO, d, isolated_env, "target=wasm32-wasi", *config)
        out[label] = d / WHEEL
    return out


def call(wasiwheel_cli, wheel, what):
    code = f"import fpcastdemo; {CALLS[what]}"
    return sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-c", code], check=False)


@pytest.mark.parametrize("what", list(CALLS))
def test_repaired_calls_work(wheels, wasiwheel_cli, what):
    proc = call(wasiwheel_cli, wheels["repaired"], what)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == EXPECTED[what]


@pytest.mark.parametrize("what", ["bump", "getter", "setter", "answer", "address-of"])
def test_unrepaired_calls_trap(wheels, wasiwheel_cli, what):
    proc = call(wasiwheel_cli, wheels["unrepaired"], what)
    assert proc.returncode != 0
    assert "indirect call type mismatch" in proc.stderr or "signature mismatch" in proc.stderr, proc.stderr


def test_unrepaired_kwargs_cast_still_works(wheels, wasiwheel_cli):
    # The 3-parameter function cast to the 2-parameter PyCFunction is cast back
    # by CPython: it works with or without the repair.
    proc = call(wasiwheel_cli, wheels["unrepaired"], "kwargs")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == EXPECTED["kwargs"]


def test_repair_leaves_clean_sources_and_native_builds_alone(tmp_path, wasiwheel_cli):
    # The CLI shows the compiler's diagnostics: no cast warnings of ours leak,
    # and no wasiwheel warning appears (every cast in the sample is repairable).
    proc = sh([wasiwheel_cli, "build", DEMO, "-o", tmp_path / "w", "-C", "target=wasm32-wasi",
               "-C", f"build-dir={tmp_path / 'b'}"])
    assert "cast-function-type-strict" not in proc.stderr, proc.stderr
    assert "wasiwheel: function-pointer cast" not in proc.stderr, proc.stderr
    copies = list((tmp_path / "b").rglob("*.fpcast.c"))
    assert len(copies) == 1, copies
    text = copies[0].read_text()
    assert "__wasiwheel_fpcast_" in text and f'#line 1 "{DEMO}/csrc/casts.c"' in text
    # The kwargs function is not adapted; the direct call is not rewritten.
    assert "(PyCFunction)(void (*)(void))counter_add" in text
    assert "PyObject *r = counter_get_value(self);" in text
    # A second build reuses the repaired object.
    proc = sh([wasiwheel_cli, "build", DEMO, "-o", tmp_path / "w", "-C", "target=wasm32-wasi",
               "-C", f"build-dir={tmp_path / 'b'}"])
    # Native builds never get the repair.
    proc = sh([wasiwheel_cli, "build", DEMO, "-o", tmp_path / "n", "-C", f"build-dir={tmp_path / 'nb'}"])
    assert not list((tmp_path / "nb").rglob("*.fpcast.*"))


def test_cast_that_cannot_be_adapted_is_reported(tmp_path, wasiwheel_cli):
    proj = tmp_path / "p"
    (proj / "csrc").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n'
        '[project]\nname = "badcast"\nversion = "1.0"\n'
        '[[tool.wasiwheel.ext-modules]]\nname = "badcast"\nsources = ["csrc/badcast.c"]\n'
    )
    (proj / "csrc" / "badcast.c").write_text(
        "#include <Python.h>\n"
        "static PyObject *half(PyObject *self, double x) { return PyFloat_FromDouble(x / 2); }\n"
        "static PyMethodDef methods[] = {{\"half\", (PyCFunction)half, METH_O, NULL}, {NULL, NULL, 0, NULL}};\n"
        "static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, \"badcast\", NULL, -1, methods};\n"
        "PyMODINIT_FUNC PyInit_badcast(void) { return PyModule_Create(&def); }\n"
    )
    proc = sh([wasiwheel_cli, "build", proj, "-o", tmp_path / "w", "-C", "target=wasm32-wasi"])
    assert "csrc/badcast.c:3:42: warning: wasiwheel: function-pointer cast of `half`" in proc.stderr, proc.stderr
    assert "cannot be adapted safely" in proc.stderr and "(i32, f64) -> i32" in proc.stderr, proc.stderr


def test_bad_setting_value_is_refused(tmp_path, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "build", DEMO, "-o", tmp_path, "-C", "target=wasm32-wasi", "-C", "fpcast-repair=maybe"],
              check=False)
    assert proc.returncode == 1
    assert "config setting `fpcast-repair`" in proc.stderr and "use true or false" in proc.stderr, proc.stderr
