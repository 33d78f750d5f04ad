"""Time `wasiwheel index` on 1,000 synthetic wheels (500 projects x 2
versions), the incremental update after adding one wheel, and a rerun with
nothing changed. Prints seconds; asserts only what the index reports.

    python tests/bench/registry_index.py [WASIWHEEL]
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from test_registry import make_wheel  # noqa: E402


def timed(args):
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=True)
    return time.perf_counter() - t, proc.stderr.strip()


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else "wasiwheel"
    with tempfile.TemporaryDirectory() as d:
        wh, site = Path(d) / "wh", Path(d) / "site"
        wh.mkdir()
        for i in range(500):
            for v in ("1.0", "1.1"):
                make_wheel(wh, f"synthetic-{i:03d}", v, requires_python=">=3.9")
        full, out = timed([cli, "index", wh, "-o", site])
        print(f"index of 1000 wheels: {full:.2f} s  ({out})")
        make_wheel(wh, "synthetic-042", "2.0", requires_python=">=3.9")
        inc, out = timed([cli, "index", wh, "-o", site])
        assert "read 1 new or changed" in out and "wrote 1 project page(s) in" in out, out
        print(f"after adding one wheel: {inc:.3f} s  ({out})")
        noop, out = timed([cli, "index", wh, "-o", site])
        print(f"rerun, nothing changed: {noop:.3f} s  ({out})")


if __name__ == "__main__":
    main()
