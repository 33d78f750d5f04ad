"""C++ exceptions thrown and caught in an extension module (wasiwheel's sample)."""

from cxxehdemo import _throws


def results():
    """What each throwing function gives, as JSON-ready values."""
    out = {
        "across": list(_throws.across(6)),
        "rethrow": list(_throws.rethrow()),
        "vector_at": [_throws.vector_at(1), _throws.vector_at(7)],
        "parse_long": [_throws.parse_long("123"), _throws.parse_long("abc"), _throws.parse_long("9" * 40)],
    }
    for kind in ("index", "value", "int", "none"):
        try:
            out[kind] = ["returned", _throws.to_python(kind)]
        except Exception as e:  # the mapped Python exception
            out[kind] = [type(e).__name__, str(e)]
    return out
