from ._core import item, sizes

__all__ = ["item", "sizes"]
