"""The app of tests/worlds/every-type: every `guest` function passes the value
it got to the same function of the host's `host` interface and returns what
the host returned (so each value is lowered and lifted four times: host to
guest, guest to host, and back); `guest-res` exercises both resources."""

from __future__ import annotations

from typing import Any

import wit_world
from componentize_py_types import Err, Ok, Some
from guest_res import Counter
from wit_world.exports import guest_local
from wit_world.exports import guest_res as guest_res_types
from wit_world.imports import host, host_res
from wit_world.imports.types import Color, ManyFlags, Perms, Scalars, Shape


class Guest(wit_world.exports.Guest):
    def bools(self, x: bool) -> bool:
        assert isinstance(x, bool)
        return host.bools(x)

    def u8s(self, x: int) -> int:
        return host.u8s(x)

    def u16s(self, x: int) -> int:
        return host.u16s(x)

    def u32s(self, x: int) -> int:
        return host.u32s(x)

    def u64s(self, x: int) -> int:
        return host.u64s(x)

    def s8s(self, x: int) -> int:
        return host.s8s(x)

    def s16s(self, x: int) -> int:
        return host.s16s(x)

    def s32s(self, x: int) -> int:
        return host.s32s(x)

    def s64s(self, x: int) -> int:
        return host.s64s(x)

    def f32s(self, x: float) -> float:
        return host.f32s(x)

    def f64s(self, x: float) -> float:
        return host.f64s(x)

    def chars(self, x: str) -> str:
        return host.chars(x)

    def strings(self, x: str) -> str:
        return host.strings(x)

    def bytes(self, x: bytes) -> bytes:
        assert isinstance(x, bytes)
        return host.bytes(x)

    def string_list(self, x: Any) -> Any:
        return host.string_list(x)

    def point_list(self, x: Any) -> Any:
        return host.point_list(x)

    def nested_list(self, x: Any) -> Any:
        return host.nested_list(x)

    def option_u32(self, x: Any) -> Any:
        return host.option_u32(x)

    def option_option(self, x: Any) -> Any:
        assert x is None or isinstance(x, Some)
        return host.option_option(x)

    def option_string(self, x: Any) -> Any:
        return host.option_string(x)

    def result_plain(self, x: Any) -> Any:
        assert isinstance(x, (Ok, Err))
        return host.result_plain(x)

    def result_ok(self, x: Any) -> Any:
        return host.result_ok(x)

    def result_err(self, x: Any) -> Any:
        return host.result_err(x)

    def result_both(self, x: Any) -> Any:
        return host.result_both(x)

    def result_list(self, x: Any) -> Any:
        return host.result_list(x)

    def fallible(self, x: Any) -> str:
        # The host's Err is raised here, and raising it makes this export's Err.
        return host.fallible(x)

    def tuples(self, x: Any) -> Any:
        assert isinstance(x, tuple)
        return host.tuples(x)

    def points(self, x: Any) -> Any:
        return host.points(x)

    def scalar_record(self, x: Any) -> Any:
        assert isinstance(x, Scalars)
        return host.scalar_record(x)

    def shapes(self, x: Any) -> Any:
        return host.shapes(x)

    def shape_list(self, x: Any) -> Any:
        return host.shape_list(x)

    def option_shape(self, x: Any) -> Any:
        return host.option_shape(x)

    def colors(self, x: Any) -> Any:
        assert isinstance(x, Color)
        return host.colors(x)

    def perms_flags(self, x: Any) -> Any:
        assert isinstance(x, Perms)
        return host.perms_flags(x)

    def many(self, x: Any) -> Any:
        assert isinstance(x, ManyFlags)
        return host.many(x)

    def wide(self, *args: Any) -> Any:
        return host.wide(*args)

    def describe(self, x: Scalars, s: Shape, c: Color, p: Perms, m: ManyFlags, o: Some[int | None] | None) -> str:
        return repr((x, s, c, p, m, o))


class GuestRes(wit_world.exports.GuestRes):
    def peek(self, c: guest_res_types.Counter) -> int:
        assert isinstance(c, Counter)
        return c.get()

    def consume(self, c: guest_res_types.Counter) -> int:
        assert isinstance(c, Counter)
        return c.get()

    def blob_roundtrip(self, data: bytes, more: bytes) -> tuple[int, bytes]:
        b = host_res.Blob(data)
        b.append(more)
        n = host_res.length(b)
        assert b.data() == data + more
        return n, host_res.consume(b)

    def blob_from_host(self, data: bytes) -> bytes:
        with host_res.make(data) as b:
            assert isinstance(b, host_res.Blob)
            return b.data()

    def blob_borrowed(self, b: host_res.Blob) -> bytes:
        assert isinstance(b, host_res.Blob)
        return b.data()

    def blob_owned(self, b: host_res.Blob) -> bytes:
        with b:
            return b.data()

    def blob_give(self, data: bytes) -> host_res.Blob:
        b = host_res.Blob(data)
        b.append(b"!")
        return b

    def counters(self, cs: list[guest_res_types.Counter]) -> list[guest_res_types.Counter]:
        assert all(isinstance(c, Counter) for c in cs)
        return cs[::-1]

    def maybe_counter(self, c: guest_res_types.Counter | None) -> guest_res_types.Counter | None:
        return c


class GuestLocal(wit_world.exports.GuestLocal):
    def events(
        self, x: list[guest_local.Event], m: guest_local.Mode
    ) -> tuple[list[guest_local.Event], guest_local.Mode]:
        for e in x:
            assert isinstance(e, (guest_local.Event_Started, guest_local.Event_Stopped, guest_local.Event_Failed))
            if isinstance(e, guest_local.Event_Started):
                assert isinstance(e.value, guest_local.Stats)
        assert isinstance(m, guest_local.Mode)
        return x, m


class WitWorld(wit_world.WitWorld):
    def shout(self, msg: str) -> str:
        n = wit_world.log(msg)
        return f"{msg.upper()} ({n})"
