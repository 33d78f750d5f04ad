"""``cxxehdemo``: print each throwing function's result as sorted JSON, one line;
``cxxehdemo escape`` throws past every handler instead."""

import json
import sys

import cxxehdemo


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["escape"]:
        print("escaping", flush=True)
        cxxehdemo._throws.escape()
        return 0
    print(json.dumps(cxxehdemo.results(), sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
