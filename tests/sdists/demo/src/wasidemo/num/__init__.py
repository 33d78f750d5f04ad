"""Parsing and statistics, implemented in C (``wasidemo.num._stats``)."""

from ._stats import integrate, mean_std, parse_floats

__all__ = ["integrate", "mean_std", "parse_floats"]
