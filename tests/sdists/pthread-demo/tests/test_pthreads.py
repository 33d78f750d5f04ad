"""The sample's own suite, run in WASI with ``wasiwheel test``."""

import errno
import sys

import pytest

import pthreaddemo


def test_condition_variable_from_one_thread():
    r = pthreaddemo._condvar.exercise()
    assert r.pop("waited") == 0
    assert r == dict.fromkeys(r, 0)


def test_broadcast_under_a_mutex_counts():
    first = pthreaddemo._condvar.bump()
    assert pthreaddemo._condvar.bump() == first + 1


def test_once_keys_and_rwlock():
    r = pthreaddemo._once.exercise()
    assert (r["once"], r["once_again"], r["initialised"]) == (0, 0, 1)
    assert (r["key_create"], r["setspecific"], r["getspecific"], r["key_delete"]) == (0, 0, 7, 0)
    assert r["self_equal"] == 1
    assert (r["rwlock_init"], r["rdlock"], r["rwlock_unlock"], r["wrlock"], r["rwlock_destroy"]) == (0, 0, 0, 0, 0)


@pytest.mark.skipif(sys.platform != "wasi", reason="WASI preview 1 has one thread")
def test_no_second_thread():
    r = pthreaddemo._once.exercise()
    assert r["create_failed"] and r["create"] in (errno.EAGAIN, errno.ENOSYS, errno.EPERM), r
