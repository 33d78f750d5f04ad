"""The world's exports, implemented as componentize-py apps implement them."""

from typing import List

from componentize_py_types import Err
import wit_world
from wit_world import exports
from wit_world.exports import stats
from wit_world.imports import shout

from greeter import _fast


class WitWorld(wit_world.WitWorld):
    def greet(self, name: str) -> str:
        if not name:
            raise Err("an empty name")
        return f"Hello, {shout.shout(name)}!"


class Stats(exports.Stats):
    def summarize(self, values: List[int]) -> stats.Summary:
        total = _fast.total(values)
        return stats.Summary(count=len(values), total=total, mean=total / len(values) if values else None)
