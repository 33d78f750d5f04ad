"""wasidemo: checksums, parsing and floating point in C (wasiwheel's demo)."""

from ._checksum import adler32, crc32, fnv1a64
from .num import integrate, mean_std, parse_floats

__all__ = ["adler32", "crc32", "fnv1a64", "integrate", "mean_std", "parse_floats"]
