"""cmakedemo: a C extension built with scikit-build-core."""

from ._fast import add, answer

__all__ = ["add", "answer"]
