"""optext: `_core` always, `_forky` where the platform has processes."""

from ._core import answer

try:
    from ._forky import spawn
except ImportError:
    spawn = None

HAS_FORK = spawn is not None
