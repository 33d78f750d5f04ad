"""A WASI wheel registry end to end: ``wasiwheel index`` (a static PEP 503/691
index with PEP 658 metadata) read by pip and uv through a static web server and
from ``file://``, a pypiserver (a real index server) fed by a wheelhouse and by
``twine upload``, ``wasiwheel install`` for the WASI target (its tags, its
environment markers) from both, and ``wasiwheel run --site`` using every
installed package. Bad inputs: corrupt wheels, an unreachable index.

Pure wheels come from PyPI by pinned version and sha256; the servers listen on
127.0.0.1 on free ports and are stopped by the tests.
"""

import base64
import contextlib
import hashlib
import html
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import DEMO, SDISTS, pip_wheel, reference_results

# Pure wheels from PyPI, pinned (python-dateutil 2.9.0.post0 depends on six;
# its Requires-Python has `>` and `!` to escape).
PINNED = [
    ("attrs==26.1.0", "c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309"),
    ("python-dateutil==2.9.0.post0", "a8b2bc7bffae282281c8140a97d3aa9c14da0b136dfe83f850eea9a5f7470427"),
    ("six==1.17.0", "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"),
]
VENV_BIN = Path(sys.executable).parent

# Imports and uses every package of the requirement set inside WASI CPython.
USE_ALL = (
    "import json, sys, attrs, six, dateutil, regapp, wasidemo, wasidemo.workload as w, wasidemo._checksum as k\n"
    "try:\n"
    "    import markupsafe, msgpack\n"
    "    foreign = [str(markupsafe.escape('<a>')), msgpack.unpackb(msgpack.packb([1, 'x'])),\n"
    "               markupsafe._speedups.__name__, msgpack._cmsgpack.__name__]\n"
    "except ImportError:\n"
    "    foreign = None\n"
    "@attrs.define\n"
    "class P:\n"
    "    x: int\n"
    "out = {'platform': sys.platform, 'attrs': attrs.asdict(P(3)), 'six': six.PY3,\n"
    "       'month': regapp.next_month(2024, 1, 31), 'helper': regapp.helper(),\n"
    "       'demo': w.results(wasidemo), 'origin': k.__spec__.origin, 'foreign': foreign}\n"
    "try:\n"
    "    import cxxdemo\n"
    "    out['cxx'] = cxxdemo.top_words(cxxdemo.TEXT, 3) == cxxdemo.reference_top_words(cxxdemo.TEXT, 3)\n"
    "except ImportError:\n"
    "    pass\n"
    "print(json.dumps(out))\n"
)


def sh(args, *, env=None, check=True):
    """conftest's ``sh`` without the machine's ``PIP_*`` settings (a global
    find-links directory, say), so that pip sees only the indexes given here."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    clean.update(env or {})
    proc = subprocess.run([str(a) for a in args], env=clean, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        pytest.fail(f"command failed ({proc.returncode}): {' '.join(map(str, args))}\n"
                    f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(args, url, log):
    """Run a server (``args``) until ``url`` answers (at most 30 s); stop it after."""
    with open(log, "w") as out:
        proc = subprocess.Popen([str(a) for a in args], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server {args[0]} did not come up at {url}:\n{Path(log).read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def static_server(root, log):
    port = free_port()
    args = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", root, port]
    return server(args, f"http://127.0.0.1:{port}/", log)


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(out_dir, name, version, *, requires_python=None, meta_name=None, meta_version=None, tamper=False):
    """A pure wheel written the way the binary distribution format says
    (``tamper``: a file's content no longer matches its RECORD hash)."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {meta_name or name}\nVersion: {meta_version or version}\n"
            + (f"Requires-Python: {requires_python}\n" if requires_python else "")
        ).encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in files.items()) + f"{dist}.dist-info/RECORD,,\n"
    if tamper:
        files[f"{name.replace('-', '_')}/__init__.py"] = b"VERSION = 'tampered'\n"
    path = Path(out_dir) / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
        z.writestr(f"{dist}.dist-info/RECORD", record)
    return path


def make_sdist(out_dir, name, version, *, requires_python=None):
    """A minimal sdist (source distribution format): ``{name}-{version}/PKG-INFO``."""
    import io
    import tarfile

    base = f"{name.replace('-', '_')}-{version}"
    pkg_info = f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n" + (
        f"Requires-Python: {requires_python}\n" if requires_python else ""
    )
    path = Path(out_dir) / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        for member, data in [(f"{base}/PKG-INFO", pkg_info.encode()), (f"{base}/pyproject.toml", b"")]:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def summary_rows(out):
    """package → result from the summary table of ``wasiwheel build -r``."""
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("package "))
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = [c for c in line.split("  ") if c.strip()]
        rows[cells[0].strip()] = cells[2].strip()
    return rows


# The requirement set of the wheelhouse: pure packages and their dependencies
# (python-dateutil pulls in six), wasiwheel-native projects (the C demo, the
# pure regapp samples) and two foreign sdists (setuptools, C and Cython).
FOREIGN = ["markupsafe==3.0.4", "msgpack==1.2.4"]


@pytest.fixture(scope="module")
def wheelhouse_dir(tmp_path_factory, wasiwheel_cli, isolated_env):
    """The requirement set built by ``wasiwheel build -r`` for WASI; plus
    cxxdemo built for WASI (uploaded separately)."""
    root = tmp_path_factory.mktemp("registry")
    wh = root / "wheelhouse"
    reqs = root / "requirements.txt"
    pins = [r for r, _ in PINNED if not r.startswith("six")]
    locals_ = [DEMO, *(SDISTS / s for s in ["regapp", "regdep-a", "regdep-b"])]
    reqs.write_text("\n".join([*pins, *map(str, locals_), *FOREIGN]) + "\n")
    proc = sh([wasiwheel_cli, "build", "-r", reqs, "-C", "target=wasm32-wasi", "-o", wh],
              env={"WASIWHEEL_HOST_PYTHON": sys.executable})
    rows = summary_rows(proc.stdout)
    assert rows == {
        "attrs": "downloaded", "python-dateutil": "downloaded", "six (dependency)": "downloaded",
        "wasidemo": "built", "regapp": "built", "regdep-a": "built", "regdep-b": "built",
        "markupsafe": "built", "msgpack": "built",
    }, proc.stdout
    # The pinned pure wheels are PyPI's files.
    for r, sha in PINNED:
        name, version = r.split("==")
        (w,) = wh.glob(f"{name.replace('-', '_')}-{version}-*.whl")
        assert hashlib.sha256(w.read_bytes()).hexdigest() == sha, w
    extra = root / "extra"
    pip_wheel(SDISTS / "cxx-demo", extra, isolated_env, "target=wasm32-wasi")
    (extra_wheel,) = extra.glob("cxxdemo-*.whl")
    return wh, extra_wheel


def run_index(cli, wheelhouse, site, check=True):
    return sh([cli, "index", wheelhouse, "-o", site], check=check)


def test_static_index_read_by_pip_and_uv(tmp_path, wheelhouse_dir, wasiwheel_cli):
    wh, _ = wheelhouse_dir
    site = tmp_path / "site"
    proc = run_index(wasiwheel_cli, wh, site)
    assert "wrote 9 project page(s) and the root" in proc.stderr, proc.stderr
    root = json.loads((site / "index.json").read_text())
    names = [p["name"] for p in root["projects"]]
    expected = ["attrs", "markupsafe", "msgpack", "python-dateutil", "regapp", "regdep-a", "regdep-b", "six",
                "wasidemo"]
    assert names == expected, names
    assert root["meta"]["api-version"] == "1.1"
    assert '<a href="python-dateutil/">python-dateutil</a>' in (site / "index.html").read_text()

    # Every file: the sha256 fragment, the PEP 658 metadata file and its hash,
    # Requires-Python from METADATA, escaped in HTML.
    for project in names:
        page = json.loads((site / project / "index.json").read_text())
        text = (site / project / "index.html").read_text()
        assert page["name"] == project and page["files"] and page["versions"]
        for f in page["files"]:
            data = (site / project / f["filename"]).read_bytes()
            assert f["hashes"]["sha256"] == hashlib.sha256(data).hexdigest() and f["size"] == len(data)
            meta = (site / project / (f["filename"] + ".metadata")).read_bytes()
            assert f["core-metadata"] == {"sha256": hashlib.sha256(meta).hexdigest()} == f["dist-info-metadata"]
            with zipfile.ZipFile(site / project / f["filename"]) as z:
                (inner,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
                assert z.read(inner) == meta
            assert f'href="{f["filename"]}#sha256={f["hashes"]["sha256"]}"' in text
            assert f'data-core-metadata="sha256={f["core-metadata"]["sha256"]}"' in text
            assert f'data-dist-info-metadata="sha256={f["core-metadata"]["sha256"]}"' in text
            rp = f["requires-python"]
            if rp:
                assert f'data-requires-python="{html.escape(rp)}"' in text
    dateutil = json.loads((site / "python-dateutil" / "index.json").read_text())["files"][0]
    assert dateutil["requires-python"] == "!=3.0.*,!=3.1.*,!=3.2.*,>=2.7"
    dateutil_html = (site / "python-dateutil/index.html").read_text()
    assert 'data-requires-python="!=3.0.*,!=3.1.*,!=3.2.*,&gt;=2.7"' in dateutil_html

    # pip from file:// (a static directory), for the host: dependencies come
    # along, and the markers are the host's here (regdep-a, not regdep-b).
    host = tmp_path / "host-site"
    sh([sys.executable, "-m", "pip", "install", "--quiet", "--index-url", site.as_uri(), "--target", host, "regapp"])
    assert sorted(p.name for p in host.iterdir() if p.suffix != ".dist-info" and not p.name.startswith("_")) == [
        "dateutil", "regapp", "regdep_a", "six.py"]

    with static_server(site, tmp_path / "http.log") as url:
        # uv over HTTP.
        uv_site = tmp_path / "uv-site"
        sh([VENV_BIN / "uv", "pip", "install", "--no-cache", "--python", sys.executable, "--index-url", url,
            "--target", uv_site, "python-dateutil"])
        assert (uv_site / "dateutil").is_dir() and (uv_site / "six.py").is_file()
        # pip over HTTP fetches only the PEP 658 metadata of versions it does not install.
        wasi_site = tmp_path / "wasi-site"
        sh([wasiwheel_cli, "install", "--python", "3.13", "--index-url", url, "--target", wasi_site,
            "regapp", "wasidemo", "attrs"])
    log = (tmp_path / "http.log").read_text()
    assert "GET /regapp/regapp-1.0.0-py3-none-any.whl.metadata" in log, log
    installed = {p.name for p in wasi_site.iterdir()}
    # Markers decided for WASI: regdep-b (sys_platform == "wasi") in, regdep-a out.
    assert "regdep_b" in installed and "regdep_a" not in installed, installed
    assert {"regapp", "wasidemo", "attrs", "dateutil", "six.py"} <= installed, installed
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--site", wasi_site, "--", "-c", USE_ALL])
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["platform"] == "wasi" and got["helper"] == "regdep-b" and got["month"] == "2024-02-29"
    assert got["attrs"] == {"x": 3} and got["origin"] == "built-in"


def test_index_is_incremental(tmp_path, wheelhouse_dir, wasiwheel_cli):
    wh = tmp_path / "wh"
    shutil.copytree(wheelhouse_dir[0], wh)
    site = tmp_path / "site"
    run_index(wasiwheel_cli, wh, site)
    pages = sorted(site.glob("*/index.*")) + [site / "index.html", site / "index.json"]
    before = {p: p.stat().st_mtime_ns for p in pages}
    time.sleep(0.05)
    # Nothing changed: nothing read, nothing written.
    proc = run_index(wasiwheel_cli, wh, site)
    assert "read 0 new or changed, removed 0, wrote 0 project page(s) in" in proc.stderr, proc.stderr
    assert {p: p.stat().st_mtime_ns for p in pages} == before
    # A new version of one project: only its pages are rewritten.
    make_wheel(wh, "regdep-b", "1.1.0", requires_python=">=3.9,<4")
    proc = run_index(wasiwheel_cli, wh, site)
    assert "read 1 new or changed, removed 0, wrote 1 project page(s) in" in proc.stderr, proc.stderr
    changed = {p for p in pages if p.stat().st_mtime_ns != before[p]}
    assert changed == {site / "regdep-b" / "index.html", site / "regdep-b" / "index.json"}, changed
    page = json.loads((site / "regdep-b" / "index.json").read_text())
    assert page["versions"] == ["1.0.0", "1.1.0"] and page["files"][1]["requires-python"] == ">=3.9,<4"
    assert 'data-requires-python="&gt;=3.9,&lt;4"' in (site / "regdep-b" / "index.html").read_text()
    # A new project: its pages and the root. A removed one leaves the index.
    make_wheel(wh, "newpkg", "0.1")
    make_sdist(wh, "newpkg", "0.1", requires_python=">=3.10")
    for w in wh.glob("regdep_a-*.whl"):
        w.unlink()
    proc = run_index(wasiwheel_cli, wh, site)
    assert "read 2 new or changed, removed 1, wrote 1 project page(s) and the root" in proc.stderr, proc.stderr
    names = [p["name"] for p in json.loads((site / "index.json").read_text())["projects"]]
    assert "newpkg" in names and "regdep-a" not in names and not (site / "regdep-a").exists()
    # The sdist is listed with its Requires-Python (from PKG-INFO) and no metadata file.
    files = {f["filename"]: f for f in json.loads((site / "newpkg" / "index.json").read_text())["files"]}
    sdist = files["newpkg-0.1.tar.gz"]
    assert sdist["requires-python"] == ">=3.10" and "core-metadata" not in sdist
    assert "core-metadata" in files["newpkg-0.1-py3-none-any.whl"]
    assert not (site / "newpkg" / "newpkg-0.1.tar.gz.metadata").exists()


@pytest.mark.parametrize(
    "kind",
    ["not-a-zip", "no-metadata", "record-mismatch", "name-mismatch", "version-mismatch"],
)
def test_corrupt_wheel_refused(tmp_path, wasiwheel_cli, kind):
    wh = tmp_path / "wh"
    wh.mkdir()
    make_wheel(wh, "good", "1.0")
    site = tmp_path / "site"
    run_index(wasiwheel_cli, wh, site)
    state_before = (site / ".wasiwheel-index.json").read_bytes()
    listing_before = sorted(str(p.relative_to(site)) for p in site.rglob("*"))
    bad = wh / "bad-1.0-py3-none-any.whl"
    if kind == "not-a-zip":
        bad.write_bytes(b"this is not a zip archive\n")
        why = "is not a zip archive"
    elif kind == "no-metadata":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("bad/__init__.py", "")
        why = "has no .dist-info/METADATA"
    elif kind == "record-mismatch":
        bad = make_wheel(wh, "bad", "1.0", tamper=True)
        why = "RECORD hash mismatch for `bad/__init__.py`"
    elif kind == "name-mismatch":
        bad = make_wheel(wh, "bad", "1.0", meta_name="other")
        why = "says `Name: other` but the file name says `bad`"
    else:
        bad = make_wheel(wh, "bad", "1.0", meta_version="2.0")
        why = "says `Version: 2.0` but the file name says `1.0`"
    proc = run_index(wasiwheel_cli, wh, site, check=False)
    err = proc.stderr
    assert proc.returncode == 1 and str(bad) in err and why in err and "nothing was written" in err, err
    assert "Traceback" not in err and "panicked" not in err
    # Nothing partial: the site is as it was.
    assert (site / ".wasiwheel-index.json").read_bytes() == state_before
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*")) == listing_before
    # A fresh site is not even created.
    fresh = tmp_path / "fresh"
    proc = run_index(wasiwheel_cli, wh, fresh, check=False)
    assert proc.returncode == 1 and str(bad) in proc.stderr and not fresh.exists()


def test_index_refuses_foreign_directory(tmp_path, wasiwheel_cli):
    wh = tmp_path / "wh"
    wh.mkdir()
    make_wheel(wh, "good", "1.0")
    site = tmp_path / "site"
    site.mkdir()
    (site / "precious.txt").write_text("mine")
    proc = run_index(wasiwheel_cli, wh, site, check=False)
    assert proc.returncode == 1 and str(site) in proc.stderr and "not an index written by" in proc.stderr
    assert sorted(p.name for p in site.iterdir()) == ["precious.txt"]
    proc = run_index(wasiwheel_cli, tmp_path / "missing", tmp_path / "s2", check=False)
    assert proc.returncode == 1 and str(tmp_path / "missing") in proc.stderr


def test_pypiserver_twine_install_run(tmp_path, wheelhouse_dir, wasiwheel_cli):
    wh, extra_wheel = wheelhouse_dir
    packages = tmp_path / "packages"
    shutil.copytree(wh, packages)
    port = free_port()
    args = [VENV_BIN / "pypi-server", "run", "-i", "127.0.0.1", "-p", port, "-a", ".", "-P", ".",
            "--disable-fallback", packages]
    with server(args, f"http://127.0.0.1:{port}/simple/", tmp_path / "pypiserver.log") as simple:
        # twine uploads one more WASI wheel; pypiserver keeps the WASI tags.
        sh([VENV_BIN / "twine", "upload", "--non-interactive", "--repository-url", f"http://127.0.0.1:{port}/",
            "-u", "wasiwheel", "-p", "test", extra_wheel])
        assert (packages / extra_wheel.name).is_file()
        reqs = tmp_path / "requirements.txt"
        reqs.write_text("attrs\npython-dateutil\nwasidemo\nregapp\ncxxdemo\nmarkupsafe\nmsgpack\n")
        site = tmp_path / "wasi-site"
        proc = sh([wasiwheel_cli, "install", "--python", "3.13", "--index-url", simple, "--target", site, "-r", reqs])
        assert "installed for CPython 3.13" in proc.stderr, proc.stderr
    installed = {p.name for p in site.iterdir()}
    every = {"attrs", "dateutil", "six.py", "wasidemo", "regapp", "regdep_b", "cxxdemo", "markupsafe", "msgpack"}
    assert every <= installed, installed
    assert "regdep_a" not in installed
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--site", site, "--", "-c", USE_ALL])
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["platform"] == "wasi" and got["helper"] == "regdep-b" and got["cxx"] is True
    assert got["six"] is True and got["attrs"] == {"x": 3} and got["month"] == "2024-02-29"
    assert got["demo"] == reference_results()
    assert got["foreign"] == ["&lt;a&gt;", [1, "x"], "markupsafe._speedups", "msgpack._cmsgpack"], got


def test_install_from_find_links_without_index(tmp_path, wheelhouse_dir, wasiwheel_cli):
    wh, _ = wheelhouse_dir
    site = tmp_path / "wasi-site"
    sh([wasiwheel_cli, "install", "--python", "3.13", "--no-index", "--find-links", wh, "--target", site, "regapp"])
    installed = {p.name for p in site.iterdir()}
    assert {"regapp", "regdep_b", "dateutil", "six.py"} <= installed and "regdep_a" not in installed, installed


def test_install_bad_inputs(tmp_path, wasiwheel_cli):
    port = free_port()  # nobody listens there
    url = f"http://127.0.0.1:{port}/simple/"
    site = tmp_path / "site"
    proc = sh([wasiwheel_cli, "install", "--python", "3.13", "--index-url", url, "--target", site, "attrs"],
              check=False)
    assert proc.returncode == 1 and url in proc.stderr and "--index-url" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not site.exists()
    missing = tmp_path / "no-such-index"
    proc = sh([wasiwheel_cli, "install", "--python", "3.13", "--index-url", missing.as_uri(), "--target", site,
               "attrs"], check=False)
    assert proc.returncode == 1 and str(missing) in proc.stderr and not site.exists(), proc.stderr
    # A requirement that no index has: pip's message, and a clear failure.
    wh = tmp_path / "wh"
    wh.mkdir()
    proc = sh([wasiwheel_cli, "install", "--python", "3.13", "--no-index", "--find-links", wh, "--target", site,
               "nosuchpkg"], check=False)
    assert proc.returncode == 1 and "nosuchpkg" in proc.stderr and "pip could not install" in proc.stderr
    # A host Python without pip is named.
    proc = sh([wasiwheel_cli, "install", "--python", "3.13", "--host-python", "/nonexistent/python", "--no-index",
               "--find-links", wh, "--target", site, "x"], check=False)
    assert proc.returncode == 1 and "/nonexistent/python" in proc.stderr, proc.stderr


def test_markers_are_the_target_interpreters(tmp_path, wasiwheel_cli):
    """The environment wasiwheel resolves with is what `packaging` computes
    inside the WASI CPython itself."""
    import packaging

    site = tmp_path / "site"
    shutil.copytree(Path(packaging.__file__).parent, site / "packaging")
    proc = sh([wasiwheel_cli, "run", "--python", "3.13", "--site", site, "--", "-c",
               "import json, packaging.markers as m; print(json.dumps(m.default_environment()))"])
    real = json.loads(proc.stdout.strip().splitlines()[-1])
    shown = sh([wasiwheel_cli, "install", "--python", "3.13", "--show-markers"]).stdout
    ours = json.loads(next(l for l in shown.splitlines() if l.startswith("markers: "))[len("markers: "):])
    assert ours == real
    assert real["sys_platform"] == "wasi" and real["platform_machine"] == "wasm32"


def test_build_set_decides_markers_for_wasi(tmp_path, wheelhouse_dir, wasiwheel_cli):
    """``wasiwheel build`` of regapp resolves its dependencies for WASI:
    regdep-b (``sys_platform == "wasi"``) comes along, regdep-a
    (``sys_platform != "wasi"``) does not, though both are offered."""
    wh, _ = wheelhouse_dir
    out = tmp_path / "set"
    proc = sh([wasiwheel_cli, "build", "regapp==1.0.0", "python-dateutil==2.9.0.post0", "-C", "target=wasm32-wasi",
               "-o", out, "--find-links", wh], env={"WASIWHEEL_HOST_PYTHON": sys.executable})
    rows = summary_rows(proc.stdout)
    assert rows["regdep-b (dependency)"] == "downloaded" and rows["regapp"] == "downloaded", proc.stdout
    assert not any(k.startswith("regdep-a") for k in rows), proc.stdout
    assert sorted(p.name.split("-")[0] for p in out.glob("*.whl")) == [
        "python_dateutil", "regapp", "regdep_b", "six"], list(out.iterdir())


def test_build_set_reports_a_failure_and_keeps_the_rest(tmp_path, wasiwheel_cli):
    """A package that cannot be built for WASI is reported with its reason;
    the others are built and kept; the exit status is 1."""
    from test_foreign import FORK_C, PYPROJECT, SETUP_PY, make_sdist

    sdist = make_sdist(
        tmp_path / "needsfork-1.0.tar.gz",
        {"needsfork-1.0/setup.py": SETUP_PY, "needsfork-1.0/pyproject.toml": PYPROJECT,
         "needsfork-1.0/needsfork.c": FORK_C},
    )
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"attrs==26.1.0  # pure\n{sdist}\nmarkupsafe==3.0.4\n")
    out = tmp_path / "set"
    proc = sh([wasiwheel_cli, "build", "-r", reqs, "-C", "target=wasm32-wasi", "-o", out],
              env={"WASIWHEEL_HOST_PYTHON": sys.executable}, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = summary_rows(proc.stdout)
    assert rows == {"attrs": "downloaded", "markupsafe": "built", "needsfork-1.0.tar.gz": "FAILED"}, proc.stdout
    assert "hint: WASI has no processes" in proc.stdout and "not built: needsfork-1.0.tar.gz" in proc.stderr
    assert sorted(p.name.split("-")[0] for p in out.iterdir()) == ["attrs", "markupsafe"], list(out.iterdir())


def test_build_set_bad_inputs(tmp_path, wasiwheel_cli):
    """A pip option in a requirements file and an unreachable index are named."""
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("attrs\n--extra-index-url https://example.invalid/simple\n")
    proc = sh([wasiwheel_cli, "build", "-r", reqs, "-C", "target=wasm32-wasi", "-o", tmp_path / "o"], check=False)
    assert proc.returncode == 1 and f"{reqs}:2: `--extra-index-url" in proc.stderr, proc.stderr
    reqs.write_text("attrs\n")
    proc = sh([wasiwheel_cli, "build", "-r", reqs, "-C", "target=wasm32-wasi", "-o", tmp_path / "o",
               "--index-url", "http://127.0.0.1:9/simple"], check=False)
    assert proc.returncode == 1 and "http://127.0.0.1:9/simple" in proc.stderr, proc.stderr
    assert not (tmp_path / "o").exists()
