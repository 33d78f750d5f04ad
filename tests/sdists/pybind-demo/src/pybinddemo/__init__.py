"""pybind11's exception translation, compiled for WASI by wasiwheel's tests."""

from pybinddemo._core import DemoError, at, call_back, checked_sqrt, parse, raise_demo, stack_depth

__all__ = ["DemoError", "at", "call_back", "checked_sqrt", "parse", "raise_demo", "stack_depth"]
