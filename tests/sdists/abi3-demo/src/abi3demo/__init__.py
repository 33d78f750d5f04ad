"""abi3demo: a limited-API extension and its pure-Python reference."""

from ._fast import djb2, dot


def reference_dot(a, b):
    s = 0.0
    for x, y in zip(a, b):
        s += float(x) * float(y)
    return s


def reference_djb2(data: bytes) -> int:
    h = 5381
    for c in data:
        h = ((h << 5) + h + c) & 0xFFFFFFFF
    return h


def check() -> dict:
    """Run both implementations on a fixed workload; return the results."""
    a = [((i * 7) % 101) / 3.0 for i in range(5000)]
    b = [((i * 13) % 97) / 7.0 - 5 for i in range(5000)]
    data = bytes(range(256)) * 64
    return {"dot": [dot(a, b), reference_dot(a, b)], "djb2": [djb2(data), reference_djb2(data)]}
