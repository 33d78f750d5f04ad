"""Calls through function pointers whose C types do not match the callee."""

from ._casts import Counter, answer, answer_ok

__all__ = ["Counter", "answer", "answer_ok"]
