"""A package with an extension module named `_json`."""
