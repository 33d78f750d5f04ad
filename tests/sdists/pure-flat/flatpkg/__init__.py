"""flatpkg: a flat-layout sample package."""

VALUE = 42
