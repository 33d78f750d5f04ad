"""``python -m wasiwheel`` and the ``wasiwheel`` console script: the CLI."""

import sys

from . import _wasiwheel as _native


def main() -> int:
    """Run the wasiwheel command line with ``sys.argv``; return its exit status."""
    return _native.cli_main(["wasiwheel", *sys.argv[1:]], [sys.executable, "-m", "wasiwheel"])


if __name__ == "__main__":
    sys.exit(main())
