"""mesondemo: a C extension built with meson-python."""

from ._fast import add, answer

__all__ = ["add", "answer"]
