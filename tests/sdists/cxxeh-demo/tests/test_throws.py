"""The sample's own suite, run natively and in WASI with ``wasiwheel test``."""

import pytest

from cxxehdemo import _jumps, _throws


def test_throw_across_frames_caught_by_base_class_runs_destructors():
    assert _throws.across(6) == ("thrown at depth 6", 6, 7)
    assert _throws.across(0) == ("thrown at depth 0", 0, 1)


def test_rethrow():
    assert _throws.rethrow() == ("first", "again: first")


def test_what_libcxx_throws():
    assert _throws.vector_at(2) == 30
    assert _throws.vector_at(3) == "out_of_range"
    assert _throws.parse_long("-17") == -17
    assert _throws.parse_long("x") == "invalid_argument"
    assert _throws.parse_long("9" * 40) == "out_of_range"


@pytest.mark.parametrize("kind,exc", [("index", IndexError), ("value", ValueError), ("int", RuntimeError)])
def test_mapped_to_python_exceptions(kind, exc):
    with pytest.raises(exc):
        _throws.to_python(kind)
    assert _throws.to_python("none") == "no exception"


def test_many_throws_do_not_leak_or_slow():
    for i in range(2000):
        assert _throws.across(i % 9)[2] == i % 9 + 1


def test_longjmp_recovers_from_a_nested_call():
    assert _jumps.recover("1234") == (10, 0, 9)
    assert _jumps.recover("12x4") == (None, 3, 6)
    for i in range(500):
        assert _jumps.recover("9" * (i % 7) + "z") == (None, i % 7 + 1, 2 * (i % 7) + 2)


def test_setjmp_inside_setjmp():
    assert _jumps.nested() == (7, 1)
