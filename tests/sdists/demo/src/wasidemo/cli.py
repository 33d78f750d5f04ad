"""``wasidemo``: run every C function on a fixed workload, print the results
and whether they match the pure-Python reference. Exit status 0 when all
match, 1 otherwise."""

import sys

import wasidemo
from wasidemo import reference


def workload():
    """A deterministic, non-trivial input: ~64 KiB of bytes and 2,000 numbers."""
    data = bytes((i * 7919 + (i >> 3)) & 0xFF for i in range(65536))
    numbers = ", ".join(f"{((i * 2654435761) % 1000003) / 997.0 - 500:.6g}" for i in range(2000))
    numbers += " 1e-300 -2.5E+10 inf"
    return data, numbers


def results(mod):
    data, numbers = workload()
    values = mod.parse_floats(numbers)
    finite = [v for v in values if v not in (float("inf"), float("-inf"))]
    return {
        "crc32": mod.crc32(data),
        "adler32": mod.adler32(data),
        "fnv1a64": mod.fnv1a64(data),
        "parsed": len(values),
        "sum_parsed": sum(finite),
        "mean_std": mod.mean_std(finite),
        "integral": mod.integrate(0.0, 20.0, 100000),
    }


def main(argv=None) -> int:
    got = results(wasidemo)
    want = results(reference)
    ok = True
    for key in got:
        same = got[key] == want[key]
        ok &= same
        print(f"{key:10} {got[key]!r:48} {'ok' if same else 'MISMATCH: ' + repr(want[key])}")
    print(f"platform   {sys.platform} {sys.implementation.name} {sys.version.split()[0]}")
    print("all results match the pure-Python reference" if ok else "RESULTS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
