"""wasiwheel test's stand-in for ``mmap``, which CPython for WASI lacks (WASI
has no file mappings): test modules that import it at the top can be
collected, and mapping anything raises ``OSError(ENOSYS)``."""

import errno

ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY = 0, 1, 2, 3
PAGESIZE = ALLOCATIONGRANULARITY = 65536
error = OSError


class mmap:  # noqa: N801 (the name of the real class)
    """Every mapping fails: WASI has no mmap."""

    def __init__(self, *args, **kwargs):
        raise OSError(errno.ENOSYS, "WASI has no mmap (wasiwheel test's stand-in mmap module)")
