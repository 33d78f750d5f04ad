"""``python -m wasiwheel`` and the ``wasiwheel`` console script: the CLI."""

import signal
import sys

from . import _wasiwheel as _native


def main() -> int:
    """Run the wasiwheel command line with ``sys.argv``; return its exit status.

    Ctrl-C gets its default meaning back first, so that the command behaves as
    the standalone binary does: Python's handler would only set a flag that is
    not looked at while the native code runs (a long `run` or `build` would
    ignore Ctrl-C), and would raise KeyboardInterrupt, with a traceback, after
    `wasiwheel serve` had handled the signal and stopped cleanly.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return _native.cli_main(["wasiwheel", *sys.argv[1:]], [sys.executable, "-m", "wasiwheel"])


if __name__ == "__main__":
    sys.exit(main())
