"""Objects whose GC slots have another result type than the slot's."""

from ._slots import Holder, Node, cleared, cycle

__all__ = ["Holder", "Node", "cleared", "cycle"]
