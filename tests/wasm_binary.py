"""What the tests read from WebAssembly core modules (binary format, §5): the
sections, the names of the custom sections and of the exports."""

CUSTOM, EXPORT = 0, 7  # section ids (§5.5.2)


def leb128(data: bytes, i: int) -> tuple[int, int]:
    """The unsigned LEB128 number at `data[i]` (§5.2.2) and the offset after it."""
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def name(data: bytes, i: int) -> tuple[str, int]:
    """The name (a length and UTF-8 bytes, §5.2.4) at `data[i]` and the offset after it."""
    n, i = leb128(data, i)
    return data[i : i + n].decode(), i + n


def sections(data: bytes):
    """(id, offset of its contents, offset after it) of each section of a module."""
    assert data[:4] == b"\0asm", "not a WebAssembly binary"
    i = 8
    while i < len(data):
        size, start = leb128(data, i + 1)
        yield data[i], start, start + size
        i = start + size


def custom_section_names(data: bytes) -> list[str]:
    """The names of a module's custom sections (§5.5.3), in order."""
    return [name(data, start)[0] for sid, start, _ in sections(data) if sid == CUSTOM]


def export_names(data: bytes) -> list[str]:
    """The names of a module's exports (§5.5.10), in order."""
    names = []
    for sid, start, _ in sections(data):
        if sid == EXPORT:
            count, i = leb128(data, start)
            for _ in range(count):
                n, i = name(data, i)
                names.append(n)
                _, i = leb128(data, i + 1)  # the kind (one byte), then the index
    return names
