"""``wasidemo``: run every C function on a fixed workload, print the results
and whether they match the pure-Python reference. Exit status 0 when all
match, 1 otherwise."""

import sys
import time

import wasidemo
from wasidemo import reference
from wasidemo.workload import results


# When this module was imported. In a wasiwheel component it is imported while
# the component is pre-initialized at build time, so this is the build's time.
IMPORTED_AT = time.time()


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--imported-at"]:
        print(IMPORTED_AT)
        return 0
    if args[:1] == ["--fail"]:
        raise RuntimeError("failure requested with --fail")
    if args[:1] == ["--exit"]:
        sys.exit(int(args[1]))
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
