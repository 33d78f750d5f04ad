"""The demo's fixed workload, run against any module that has wasidemo's
functions (the C extensions or ``wasidemo.reference``). Imports nothing from
the package, so it can run against the reference alone."""


def workload():
    """A deterministic, non-trivial input: 64 KiB of bytes and 2,003 numbers."""
    data = bytes((i * 7919 + (i >> 3)) & 0xFF for i in range(65536))
    numbers = ", ".join(f"{((i * 2654435761) % 1000003) / 997.0 - 500:.6g}" for i in range(2000))
    numbers += " 1e-300 -2.5E+10 inf"
    return data, numbers


def results(mod):
    """Every function of ``mod`` on the workload, as a JSON-friendly dict."""
    data, numbers = workload()
    values = mod.parse_floats(numbers)
    finite = [v for v in values if v not in (float("inf"), float("-inf"))]
    return {
        "crc32": mod.crc32(data),
        "adler32": mod.adler32(data),
        "fnv1a64": mod.fnv1a64(data),
        "parsed": len(values),
        "sum_parsed": sum(finite),
        "mean_std": list(mod.mean_std(finite)),
        "integral": mod.integrate(0.0, 20.0, 100000),
    }
