"""Every WIT type through a component of a world implemented in Python
(tests/worlds/every-type), with random values from hypothesis.

The host is the wasmtime PyPI package: it calls the app's exported `guest`
functions, each of which hands its argument to the same function of the
host's `host` interface and returns what the host returned. So every value is
lowered by wasmtime and lifted by the app's runtime (export parameters),
lowered by the app and lifted by wasmtime (import parameters), and the same
back for the results: both directions of the Canonical ABI in the guest, flat
and through memory (records wider than 16 flat values, return areas). The
host checks what its import received and what the export returned, exactly
(floats bit for bit, NaN as NaN). `guest-res` exercises a resource the app
exports and one the host provides, with own and borrow handles each way.

The strategies are derived from the component's own function types (wasmtime's
`ValType`s) in wasmtime-py's representation of values: `Record` objects,
`Variant(tag, payload)` where the cases' Python types overlap (else the bare
payload), enum names as strings, flags as sets of names.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import pytest
from conftest import ROOT, sh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime import component as wc

WORLD = ROOT / "tests" / "worlds" / "every-type"
PKG = "wasiwheel:every-type"
#: Examples per test (WORLD_TYPES_EXAMPLES=400 to hunt further).
EXAMPLES = settings(
    max_examples=int(os.environ.get("WORLD_TYPES_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: The `host` (and `guest`) functions that take and return one value.
ECHOES = [
    "bools", "u8s", "u16s", "u32s", "u64s", "s8s", "s16s", "s32s", "s64s", "f32s", "f64s", "chars", "strings",
    "bytes", "string-list", "point-list", "nested-list", "option-u32", "option-option", "option-string",
    "result-plain", "result-ok", "result-err", "result-both", "result-list", "fallible", "tuples", "points",
    "scalar-record", "shapes", "shape-list", "option-shape", "colors", "perms-flags", "many",
]  # fmt: skip

BLOB = 1  # the host's resource type id of `blob`


class Host:
    """The component, linked against the host's `host` and `host-res`; a
    fresh instance after a trap (a trapped instance cannot be entered again)."""

    def __init__(self, wasm: Path):
        self.engine = Engine()
        self.component = wc.Component.from_file(self.engine, str(wasm))
        self.seen: list = []  # what the host's functions received, in order
        self.blobs: dict[int, bytearray] = {}
        self.dropped: list[int] = []
        self.next_rep = 1
        self.linker = wc.Linker(self.engine)
        self.linker.add_wasip2()
        root = self.linker.root()
        with root.add_instance(f"{PKG}/host") as h:
            for name in ECHOES:
                h.add_func(name, self.echo)
            h.add_func("wide", lambda store, *args: self.echo(store, tuple(args)))
        with root.add_instance(f"{PKG}/host-res") as r:
            r.add_resource("blob", wc.ResourceType.host(BLOB), self.blob_dtor)
            r.add_func("[constructor]blob", self.blob_new)
            r.add_func("[method]blob.data", lambda store, b: bytes(self.blobs[self.rep(store, b)]))
            r.add_func("[method]blob.append", self.blob_append)
            r.add_func("length", lambda store, b: len(self.blobs[self.rep(store, b)]))
            r.add_func("consume", lambda store, b: bytes(self.blobs.pop(self.rep(store, b))))
            r.add_func("make", self.blob_new)
        root.add_func("log", self.log)
        del root
        self.store = self.instance = None

    def echo(self, store, x):
        self.seen.append(x)
        return x

    def log(self, store, msg):
        self.seen.append(msg)
        return len(msg)

    def blob_new(self, store, data):
        rep = self.next_rep
        self.next_rep += 1
        self.blobs[rep] = bytearray(data)
        return wc.ResourceHost.own(rep, BLOB)

    def blob_append(self, store, b, more):
        self.blobs[self.rep(store, b)] += more

    def blob_dtor(self, store, rep):
        self.dropped.append(rep)
        self.blobs.pop(rep)

    @staticmethod
    def rep(store, handle) -> int:
        h = handle.to_host(store)
        assert h.type == BLOB
        return h.rep

    def func(self, iface: str | None, name: str) -> wc.Func:
        if self.instance is None:
            self.store = Store(self.engine)
            wasi = WasiConfig()
            wasi.inherit_stdout()
            wasi.inherit_stderr()
            self.store.set_wasi(wasi)
            self.instance = self.linker.instantiate(self.store, self.component)
        idx = None if iface is None else self.instance.get_export_index(self.store, f"{PKG}/{iface}")
        f = self.instance.get_func(self.store, self.instance.get_export_index(self.store, name, idx))
        assert f is not None, name
        return f

    def call(self, iface: str | None, name: str, *args):
        f = self.func(iface, name)
        self.seen.clear()
        try:
            return f(self.store, *args)
        except Exception:
            self.instance = None
            raise


@pytest.fixture(scope="module")
def host(tmp_path_factory, wasiwheel_cli):
    out = tmp_path_factory.mktemp("every-type") / "every-type.wasm"
    sh([
        wasiwheel_cli, "component", WORLD / "app", "--wit", WORLD / "every-type.wit", "--world", "every-type",
        "--app", "app", "-o", out,
    ])  # fmt: skip
    return Host(out)


# --- values ------------------------------------------------------------------

CHARS = st.characters(blacklist_categories=("Cs",))  # scalar values: no surrogates


def strategy(ty: wc.ValType) -> st.SearchStrategy:
    """Values of the WIT type `ty` as wasmtime-py represents them."""
    ints = {wc.U8: 8, wc.U16: 16, wc.U32: 32, wc.U64: 64}
    for cls, bits in ints.items():
        if isinstance(ty, cls):
            return st.integers(0, 2**bits - 1)
    for cls, bits in {wc.S8: 8, wc.S16: 16, wc.S32: 32, wc.S64: 64}.items():
        if isinstance(ty, cls):
            return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if isinstance(ty, wc.Bool):
        return st.booleans()
    if isinstance(ty, wc.F32):
        return st.floats(width=32)
    if isinstance(ty, wc.F64):
        return st.floats()
    if isinstance(ty, wc.Char):
        return CHARS
    if isinstance(ty, wc.String):
        return st.text(CHARS, max_size=12)
    if isinstance(ty, wc.ListType):
        if ty._is_bytes():
            return st.binary(max_size=40)
        return st.lists(strategy(ty.element), max_size=4)
    if isinstance(ty, wc.RecordType):
        fields = ty.fields
        return st.tuples(*(strategy(t) for _, t in fields)).map(lambda vs: record(zip([n for n, _ in fields], vs)))
    if isinstance(ty, wc.TupleType):
        return st.tuples(*(strategy(t) for t in ty.elements))
    if isinstance(ty, wc.EnumType):
        return st.sampled_from(ty.names)
    if isinstance(ty, wc.FlagsType):
        return st.sets(st.sampled_from(ty.names))
    if isinstance(ty, (wc.VariantType, wc.OptionType, wc.ResultType)):
        tagged = ty._tagged()
        cases = []
        for name, t in ty._cases():
            payload = st.none() if t is None else strategy(t)
            cases.append(payload.map(lambda p, name=name: wc.Variant(name, p)) if tagged else payload)
        return st.one_of(cases)
    raise TypeError(f"no strategy for {ty!r}")


def record(items) -> wc.Record:
    r = wc.Record()
    for k, v in items:
        setattr(r, k, v)
    return r


def norm(v):
    """`v` for exact comparison: floats by their bits (any NaN as one value)."""
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else struct.pack("<d", v)
    if isinstance(v, wc.Record):
        return ("record", tuple(sorted((k, norm(x)) for k, x in vars(v).items())))
    if isinstance(v, wc.Variant):
        return ("variant", v.tag, norm(v.payload))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(norm(x) for x in v))
    if isinstance(v, set):
        return frozenset(v)
    return (type(v).__name__, v)


def params(host: Host, iface: str, name: str):
    f = host.func(iface, name)
    return [t for _, t in f.type(host.store).params]


# --- tests -------------------------------------------------------------------


@pytest.mark.parametrize("name", ECHOES)
@EXAMPLES
@given(data=st.data())
def test_value_through_export_and_import(host, name, data):
    (ty,) = params(host, "guest", name)
    x = data.draw(strategy(ty), label=name)
    got = host.call("guest", name, x)
    assert len(host.seen) == 1, "the app called the host's import once"
    assert norm(host.seen[0]) == norm(x), "the host's import received the value"
    assert norm(got) == norm(x), "the export returned what the import returned"


@EXAMPLES
@given(data=st.data())
def test_wide_function_passes_parameters_in_memory(host, data):
    """16 parameters of 18 flat values (more than 16: through memory, both
    ways) and a 16-tuple result (a return area)."""
    xs = [data.draw(strategy(t)) for t in params(host, "guest", "wide")]
    got = host.call("guest", "wide", *xs)
    assert norm(host.seen[0]) == norm(tuple(xs))
    assert norm(got) == norm(tuple(xs))


@EXAMPLES
@given(data=st.data())
def test_types_of_an_exported_interface(host, data):
    """A record, variant and flags defined in the exported interface itself."""
    xs = [data.draw(strategy(t)) for t in params(host, "guest-local", "events")]
    assert norm(host.call("guest-local", "events", *xs)) == norm(tuple(xs))


@settings(max_examples=15, deadline=None)
@given(msg=st.text(CHARS, max_size=20))
def test_world_level_functions(host, msg):
    """`shout`, exported by the app's `WitWorld`, calls the world-level import `log`."""
    assert host.call(None, "shout", msg) == f"{msg.upper()} ({len(msg)})"
    assert host.seen == [msg]


def test_large_values(host):
    """Values larger than the small random ones, so that the app's allocations
    grow linear memory while it lifts and lowers (the runtime must see the
    grown memory). (Megabytes would exceed wasmtime's copying limit for host
    calls, not the app's.)"""
    big = bytes(range(256)) * 800
    assert host.call("guest", "bytes", big) == big
    strings = [f"s{i}é" * (i % 7) for i in range(3000)]
    assert host.call("guest", "string-list", strings) == strings
    shapes = [wc.Variant("named", "x" * i) for i in range(1000)]
    assert norm(host.call("guest", "shape-list", shapes)) == norm(shapes)


def test_python_view_of_the_values(host):
    """The app sees componentize-py's types: dataclasses, a variant case's
    class, Enum, Flag, Some for the outer option of option<option<T>>."""
    point = record([("x", -3), ("y", 0.5), ("label", "p")])
    scalars = record([
        ("a-bool", True), ("a-u8", 255), ("a-u16", 65535), ("a-u32", 2**32 - 1), ("a-u64", 2**64 - 1),
        ("a-s8", -128), ("a-s16", -32768), ("a-s32", -(2**31)), ("a-s64", -(2**63)), ("a-f32", 1.5),
        ("a-f64", -0.0), ("a-char", "é"), ("a-string", "ß∂"), ("a-bytes", b"\x00\xff"), ("a-strings", ["a", ""]),
        ("a-points", [point]), ("a-tuple", (7, "t", 2.0)),
    ])  # fmt: skip
    shape = wc.Variant("pair", (0.25, 2**64 - 1))
    all_flags = {f"m{i}" for i in range(32)}
    some_none = wc.Variant("some", None)
    got = host.call("guest", "describe", scalars, shape, "hot-pink", {"read", "exec"}, all_flags, some_none)
    flags = "|".join(f"M{i}" for i in range(32))
    assert got == (
        "(Scalars(a_bool=True, a_u8=255, a_u16=65535, a_u32=4294967295, a_u64=18446744073709551615, a_s8=-128, "
        "a_s16=-32768, a_s32=-2147483648, a_s64=-9223372036854775808, a_f32=1.5, a_f64=-0.0, a_char='é', "
        "a_string='ß∂', a_bytes=b'\\x00\\xff', a_strings=['a', ''], a_points=[Point(x=-3, y=0.5, label='p')], "
        "a_tuple=(7, 't', 2.0)), Shape_Pair(value=(0.25, 18446744073709551615)), <Color.HOT_PINK: 3>, "
        f"<Perms.READ|EXEC: 5>, <ManyFlags.{flags}: 4294967295>, Some(value=None))"
    )


@settings(max_examples=15, deadline=None)
@given(a=st.integers(-(2**40), 2**40), b=st.integers(-(2**40), 2**40), n=st.integers(-(2**40), 2**40))
def test_resource_the_app_exports(host, a, b, n):
    """`counter`, implemented in Python: the constructor, a method through a
    borrow, a static taking a borrow and an own, and functions taking a borrow
    (the host keeps the handle) and an own (the host gives it up)."""
    ca = host.call("guest-res", "[constructor]counter", a)
    cb = host.call("guest-res", "[constructor]counter", b)
    host.call("guest-res", "[method]counter.add", ca, n)
    assert host.call("guest-res", "[method]counter.get", ca) == a + n
    assert host.call("guest-res", "peek", ca) == a + n
    merged = host.call("guest-res", "[static]counter.merge", ca, cb)
    assert host.call("guest-res", "[method]counter.get", merged) == a + n + b
    assert host.call("guest-res", "consume", merged) == a + n + b
    assert host.call("guest-res", "peek", ca) == a + n
    ca.drop(host.store)  # the app's destructor runs


@settings(max_examples=15, deadline=None)
@given(data=st.binary(max_size=64), more=st.binary(max_size=64))
def test_resource_the_host_provides(host, data, more):
    """`blob`, implemented by the host: the app constructs one, calls a
    method, passes it as a borrow and then as an own (the host takes it: no
    destructor runs); and takes an own blob the host made, dropping it when
    done (the host's destructor runs)."""
    host.dropped.clear()
    assert host.call("guest-res", "blob-roundtrip", data, more) == (len(data) + len(more), data + more)
    assert host.dropped == []
    assert host.call("guest-res", "blob-from-host", data) == data
    assert len(host.dropped) == 1 and host.blobs == {}


@settings(max_examples=15, deadline=None)
@given(data=st.binary(max_size=64))
def test_host_resource_passed_to_the_app(host, data):
    """A blob the host made, passed to the app as a borrow (the host still
    has it) and as an own (the app drops it: the host's destructor runs); a
    blob the app made, given to the host as the export's result."""
    host.dropped.clear()
    b = host.blob_new(host.store, data)
    borrowed = host.call("guest-res", "blob-borrowed", b)
    assert borrowed == data and host.dropped == []
    assert host.call("guest-res", "blob-owned", b) == data
    assert host.dropped == [b.rep] and host.blobs == {}
    given = host.call("guest-res", "blob-give", data)
    assert list(host.blobs.values()) == [bytearray(data + b"!")]
    (rep,) = host.blobs
    given.drop(host.store)  # (to_host would take it out of the store's table)
    assert host.dropped == [b.rep, rep] and host.blobs == {}


@settings(max_examples=10, deadline=None)
@given(starts=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6), some=st.booleans())
def test_resource_handles_in_lists_and_options(host, starts, some):
    """Own handles stored in memory (a list, given back reversed) and flat in an option."""
    cs = [host.call("guest-res", "[constructor]counter", s) for s in starts]
    back = host.call("guest-res", "counters", cs)
    assert [host.call("guest-res", "[method]counter.get", c) for c in back] == starts[::-1]
    c = host.call("guest-res", "[constructor]counter", 7) if some else None
    got = host.call("guest-res", "maybe-counter", c)
    assert (got is None) == (not some)
    if some:
        assert host.call("guest-res", "[method]counter.get", got) == 7
        got.drop(host.store)
    for c in back:
        c.drop(host.store)


def test_a_trap_is_reported_and_the_next_instance_works(host):
    """A borrow of a counter the host already gave away traps in wasmtime,
    not in the app; a fresh instance works."""
    c = host.call("guest-res", "[constructor]counter", 1)
    assert host.call("guest-res", "consume", c) == 1
    with pytest.raises((WasmtimeError, ValueError, TypeError, RuntimeError)):
        host.call("guest-res", "peek", c)
    assert host.call("guest", "strings", "again") == "again"
