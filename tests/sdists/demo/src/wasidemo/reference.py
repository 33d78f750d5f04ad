"""Pure-Python references for every function of wasidemo's C extensions.

The same algorithms in the same order of floating-point operations, so the C
results must be equal (checksums) or bit-identical (IEEE 754 doubles)."""

import math
import re


def crc32(data: bytes, start: int = 0) -> int:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else c >> 1
        table.append(c)
    c = start ^ 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def adler32(data: bytes) -> int:
    a, b = 1, 0
    for x in data:
        a = (a + x) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for x in data:
        h ^= x
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def parse_floats(text: str) -> list:
    out = []
    for m in re.finditer(r"[^\s,]+", text):
        try:
            out.append(float(m.group()))
        except ValueError:
            raise ValueError(f"not a number: '{m.group()}' at offset {m.start()}") from None
    return out


def mean_std(values) -> tuple:
    values = list(values)
    if len(values) < 2:
        raise ValueError("mean_std() needs at least two values")
    mean = m2 = 0.0
    for i, x in enumerate(values):
        delta = x - mean
        mean += delta / float(i + 1)
        m2 += delta * (x - mean)
    return mean, math.sqrt(m2 / float(len(values) - 1))


def integrate(a: float, b: float, n: int) -> float:
    if n < 1:
        raise ValueError("integrate() needs n >= 1")
    h = (b - a) / float(n)
    s = 0.5 * (math.sin(a) * math.exp(-a / 4.0) + math.sin(b) * math.exp(-b / 4.0))
    for i in range(1, n):
        x = a + float(i) * h
        s += math.sin(x) * math.exp(-x / 4.0)
    return s * h
