"""The beta speedups sample."""
