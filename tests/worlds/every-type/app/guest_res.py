"""The app's implementation of the exported resource `counter` (componentize-py's
layout: class `Counter` in a module named after the interface)."""

from wit_world.exports import guest_res


class Counter(guest_res.Counter):
    def __init__(self, start: int) -> None:
        self.value = start

    def get(self) -> int:
        return self.value

    def add(self, n: int) -> None:
        self.value += n

    @staticmethod
    def merge(a: guest_res.Counter, b: guest_res.Counter) -> guest_res.Counter:
        assert isinstance(a, Counter) and isinstance(b, Counter)
        return Counter(a.value + b.value)
