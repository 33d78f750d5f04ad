"""C++ exceptions and C setjmp/longjmp in extension modules (wasiwheel's sample)."""

from cxxehdemo import _jumps, _throws


def results():
    """What each throwing or jumping function gives, as JSON-ready values."""
    out = {
        "across": list(_throws.across(6)),
        "rethrow": list(_throws.rethrow()),
        "vector_at": [_throws.vector_at(1), _throws.vector_at(7)],
        "parse_long": [_throws.parse_long("123"), _throws.parse_long("abc"), _throws.parse_long("9" * 40)],
        "recover": [list(_jumps.recover("1234")), list(_jumps.recover("12x4")), list(_jumps.recover(""))],
        "nested": list(_jumps.nested()),
    }
    for kind in ("index", "value", "int", "none"):
        try:
            out[kind] = ["returned", _throws.to_python(kind)]
        except Exception as e:  # the mapped Python exception
            out[kind] = [type(e).__name__, str(e)]
    return out
