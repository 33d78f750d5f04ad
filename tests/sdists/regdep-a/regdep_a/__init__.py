"""regdep_a: a platform helper for regapp."""

NAME = "regdep-a"
