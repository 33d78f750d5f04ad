"""Condition variables, mutexes and pthread_once from one thread (wasiwheel's sample)."""

from pthreaddemo import _condvar, _once


def results():
    """Each pthread call's result, from both extensions: {"condvar": {...}, "once": {...}, "bumps": [...]}."""
    return {"condvar": _condvar.exercise(), "once": _once.exercise(), "bumps": [_condvar.bump(), _condvar.bump()]}
