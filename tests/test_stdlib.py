"""The standard-library modules backed by C libraries — zlib, bz2, lzma,
sqlite3 — in the target CPython that `wasiwheel python install
--with-sources DIR` builds (zlib, bzip2, xz and sqlite3 from Debian's pinned
source packages, compiled with the same SDK): round trips through each in
`wasiwheel run` (the stock interpreter, and one relinked with the demo's
extensions, which links the libraries' archives again) and in a component;
and the bad inputs of `python install` (wrong checksum, unknown library,
missing file), refused before anything is built."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEMO, ROOT, assert_refused, component, pip_wheel, private_cache, real_cache, sh, write_project
from wasm_host import run_command

VERSIONS = {"zlib": "1.3.1", "bzip2": "1.0.8", "xz": "5.8.1", "sqlite3": "3.46.1"}
MODULES = {"zlib": "zlib", "bzip2": "_bz2", "xz": "_lzma", "sqlite3": "_sqlite3"}

# Runs inside WASI: a round trip through every module, the archive formats
# that use them, and SQLite in memory and on disk under /tmp. Prints one JSON line.
ROUND_TRIPS = r'''
import bz2, gzip, io, json, lzma, os, shutil, sqlite3, sys, tarfile, zipfile, zlib

def round_trips(tmp="/tmp"):
    data = b"wasiwheel stdlib round trip " * 4000 + bytes(range(256)) * 8
    out = {}
    z = zlib.compress(data, 9)
    assert zlib.decompress(z) == data and len(z) < len(data) // 10
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = c.compress(data) + c.flush()
    d = zlib.decompressobj(-15)
    assert d.decompress(raw) + d.flush() == data
    assert zlib.crc32(data) == __import__("binascii").crc32(data)
    out["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    b = bz2.compress(data, 9)
    assert bz2.decompress(b) == data and b[:3] == b"BZh"
    dec = bz2.BZ2Decompressor()
    assert dec.decompress(b[:100]) + dec.decompress(b[100:]) == data
    for fmt, check in [(lzma.FORMAT_XZ, lzma.CHECK_CRC64), (lzma.FORMAT_XZ, lzma.CHECK_SHA256),
                       (lzma.FORMAT_ALONE, lzma.CHECK_NONE)]:
        x = lzma.compress(data, format=fmt, check=check)
        assert lzma.decompress(x) == data
    chain = [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 6}]
    assert lzma.decompress(lzma.compress(data, filters=chain)) == data
    out["lzma"] = lzma.is_check_supported(lzma.CHECK_SHA256)
    assert gzip.decompress(gzip.compress(data)) == data
    buf = io.BytesIO()
    kinds = {"deflated": zipfile.ZIP_DEFLATED, "bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}
    with zipfile.ZipFile(buf, "w") as zf:
        for name, kind in kinds.items():
            zf.writestr(name, data, compress_type=kind)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert [i.compress_type for i in zf.infolist()] == list(kinds.values())
        assert all(zf.read(n) == data for n in kinds)
    work = os.path.join(tmp, "stdlib-round-trips")
    shutil.rmtree(work, ignore_errors=True)
    src = os.path.join(work, "src")
    os.makedirs(os.path.join(src, "sub"))
    with open(os.path.join(src, "sub", "data.bin"), "wb") as f:
        f.write(data)
    for mode in ("gz", "bz2", "xz"):
        path = os.path.join(work, f"t.tar.{mode}")
        with tarfile.open(path, f"w:{mode}") as tf:
            tf.add(src, arcname="src")
        with tarfile.open(path, f"r:{mode}") as tf:
            assert tf.extractfile("src/sub/data.bin").read() == data
    archives = {}
    for fmt in ("zip", "gztar", "bztar", "xztar"):
        arch = shutil.make_archive(os.path.join(work, f"a-{fmt}"), fmt, root_dir=src)
        dest = os.path.join(work, f"x-{fmt}")
        shutil.unpack_archive(arch, dest)
        with open(os.path.join(dest, "sub", "data.bin"), "rb") as f:
            assert f.read() == data
        archives[fmt] = os.path.getsize(arch)
    assert all(size < len(data) // 10 for size in archives.values()), archives
    out["archives"] = sorted(archives)
    con = sqlite3.connect(":memory:")
    con.execute("create table t(id integer primary key, name text, v real)")
    con.executemany("insert into t(name, v) values (?, ?)", [("a", 1.5), ("b", 2.5), ("c", None)])
    assert con.execute("select count(*), sum(v), group_concat(name, '') from t").fetchone() == (3, 4.0, "abc")
    assert con.execute("select json_extract('{\"a\": [1, 2, 3]}', '$.a[1]')").fetchone() == (2,)
    con.execute("create virtual table f using fts5(body)")
    con.execute("insert into f values ('hello wasi world')")
    assert con.execute("select count(*) from f where f match 'wasi'").fetchone() == (1,)
    con.close()
    db = os.path.join(tmp, "stdlib-round-trips.db")
    for suffix in ("", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    con = sqlite3.connect(db)
    with con:
        con.execute("create table n(x integer)")
        con.executemany("insert into n values (?)", [(i,) for i in range(1000)])
    con.close()
    con = sqlite3.connect(db)
    assert con.execute("select count(*), sum(x) from n").fetchone() == (1000, 499500)
    con.close()
    out["sqlite_file_bytes"] = os.path.getsize(db)
    out["sqlite"] = sqlite3.sqlite_version
    out["platform"] = sys.platform
    shutil.rmtree(work)
    os.remove(db)
    return out
'''


def check_results(line):
    r = json.loads(line)
    assert r["platform"] == "wasi"
    assert r["zlib"] == VERSIONS["zlib"]
    assert r["sqlite"] == VERSIONS["sqlite3"]
    assert r["lzma"] is True
    assert r["archives"] == ["bztar", "gztar", "xztar", "zip"]
    assert r["sqlite_file_bytes"] > 4096
    return r


def stdlib_python():
    """The cached CPython 3.13 that has the four libraries (.ci/setup installs it)."""
    out = subprocess.run(
        [sys.executable, "-m", "wasiwheel", "python", "list"], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("CPython 3.13") and all(f"({m})" in line for m in MODULES.values()):
            return line
    pytest.fail(f"no cached CPython 3.13 with {', '.join(MODULES.values())} (run .ci/setup):\n{out}")


@pytest.fixture(scope="module")
def sources_dir():
    """The pinned library sources (fetched and cached by .ci/fetch-stdlib-sources)."""
    proc = sh(["bash", ROOT / ".ci" / "fetch-stdlib-sources"])
    return Path(proc.stdout.strip().splitlines()[-1])


def test_python_list_names_the_libraries():
    line = stdlib_python()
    for name, version in VERSIONS.items():
        assert f"+{name} {version} ({MODULES[name]})" in line, line
    record_paths = [p for p in (real_cache() / "python").glob("*/wasiwheel-python.json")]
    records = [json.loads(p.read_text()) for p in record_paths]
    full = [r for r in records if {lib["name"] for lib in r.get("libraries", [])} == set(VERSIONS)]
    assert full, record_paths
    rec = full[0]
    assert {lib["name"]: lib["version"] for lib in rec["libraries"]} == VERSIONS
    for archive in ("libz.a", "libbz2.a", "liblzma.a", "libsqlite3.a"):
        assert f"lib/wasiwheel-static/{archive}" in rec["link_libs"], rec["link_libs"]


def test_round_trips_in_wasiwheel_run(wasiwheel_cli):
    stdlib_python()
    script = ROUND_TRIPS + "\nprint(json.dumps(round_trips()))\n"
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--", "-c", script])
    check_results(proc.stdout.strip().splitlines()[-1])


def test_round_trips_in_a_relinked_interpreter(wasiwheel_cli, isolated_env, tmp_path):
    """With a wheel's extensions the interpreter is relinked, from the record's
    link_libs: the libraries' archives must be linked again."""
    stdlib_python()
    pip_wheel(DEMO, tmp_path, isolated_env, "target=wasm32-wasi")
    (wheel,) = tmp_path.glob("wasidemo-*.whl")
    script = ROUND_TRIPS + "\nimport wasidemo._checksum\nprint(json.dumps(round_trips()))\n"
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--wheel", wheel, "-v", "--", "-c", script])
    # The relinked interpreter (its extension imports) does the round trips:
    # the libraries' archives were linked in again (the link command, printed
    # with -v, names them when this relink was not already cached).
    check_results(proc.stdout.strip().splitlines()[-1])


def test_round_trips_in_a_component(wasiwheel_cli, tmp_path):
    """A pure-Python project whose entry imports the four modules (at build
    time: the component is pre-initialized) and runs the round trips, with a
    host directory as /tmp."""
    stdlib_python()
    cli = ROUND_TRIPS + "\n\ndef main():\n    print(json.dumps(round_trips()))\n    return 0\n"
    project = write_project(
        tmp_path / "proj",
        "stdlibcheck",
        {"stdlibcheck/__init__.py": "", "stdlibcheck/cli.py": cli},
        tables='[project.scripts]\nstdlibcheck = "stdlibcheck.cli:main"\n',
    )
    out = tmp_path / "stdlibcheck.wasm"
    component(wasiwheel_cli, project, out)
    guest_tmp = tmp_path / "guest-tmp"
    guest_tmp.mkdir()
    r = run_command(out, dirs=[(guest_tmp, "/tmp")])
    assert r.code == 0, r.stderr
    check_results(r.stdout.strip().splitlines()[-1])
    assert list(guest_tmp.iterdir()) == []  # the round trips cleaned up after themselves


# --- bad inputs of `python install`: refused before anything is built --------------------------------


def cpython_source():
    return sh(["bash", ROOT / ".ci" / "fetch-cpython-source"]).stdout.strip().splitlines()[-1]


def install(wasiwheel_cli, cache, *args):
    return sh(
        [wasiwheel_cli, "python", "install", "3.13", "--source", cpython_source(), "--sdk", "25", *args],
        env={"WASIWHEEL_CACHE_DIR": str(cache)},
        check=False,
    )


def assert_refused_before_building(proc, cache, *needles, status=1):
    assert_refused(proc, *needles, status=status, absent=["panicked", "Traceback"])
    # nothing was built or installed
    assert not (cache / "build").exists() or list((cache / "build").iterdir()) == []
    assert not (cache / "python").exists() or list((cache / "python").iterdir()) == []


ZLIB_SHA = "60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb"


def test_wrong_checksum_is_refused(wasiwheel_cli, tmp_path, sources_dir):
    cache = private_cache(tmp_path)
    bad = tmp_path / "zlib_1.3.dfsg+really1.3.1.orig.tar.gz"
    data = bytearray((sources_dir / bad.name).read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    proc = install(wasiwheel_cli, cache, "--with-source", f"zlib={bad}")
    assert_refused_before_building(proc, cache, str(bad), ZLIB_SHA, "not a pinned source of zlib")
    # The same file under its pinned name in a --with-sources directory.
    d = tmp_path / "sources"
    d.mkdir()
    (d / bad.name).write_bytes(bytes(data))
    proc = install(wasiwheel_cli, cache, "--with-sources", d)
    assert_refused_before_building(proc, cache, str(d / bad.name), ZLIB_SHA)


def test_unknown_missing_and_incomplete_sources_are_refused(wasiwheel_cli, tmp_path, sources_dir):
    cache = private_cache(tmp_path)
    zlib = sources_dir / "zlib_1.3.dfsg+really1.3.1.orig.tar.gz"
    proc = install(wasiwheel_cli, cache, "--with-source", f"zlibb={zlib}")
    assert_refused_before_building(proc, cache, "unknown library `zlibb`", "did you mean `zlib`")
    proc = install(wasiwheel_cli, cache, "--with-source", f"zlib={tmp_path / 'nope.tar.gz'}")
    assert_refused_before_building(proc, cache, "nope.tar.gz does not exist", ZLIB_SHA)
    proc = install(wasiwheel_cli, cache, "--with-source", f"xz={zlib}")
    assert_refused_before_building(proc, cache, "is not a pinned source of xz", "xz-utils_5.8.1.orig.tar.xz")
    # sqlite3 without Debian's patches
    proc = install(wasiwheel_cli, cache, "--with-source", f"sqlite3={sources_dir / 'sqlite3_3.46.1.orig.tar.xz'}")
    assert_refused_before_building(proc, cache, "sqlite3 3.46.1 also needs sqlite3_3.46.1-7+deb13u2.debian.tar.xz")
    proc = install(wasiwheel_cli, cache, "--with-source", "zlib")
    assert_refused_before_building(proc, cache, "is not NAME=FILE", status=2)  # a usage error


def test_without_sources_the_build_says_what_is_left_out(wasiwheel_cli, tmp_path):
    """No library sources: the build goes ahead without those modules and
    says so first (a host Python that does not exist stops it right after)."""
    cache = private_cache(tmp_path)
    proc = install(wasiwheel_cli, cache, "--host-python", str(tmp_path / "no-python"))
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert re.search(r"building without the standard-library modules zlib, _bz2, _lzma, _sqlite3", text), text
    assert "no-python" in text
    assert not (cache / "python").exists() or list((cache / "python").iterdir()) == []
