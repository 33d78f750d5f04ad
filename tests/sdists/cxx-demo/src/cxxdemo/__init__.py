"""cxxdemo: C++ word statistics and their pure-Python reference."""

import re
from collections import Counter

from ._algo import top_words, word_length_median

TEXT = " ".join(
    f"alpha{i % 17} beta{i % 5} Gamma-{i % 11}, delta{(i * 7) % 23}; the quick brown fox {i % 3}"
    for i in range(2000)
)


def _words(text):
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)]


def reference_top_words(text, k):
    items = sorted(Counter(_words(text)).items(), key=lambda kv: (-kv[1], kv[0]))
    return items[:k]


def reference_word_length_median(text):
    lengths = sorted(len(w) for w in _words(text))
    n = len(lengths)
    if not n:
        return 0.0
    return float(lengths[n // 2]) if n % 2 else (lengths[n // 2 - 1] + lengths[n // 2]) / 2.0


def check() -> dict:
    """Run both implementations on a fixed text; return the results."""
    return {
        "top_words": [[list(t) for t in top_words(TEXT, 12)], [list(t) for t in reference_top_words(TEXT, 12)]],
        "median": [word_length_median(TEXT), reference_word_length_median(TEXT)],
    }
