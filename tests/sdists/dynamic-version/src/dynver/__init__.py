"""dynver: its version is declared dynamic and read from this line."""

__version__ = "4.5.6.post1"
