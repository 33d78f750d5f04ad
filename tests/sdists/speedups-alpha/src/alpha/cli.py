"""Print what each speedups sample's extension computes (as JSON)."""
# Alike on purpose with speedups-beta and -twin: each sample's entry prints every speedups module it imports.

import importlib
import json
import sys


def main():
    out = {}
    for pkg in ("alpha", "beta"):
        try:
            m = importlib.import_module(pkg + "._speedups")
        except ImportError:
            continue
        out[pkg] = {"name": m.name(), "transform": m.transform(int(sys.argv[1]) if len(sys.argv) > 1 else 7)}
    print(json.dumps(out, sort_keys=True))
