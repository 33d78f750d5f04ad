"""wasiwheel's PyO3 sample, built by maturin."""

from maturindemo._core import Counter, panic, parse, ramp, table, word_counts

__all__ = ["Counter", "panic", "parse", "ramp", "table", "word_counts"]
