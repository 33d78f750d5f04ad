"""regdep_b: a platform helper for regapp."""

NAME = "regdep-b"
