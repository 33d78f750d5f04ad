"""``wasidemo``: run every C function on a fixed workload, print the results
and whether they match the pure-Python reference. Exit status 0 when all
match, 1 otherwise."""

import sys

import wasidemo
from wasidemo import reference
from wasidemo.workload import results


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
