"""Issue 20: GC slots whose C result type differs from the slot's, reached by
the final collection at interpreter exit (Py_FinalizeEx → finalize_modules →
gc_collect_main), as CPython 3.13's own ``operator.methodcaller`` (a void
``tp_clear``) did in every sqlalchemy run. tests/sdists/exittrap-demo has a
heap type with ``{Py_tp_clear, void_fn}`` (no cast to see: the result repair
of the relinked interpreter covers it) and a static type with
``(inquiry)void_fn`` and ``(destructor)int_fn`` (the source cast repair adapts
those). Without the repairs each run traps with "indirect call type mismatch"
at exit; with them it exits with status 0 and the slots ran."""

import pytest

from conftest import SDISTS, pip_wheel, sh

DEMO = SDISTS / "exittrap-demo"
WHEEL = "exittrapdemo-0.1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, isolated_env):
    out = {}
    for label, config in [("repaired", []), ("unrepaired-source", ["fpcast-repair=false"])]:
        d = tmp_path_factory.mktemp(label)
        pip_wheel(DEMO, d, isolated_env, "target=wasm32-wasi", *config)
        out[label] = d / WHEEL
    return out


def run(wasiwheel_cli, wheel, code):
    return sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-c", code], check=False)


@pytest.mark.parametrize("kind", ["Node", "Holder"])
@pytest.mark.parametrize("label", ["repaired", "unrepaired-source"])
def test_cycle_left_at_exit_is_cleared_without_trap(wheels, wasiwheel_cli, kind, label):
    # Kept by __main__ until finalization clears it: the final collection clears the node first.
    proc = run(wasiwheel_cli, wheels[label], f"import exittrapdemo; keep = exittrapdemo.cycle({kind!r}); print('bye')")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "wasm trap" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stdout.strip() == "bye"
    assert f"exittrapdemo: {kind} cleared" in proc.stderr, proc.stderr


def test_collect_during_the_run(wheels, wasiwheel_cli):
    code = ("import gc, exittrapdemo; exittrapdemo.cycle('Node'); exittrapdemo.cycle('Holder'); gc.collect(); "
            "print(exittrapdemo.cleared())")
    proc = run(wasiwheel_cli, wheels["repaired"], code)
    assert proc.returncode == 0 and proc.stdout.strip() == "2", proc.stderr[-3000:]


def test_source_repair_adapts_the_cast_slots(tmp_path, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "build", DEMO, "-o", tmp_path / "w", "-C", "target=wasm32-wasi",
               "-C", f"build-dir={tmp_path / 'b'}"])
    assert "wasiwheel: function-pointer cast" not in proc.stderr, proc.stderr
    (copy,) = (tmp_path / "b").rglob("*.fpcast.c")
    text = copy.read_text()
    assert "holder_clear((NodeObject *)a0); return (int)0;" in text, text[-2000:]
    assert "(void)holder_dealloc((NodeObject *)a0);" in text, text[-2000:]


def test_cpython_methodcaller_cycle(wasiwheel_cli):
    """CPython's own void tp_clear, with no extension: the stock interpreter gets the result repair too."""
    code = ("import gc, operator; d = {}; m = operator.methodcaller('f', d); d['m'] = m; del d, m; "
            "print(gc.collect() >= 2)")
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--", "-c", code], check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr[-3000:]
