"""The alpha-twin speedups sample."""
