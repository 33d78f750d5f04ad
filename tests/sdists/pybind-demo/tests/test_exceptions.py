"""The sample's own suite, run natively and in WASI with ``wasiwheel test``:
what pybind11 makes of the C++ exceptions it sees."""

import pytest

import pybinddemo


def test_std_out_of_range_is_index_error():
    assert pybinddemo.at([10, 20, 30], 2) == 30
    with pytest.raises(IndexError):
        pybinddemo.at([10, 20, 30], 3)
    assert pybinddemo.stack_depth() == 0


def test_std_invalid_argument_is_value_error():
    assert pybinddemo.parse("-17") == -17
    with pytest.raises(ValueError, match="stol"):
        pybinddemo.parse("x")
    with pytest.raises(IndexError, match="stol"):
        pybinddemo.parse("9" * 40)


@pytest.mark.parametrize("depth", [0, 1, 7])
def test_registered_exception_across_frames(depth):
    with pytest.raises(pybinddemo.DemoError, match=f"deep {depth}") as info:
        pybinddemo.raise_demo(depth, f"deep {depth}")
    assert isinstance(info.value, RuntimeError)
    assert pybinddemo.DemoError.__module__ == "pybinddemo._core"
    assert pybinddemo.stack_depth() == 0


def test_translator_of_our_own():
    assert pybinddemo.checked_sqrt(16.0) == 4.0
    with pytest.raises(ArithmeticError, match="negative") as info:
        pybinddemo.checked_sqrt(-1.0)
    assert type(info.value) is ArithmeticError


def test_python_exception_crosses_cxx_frames_as_itself():
    assert pybinddemo.call_back(lambda i: i * i, 4, 5) == 14

    class Stop(Exception):
        pass

    def fn(i):
        if i == 2:
            raise Stop("from python")
        return i

    with pytest.raises(Stop, match="from python"):
        pybinddemo.call_back(fn, 5, 5)
    assert pybinddemo.stack_depth() == 0


def test_many_translations_do_not_leak():
    for i in range(1000):
        with pytest.raises(pybinddemo.DemoError):
            pybinddemo.raise_demo(i % 5, "again")
    assert pybinddemo.stack_depth() == 0
