"""The Python half of a wasiwheel component's canonical-ABI glue (module
``_wasiwheel_wit``): lifting component values into Python objects and
lowering them back, by the layout tables wasiwheel generated for the world
(``wit_world._abi``, computed with wit-parser), following the Canonical ABI
(component-model ``CanonicalABI.md``: "Flattening", "Loading", "Storing").

The C half (built into the interpreter as ``_wasiwheel_abi``) calls
:func:`call_export` for every exported function and provides the raw calls of
imports, linear memory and the allocator. Generated bindings call
:func:`call_import`.

Type table rows (``TYPES[i]``): ``(kind, size, align, flat, ...)`` where
``flat`` has one letter per core value (``i`` i32, ``I`` i64, ``f`` f32,
``F`` f64) and the rest depends on ``kind``.
"""

from __future__ import annotations

import importlib
import struct
from typing import Any, Callable

import _wasiwheel_abi as _abi
from componentize_py_types import Err, Ok, Some

TYPES: list[tuple[Any, ...]] = []
RESOURCES: list[tuple[Any, ...]] = []
IMPORTS: list[Any] = []
EXPORTS: list[Any] = []
OBJECTS: list[tuple[str, str, list[str]]] = []

_objects: list[Any] = []
_classes: dict[tuple[str, str], Any] = {}
_reps: dict[int, Any] = {}
_next_rep = [1]
_pending: dict[int, list[int]] = {}
_mem: list[memoryview] = []
_drops: dict[tuple[str, str], int] = {}


class WorldError(Exception):
    """The app does not implement the world (raised while the component is built)."""


def _memory() -> memoryview:
    m = _abi.memory()
    if _mem:
        _mem[0] = m
    else:
        _mem.append(m)
    return m


def _class(ref: Any) -> Any:
    cls = _classes.get(tuple(ref))
    if cls is None:
        module, name = ref
        cls = getattr(importlib.import_module(module), name)
        _classes[tuple(ref)] = cls
    return cls


def _load_tables() -> None:
    from wit_world import _abi as tables

    TYPES[:] = tables.TYPES
    RESOURCES[:] = tables.RESOURCES
    IMPORTS[:] = tables.IMPORTS
    EXPORTS[:] = tables.EXPORTS
    OBJECTS[:] = tables.OBJECTS


def _init(app_name: str) -> None:
    """Import the app and instantiate the classes that implement the world's
    exports (run once, while the component is pre-initialized).

    Raises :class:`WorldError` naming the app module, the class and the
    exports when the app does not implement the world."""
    _load_tables()
    app = importlib.import_module(app_name)
    where = getattr(app, "__file__", None) or app_name
    for cls_name, implements, methods in OBJECTS:
        cls = getattr(app, cls_name, None)
        if not isinstance(cls, type):
            hint = ""
            try:
                import wit_world

                base = getattr(wit_world, "WitWorld") if cls_name == "WitWorld" else None
                if base is None:
                    import wit_world.exports as exports

                    base = getattr(exports, cls_name, None)
                found = [n for n, v in vars(app).items() if isinstance(v, type) and base in v.__mro__ and v is not base]
                if found:
                    hint = f"; it defines {', '.join(found)}: the class must be named `{cls_name}`"
            except ImportError:
                pass
            raise WorldError(
                f"the app module `{app_name}` ({where}) defines no class `{cls_name}`, which must implement "
                f"{implements} ({', '.join(methods) or 'no functions'}){hint}"
            )
        missing = [
            m for m in methods if not callable(getattr(cls, m, None)) or getattr(getattr(cls, m), "__isabstractmethod__", False)
        ]
        if missing:
            raise WorldError(
                f"`{app_name}.{cls_name}` ({where}) does not implement {', '.join('`' + m + '`' for m in missing)}, "
                f"exported by {implements}"
            )
        _objects.append(cls())
    for exported, ref, *_ in RESOURCES:
        if exported:
            module, name = ref
            try:
                cls = _class(ref)
            except (ImportError, AttributeError):
                raise WorldError(
                    f"no class `{name}` in a module `{module}`: the world exports resource `{name}` of interface "
                    f"`{module}`, which the app implements as class `{name}` in module `{module}`"
                ) from None
    # Imported resources' drops, by class name: looked up when an object is
    # dropped, so that no binding module is imported only for this.
    for exported, ref, drop, *_ in RESOURCES:
        if not exported:
            _drops[tuple(ref)] = drop


# --- handles ---------------------------------------------------------------


def take_handle(obj: Any) -> int:
    """The handle of a freshly lifted resource object, which gives it up."""
    h = obj._handle
    obj._handle = None
    return int(h)


def drop_handle(obj: Any) -> None:
    """Drop the handle of an imported resource object, once."""
    h = obj.__dict__.get("_handle")
    if h is None:
        return
    obj._handle = None
    for cls in type(obj).__mro__:
        index = _drops.get((cls.__module__, cls.__name__))
        if index is not None:
            _abi.call(index, (h,))
            return


def _lift_handle(kind: str, ri: int, h: int, borrows: list[Any]) -> Any:
    exported, ref, a, b, c = RESOURCES[ri]
    if not exported:
        cls = _class(ref)
        obj = cls.__new__(cls)
        obj._handle = h
        if kind == "borrow":
            borrows.append(obj)
        return obj
    if kind == "borrow":
        return _reps[h]
    rep = int(_abi.call(b, (h,)) or 0)
    obj = _reps[rep]
    _abi.call(c, (h,))  # our dtor forgets the rep
    return obj


def _lower_handle(kind: str, ri: int, obj: Any, after: list[Callable[[], None]]) -> int:
    exported, ref, a, b, c = RESOURCES[ri]
    if not exported:
        h = obj._handle
        if h is None:
            raise ValueError(f"{type(obj).__name__} has no handle: it was dropped or given away")
        if kind == "own":
            obj._handle = None
        return int(h)
    rep = _next_rep[0]
    _next_rep[0] += 1
    _reps[rep] = obj
    h = int(_abi.call(a, (rep,)) or 0)
    if kind == "borrow":
        after.append(lambda: _drop_own(c, h))
    return h


def _drop_own(index: int, handle: int) -> None:
    _abi.call(index, (handle,))


# --- loading and storing ---------------------------------------------------

_INT = {"u8": "<B", "s8": "<b", "u16": "<H", "s16": "<h", "u32": "<I", "s32": "<i", "u64": "<Q", "s64": "<q"}


def _tag(size: int, addr: int) -> int:
    return int(struct.unpack_from({1: "<B", 2: "<H", 4: "<I"}[size], _mem[0], addr)[0])


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def load(ti: int, addr: int, own: bool, borrows: list[Any]) -> Any:
    """The value of type ``ti`` at ``addr``; with ``own``, free the memory
    strings and lists point to (the producer allocated it for us)."""
    d = TYPES[ti]
    k = d[0]
    m = _mem[0]
    if k in _INT:
        return struct.unpack_from(_INT[k], m, addr)[0]
    if k == "bool":
        return m[addr] != 0
    if k == "f32":
        return struct.unpack_from("<f", m, addr)[0]
    if k == "f64":
        return struct.unpack_from("<d", m, addr)[0]
    if k == "char":
        return chr(struct.unpack_from("<I", m, addr)[0])
    if k == "string" or k == "list":
        ptr, n = struct.unpack_from("<II", m, addr)
        return _read_sequence(d, ptr, n, own, borrows)
    if k == "option":
        if m[addr] == 0:
            return None
        v = load(d[4], addr + d[5], own, borrows)
        return Some(v) if d[6] else v
    if k == "result":
        tag = m[addr]
        t = d[4] if tag == 0 else d[5]
        v = None if t is None else load(t, addr + d[6], own, borrows)
        return Ok(v) if tag == 0 else Err(v)
    if k == "tuple":
        return tuple(load(t, addr + off, own, borrows) for t, off in d[4])
    if k == "record":
        return _class(d[4])(*[load(t, addr + off, own, borrows) for _, t, off in d[5]])
    if k == "variant":
        ref, t, _ = d[6][_tag(d[4], addr)]
        cls = _class(ref)
        return cls() if t is None else cls(load(t, addr + d[5], own, borrows))
    if k == "enum":
        return _class(d[5])(_tag(d[4], addr))
    if k == "flags":
        return _class(d[4])(int.from_bytes(bytes(m[addr : addr + d[1]]), "little"))
    if k == "own" or k == "borrow":
        return _lift_handle(k, d[4], struct.unpack_from("<I", m, addr)[0], borrows)
    raise TypeError(f"cannot load WIT type {k}")


def _alloc(size: int, align: int, allocs: list[int]) -> int:
    addr = _abi.alloc(size, align)
    allocs.append(addr)
    _memory()
    return addr


def store(ti: int, v: Any, addr: int, allocs: list[int], after: list[Callable[[], None]]) -> None:
    """Write ``v`` as type ``ti`` at ``addr``; memory for strings and lists is
    allocated and recorded in ``allocs``."""
    d = TYPES[ti]
    k = d[0]
    if k in _INT:
        struct.pack_into(_INT[k], _mem[0], addr, _int(k, v))
    elif k == "bool":
        _mem[0][addr] = 1 if v else 0
    elif k == "f32":
        struct.pack_into("<f", _mem[0], addr, v)
    elif k == "f64":
        struct.pack_into("<d", _mem[0], addr, v)
    elif k == "char":
        struct.pack_into("<I", _mem[0], addr, _char(v))
    elif k == "string" or k == "list":
        ptr, n = _store_sequence(d, v, allocs, after)
        struct.pack_into("<II", _mem[0], addr, ptr, n)
    elif k == "option":
        if v is None:
            _mem[0][addr] = 0
        else:
            _mem[0][addr] = 1
            store(d[4], v.value if d[6] else v, addr + d[5], allocs, after)
    elif k == "result":
        if isinstance(v, Ok):
            _mem[0][addr] = 0
            if d[4] is not None:
                store(d[4], v.value, addr + d[6], allocs, after)
        elif isinstance(v, Err):
            _mem[0][addr] = 1
            if d[5] is not None:
                store(d[5], v.value, addr + d[6], allocs, after)
        else:
            raise TypeError(f"a WIT result is Ok(...) or Err(...), not {v!r}")
    elif k == "tuple":
        for (t, off), x in zip(d[4], v, strict=True):
            store(t, x, addr + off, allocs, after)
    elif k == "record":
        for name, t, off in d[5]:
            store(t, getattr(v, name), addr + off, allocs, after)
    elif k == "variant":
        i, case = _case(d, v)
        struct.pack_into({1: "<B", 2: "<H", 4: "<I"}[d[4]], _mem[0], addr, i)
        if case[1] is not None:
            store(case[1], v.value, addr + d[5], allocs, after)
    elif k == "enum":
        struct.pack_into({1: "<B", 2: "<H", 4: "<I"}[d[4]], _mem[0], addr, v.value)
    elif k == "flags":
        _mem[0][addr : addr + d[1]] = int(v.value).to_bytes(d[1], "little")
    elif k == "own" or k == "borrow":
        struct.pack_into("<I", _mem[0], addr, _lower_handle(k, d[4], v, after))
    else:
        raise TypeError(f"cannot store WIT type {k}")


def _store_sequence(d: tuple[Any, ...], v: Any, allocs: list[int], after: list[Callable[[], None]]) -> tuple[int, int]:
    if d[0] == "string":
        data = v.encode("utf-8")
        if not data:
            return 1, 0
        ptr = _alloc(len(data), 1, allocs)
        _mem[0][ptr : ptr + len(data)] = data
        return ptr, len(data)
    e = TYPES[d[4]]
    if e[0] == "u8":
        data = bytes(v)
        if not data:
            return 1, 0
        ptr = _alloc(len(data), 1, allocs)
        _mem[0][ptr : ptr + len(data)] = data
        return ptr, len(data)
    items = list(v)
    if not items:
        return e[2], 0
    ptr = _alloc(e[1] * len(items), e[2], allocs)
    for i, x in enumerate(items):
        store(d[4], x, ptr + i * e[1], allocs, after)
    return ptr, len(items)


def _case(d: tuple[Any, ...], v: Any) -> tuple[int, Any]:
    for i, case in enumerate(d[6]):
        if type(v) is _class(case[0]):
            return i, case
    for i, case in enumerate(d[6]):
        if isinstance(v, _class(case[0])):
            return i, case
    raise TypeError(f"{v!r} is none of the cases {', '.join(c[0][1] for c in d[6])}")


def _int(k: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"a WIT {k} is an int, not {type(v).__name__}")
    return v


def _char(v: Any) -> int:
    if not isinstance(v, str) or len(v) != 1:
        raise TypeError(f"a WIT char is a str of length 1, not {v!r}")
    return ord(v)


# --- flat values -----------------------------------------------------------

_MASK = {"u8": 0xFF, "u16": 0xFFFF, "u32": 0xFFFFFFFF, "u64": 0xFFFFFFFFFFFFFFFF}
_SIGNED = {"s8": 8, "s16": 16, "s32": 32, "s64": 64}


def _coerce_in(value: Any, joined: str, want: str) -> Any:
    """A joined flat value (variant payloads share slots) as the case's type."""
    if joined == want:
        return value
    if want == "i":
        return int(value) & 0xFFFFFFFF
    if want == "f":
        return struct.unpack("<f", struct.pack("<I", int(value) & 0xFFFFFFFF))[0]
    if want == "F":
        return struct.unpack("<d", struct.pack("<Q", int(value) & 0xFFFFFFFFFFFFFFFF))[0]
    return int(value)


def _coerce_out(value: Any, have: str, joined: str) -> Any:
    if have == joined:
        return value
    if have == "f":
        value = struct.unpack("<I", struct.pack("<f", value))[0]
    elif have == "F":
        value = struct.unpack("<Q", struct.pack("<d", value))[0]
    return int(value) & (0xFFFFFFFF if joined == "i" else 0xFFFFFFFFFFFFFFFF)


def lift_flat(ti: int, vals: list[Any], pos: int, borrows: list[Any]) -> tuple[Any, int]:
    """The value of type ``ti`` from flat values ``vals[pos:]``; returns it and the next position."""
    d = TYPES[ti]
    k = d[0]
    if k in _MASK:
        return int(vals[pos]) & _MASK[k], pos + 1
    if k in _SIGNED:
        bits = _SIGNED[k]
        x = int(vals[pos]) & ((1 << bits) - 1)
        return (x - (1 << bits) if x >> (bits - 1) else x), pos + 1
    if k == "bool":
        return vals[pos] != 0, pos + 1
    if k == "f32" or k == "f64":
        return float(vals[pos]), pos + 1
    if k == "char":
        return chr(int(vals[pos]) & 0xFFFFFFFF), pos + 1
    if k in ("string", "list", "own", "borrow"):
        # Strings and lists flat are (ptr, len), in memory the producer allocated for us.
        if k == "own" or k == "borrow":
            return _lift_handle(k, d[4], int(vals[pos]) & 0xFFFFFFFF, borrows), pos + 1
        ptr, n = int(vals[pos]) & 0xFFFFFFFF, int(vals[pos + 1]) & 0xFFFFFFFF
        return _read_sequence(d, ptr, n, True, borrows), pos + 2
    if k == "tuple":
        out = []
        for t, _ in d[4]:
            x, pos = lift_flat(t, vals, pos, borrows)
            out.append(x)
        return tuple(out), pos
    if k == "record":
        out = []
        for _, t, _ in d[5]:
            x, pos = lift_flat(t, vals, pos, borrows)
            out.append(x)
        return _class(d[4])(*out), pos
    if k == "enum":
        return _class(d[5])(int(vals[pos]) & 0xFFFFFFFF), pos + 1
    if k == "flags":
        n = len(d[3])
        value = 0
        for i in range(n):
            value |= (int(vals[pos + i]) & 0xFFFFFFFF) << (32 * i)
        return _class(d[4])(value), pos + n
    # option, result, variant: a discriminant, then the joined payload.
    tag = int(vals[pos]) & 0xFFFFFFFF
    joined = d[3][1:]
    end = pos + len(d[3])
    if k == "option":
        payload = None if tag == 0 else d[4]
    elif k == "result":
        payload = d[4] if tag == 0 else d[5]
    else:
        payload = d[6][tag][1]
    if payload is None:
        v = None
    else:
        want = TYPES[payload][3]
        case = [_coerce_in(vals[pos + 1 + i], joined[i], w) for i, w in enumerate(want)]
        v, _ = lift_flat(payload, case, 0, borrows)
    if k == "option":
        if tag == 0:
            return None, end
        return (Some(v) if d[6] else v), end
    if k == "result":
        return (Ok(v) if tag == 0 else Err(v)), end
    cls = _class(d[6][tag][0])
    return (cls() if payload is None else cls(v)), end


def _read_sequence(d: tuple[Any, ...], ptr: int, n: int, own: bool, borrows: list[Any]) -> Any:
    """The string or list (row ``d``) of ``n`` items at ``ptr``; with ``own``, free its memory after."""
    m = _mem[0]
    if d[0] == "string":
        v: Any = bytes(m[ptr : ptr + n]).decode("utf-8")
    else:
        e = TYPES[d[4]]
        if e[0] == "u8":
            v = bytes(m[ptr : ptr + n])
        else:
            v = [load(d[4], ptr + i * e[1], own, borrows) for i in range(n)]
    if own and n:
        _abi.free(ptr)
    return v


def lower_flat(ti: int, v: Any, out: list[Any], allocs: list[int], after: list[Callable[[], None]]) -> None:
    """Append the flat values of ``v`` (type ``ti``) to ``out``."""
    d = TYPES[ti]
    k = d[0]
    if k in _MASK or k in _SIGNED:
        out.append(_int(k, v))
    elif k == "bool":
        out.append(1 if v else 0)
    elif k == "f32" or k == "f64":
        out.append(float(v))
    elif k == "char":
        out.append(_char(v))
    elif k == "string" or k == "list":
        out.extend(_store_sequence(d, v, allocs, after))
    elif k == "own" or k == "borrow":
        out.append(_lower_handle(k, d[4], v, after))
    elif k == "tuple":
        for (t, _), x in zip(d[4], v, strict=True):
            lower_flat(t, x, out, allocs, after)
    elif k == "record":
        for name, t, _ in d[5]:
            lower_flat(t, getattr(v, name), out, allocs, after)
    elif k == "enum":
        out.append(v.value)
    elif k == "flags":
        value = int(v.value)
        for i in range(len(d[3])):
            out.append((value >> (32 * i)) & 0xFFFFFFFF)
    else:
        joined = d[3][1:]
        if k == "option":
            tag, payload, x = (0, None, None) if v is None else (1, d[4], v.value if d[6] else v)
        elif k == "result":
            if isinstance(v, Ok):
                tag, payload, x = 0, d[4], v.value
            elif isinstance(v, Err):
                tag, payload, x = 1, d[5], v.value
            else:
                raise TypeError(f"a WIT result is Ok(...) or Err(...), not {v!r}")
        else:
            tag, case = _case(d, v)
            payload, x = case[1], (v.value if case[1] is not None else None)
        out.append(tag)
        case_vals: list[Any] = []
        if payload is not None:
            lower_flat(payload, x, case_vals, allocs, after)
            have = TYPES[payload][3]
        else:
            have = ""
        for i, j in enumerate(joined):
            if i < len(case_vals):
                out.append(_coerce_out(case_vals[i], have[i], j))
            else:
                out.append(0.0 if j in "fF" else 0)


# --- calls -----------------------------------------------------------------


def _params_layout(params: tuple[int, ...]) -> tuple[list[int], int, int]:
    offsets, size, align = [], 0, 1
    for t in params:
        a = TYPES[t][2]
        size = _align(size, a)
        offsets.append(size)
        size += TYPES[t][1]
        align = max(align, a)
    return offsets, _align(size, align), align


def call_import(index: int, args: tuple[Any, ...]) -> Any:
    """Call import ``index`` (a function of the world's imports) with Python
    values ``args``; returns the lifted result, raising ``Err`` for the error
    case of a function whose result is a ``result``."""
    name, params, result, raises, indirect, retptr = IMPORTS[index]
    _memory()
    allocs: list[int] = []
    after: list[Callable[[], None]] = []
    borrows: list[Any] = []
    flat: list[Any] = []
    try:
        if indirect:
            offsets, size, align = _params_layout(params)
            addr = _alloc(size, align, allocs)
            for t, off, x in zip(params, offsets, args, strict=True):
                store(t, x, addr + off, allocs, after)
            flat.append(addr)
        else:
            for t, x in zip(params, args, strict=True):
                lower_flat(t, x, flat, allocs, after)
        ret = 0
        if retptr:
            ret = _alloc(TYPES[result][1], TYPES[result][2], allocs)
            flat.append(ret)
        r = _abi.call(index, tuple(flat))
        _memory()
        if result is None:
            out = None
        elif retptr:
            out = load(result, ret, True, borrows)
        else:
            out, _ = lift_flat(result, [r], 0, borrows)
    finally:
        for f in after:
            f()
        for a in allocs:
            _abi.free(a)
    if raises:
        if isinstance(out, Err):
            raise out
        return out.value if isinstance(out, Ok) else out
    return out


def call_export(index: int, args: tuple[Any, ...]) -> Any:
    """Called by the C glue for export ``index`` with its flat arguments:
    lift them, call the app, lower the result (a flat value, or the address
    of the return area)."""
    kind, target, pyname, desc = EXPORTS[index]
    _memory()
    if kind == "dtor":
        _reps.pop(int(args[0]) & 0xFFFFFFFF, None)
        return None
    name, params, result, raises, indirect, retptr = desc
    borrows: list[Any] = []
    if indirect:
        addr = int(args[0]) & 0xFFFFFFFF
        offsets, _, _ = _params_layout(params)
        values = [load(t, addr + off, True, borrows) for t, off in zip(params, offsets)]
        _abi.free(addr)
    else:
        values = []
        pos = 0
        flat = list(args)
        for t in params:
            x, pos = lift_flat(t, flat, pos, borrows)
            values.append(x)
    if kind == "func":
        fn = getattr(_objects[target], pyname)
    elif kind == "ctor":
        fn = _class(RESOURCES[target][1])
    elif kind == "static":
        fn = getattr(_class(RESOURCES[target][1]), pyname)
    else:
        fn = getattr(values.pop(0), pyname)
    try:
        if raises:
            try:
                v: Any = Ok(fn(*values))
            except Err as e:
                v = e
        else:
            v = fn(*values)
    finally:
        # Borrowed handles of imported resources that the parameters carried
        # must be dropped (canon resource.drop) before the export returns:
        # the Canonical ABI traps a call that ends with borrows outstanding
        # ("borrow handles still remain at the end of the call"). Forgetting
        # them is not enough. (Borrows of our own exported resources lift to
        # the object itself, with no handle.)
        for b in borrows:
            drop_handle(b)
    if result is None:
        return None
    allocs: list[int] = []
    after: list[Callable[[], None]] = []
    if retptr:
        ret = _alloc(TYPES[result][1], TYPES[result][2], allocs)
        store(result, v, ret, allocs, after)
        _pending[index] = allocs
        return ret
    out: list[Any] = []
    lower_flat(result, v, out, allocs, after)
    if allocs:
        _pending[index] = allocs
    return out[0]


def post_return(index: int) -> None:
    """Free what the results of export ``index`` held, once the host has read them."""
    for a in _pending.pop(index, ()):
        _abi.free(a)
