"""Issue 20: extensions that use wasi-libc's pthread emulation
(``-D_WASI_EMULATED_PTHREAD``) linked into CPython. libpython's ``thread.o``
(CPython's own pthread stubs) and wasi-libc's ``condvar.o`` both define
``pthread_cond_init``, ``_destroy``, ``_signal`` and ``_wait``; an extension
calling ``pthread_cond_broadcast``, which only ``condvar.o`` defines, pulled
that member in beside CPython's and wasm-ld stopped with "duplicate symbol".
``pthread_once`` does the same with ``stub-pthreads-good.o`` (``pthread_exit``).
tests/sdists/pthread-demo has one extension of each kind; with wasi-libc's
duplicates weakened (src/crossbuild/overlap.rs) both link, in ``wasiwheel
run``, ``wasiwheel test`` and a component, and every call gives its result."""

import json

import pytest

from conftest import SDISTS, component, pip_wheel, sh
from wasm_host import run_command

DEMO = SDISTS / "pthread-demo"
WHEEL = "pthreaddemo-0.1.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"

#: One thread (WASI preview 1): every call succeeds, the predicate loop never waits, an
#: unconditional wait returns at once (a spurious wakeup), as does a timed one.
CONDVAR = {
    "mutex_init": 0, "cond_init": 0, "lock": 0, "signal": 0, "broadcast": 0, "waited": 0, "wait": 0,
    "wait_once": 0, "timedwait": 0, "unlock": 0, "trylock": 0, "unlock_again": 0, "cond_destroy": 0,
    "mutex_destroy": 0,
}
#: pthread_create fails with EAGAIN (6 in wasi-libc): there is no second thread.
ONCE = {
    "once": 0, "once_again": 0, "initialised": 1, "key_create": 0, "setspecific": 0, "getspecific": 7,
    "key_delete": 0, "self_equal": 1, "rwlock_init": 0, "rdlock": 0, "rwlock_unlock": 0, "wrlock": 0,
    "rwlock_destroy": 0, "create": 6, "create_failed": True,
}
EXPECTED = {"condvar": CONDVAR, "once": ONCE, "bumps": [1, 2]}

#: What wasi-libc of WASI SDK 25 duplicates of CPython 3.13's definitions, member by member.
WEAKENED = [
    "libc.a(condvar.o): pthread_cond_destroy, pthread_cond_init, pthread_cond_signal, pthread_cond_wait",
    "libc.a(stub-pthreads-good.o): pthread_exit",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, isolated_env):
    d = tmp_path_factory.mktemp("pthread")
    pip_wheel(DEMO, d, isolated_env, "target=wasm32-wasi")
    return d / WHEEL


def test_run_links_both_extensions_and_every_call_works(wheel, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-m", "pthreaddemo.cli"],
              check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "duplicate symbol" not in proc.stderr
    assert json.loads(proc.stdout) == EXPECTED


def test_a_wait_after_a_broadcast_in_one_interpreter(wheel, wasiwheel_cli):
    """CPython's own locks (its pthread_mutex_*/pthread_cond_* stubs) beside the extension's in one run."""
    code = ("import threading, pthreaddemo._condvar as c; cv = threading.Condition(); "
            "print(c.bump(), cv.acquire(), cv.notify_all(), cv.wait(0.01), cv.release(), c.bump(), "
            "c.exercise()['broadcast'])")
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "--", "-c", code], check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.split() == ["1", "True", "None", "False", "None", "2", "0"]


def test_own_suite_in_wasiwheel_test(wheel, wasiwheel_cli):
    proc = sh([wasiwheel_cli, "test", wheel, "--tests", DEMO, "--", "-q", "tests"], check=False, timeout=3600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "wasiwheel test:" in out and "4 passed, 0 failed, 0 error" in out, out[-3000:]


def test_component_with_both_extensions(tmp_path, wasiwheel_cli):
    out = tmp_path / "pthreaddemo.wasm"
    proc = component(wasiwheel_cli, DEMO, out, "-C", "verbose=true")
    for line in WEAKENED:
        assert line in proc.stderr, proc.stderr[-4000:]
    r = run_command(out)
    assert r.code == 0, r.stderr[-4000:]
    assert json.loads(r.stdout) == EXPECTED
