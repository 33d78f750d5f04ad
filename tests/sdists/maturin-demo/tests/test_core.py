"""The sample's own suite, run natively and in WASI with ``wasiwheel test``."""

import pytest

import maturindemo


def test_errors_become_python_exceptions():
    assert maturindemo.parse(" -42 ") == -42
    with pytest.raises(ValueError, match=r'not an integer: "x4" \(invalid digit'):
        maturindemo.parse("x4")


def test_bytes():
    b = maturindemo.ramp(250, 10)
    assert isinstance(b, bytes) and list(b) == [250, 251, 252, 253, 254, 255, 0, 1, 2, 3]
    assert maturindemo.ramp(0, 0) == b""


def test_dicts():
    assert maturindemo.word_counts("b a b c a b") == {"b": 3, "a": 2, "c": 1}
    assert list(maturindemo.word_counts("b a b c a b")) == ["b", "a", "c"]


def test_formatting_matches_python():
    d = {"pi": 3.14159, "e": 2.71828, "big": 12345.6789}
    assert maturindemo.table(d) == [f"{k}={v:>8.3f}" for k, v in sorted(d.items())]


def test_class_with_state():
    c = maturindemo.Counter("words")
    assert c.add("x") == 1 and c.add("x", 4) == 5 and c.add("y") == 1
    assert c.get("x") == 5 and len(c) == 2 and c.name == "words"
    assert repr(c) == 'Counter("words", 2 keys)'
    with pytest.raises(KeyError):
        c.get("z")
