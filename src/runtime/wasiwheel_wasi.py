"""wasiwheel's pytest plugin for running test suites inside WASI CPython.

Loaded by ``wasiwheel test`` with ``-p wasiwheel_wasi``. WASI has no users:
CPython for WASI has no ``os.getuid``, which pytest's ``tmp_path`` calls to
check who owns its base directory; the plugin provides one that answers 0,
the owner WASI reports for every file. At the end it prints one line of
counts for ``wasiwheel test``'s callers.
"""

import os

if not hasattr(os, "getuid"):

    def _getuid() -> int:
        """WASI has no users: every file is owned by 0."""
        return 0

    os.getuid = _getuid


def pytest_terminal_summary(terminalreporter):
    """Print ``wasiwheel test: N passed, …`` with every outcome's count."""
    stats = terminalreporter.stats
    kinds = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")
    counts = ", ".join(f"{len([r for r in stats.get(k, []) if r is not None])} {k}" for k in kinds)
    terminalreporter.write_line(f"wasiwheel test: {counts}")
