"""`wasiwheel run` gives the guest a read-only interpreter (issue 10): the
cached CPython prefix is mapped read-only at `/`, the wheels' site read-only,
and the guest gets a private writable `/tmp` (`TMPDIR`) and a `/dev/null`,
both removed afterwards. A guest that writes to `/` or into the prefix gets a
permission error, `tempfile.mkstemp()` works, and wasiwheel's cache is the same
(names, sizes, mtimes) before and after the run."""

import json
import os

from conftest import real_cache, sh

GUEST = r"""
import errno, json, os, tempfile

def attempt(what, path):
    try:
        if what == "mkdir":
            os.mkdir(path)
        else:
            with open(path, "w") as f:
                f.write("x")
        return "allowed"
    except OSError as e:
        return type(e).__name__

out = {
    "write /": attempt("write", "/evil.txt"),
    "write prefix": attempt("write", "/lib/python3.13/evil.py"),
    "mkdir prefix": attempt("mkdir", "/lib/evil"),
    "write site": attempt("write", "/site-packages/evil.py"),
}
fd, name = tempfile.mkstemp()
os.write(fd, b"hello")
os.close(fd)
with open(name, "rb") as f:
    out["mkstemp"] = [os.path.dirname(name), f.read().decode()]
with open("/dev/null", "w") as f:
    f.write("discarded")
out["TMPDIR"] = os.environ.get("TMPDIR")
print(json.dumps(out))
"""


def listing(root):
    """Every file and directory under `root`: relative path → (size, mtime_ns)."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_size if n in files else 0, st.st_mtime_ns)
    return out


def test_guest_cannot_change_the_interpreter(wasiwheel_cli, tmp_path):
    run = [wasiwheel_cli, "run", "--python", "3.13", "--", "-c", GUEST]
    host_tmp = tmp_path / "host-tmp"
    host_tmp.mkdir()
    env = {"TMPDIR": str(host_tmp)}
    sh(run, env=env)  # the first run may compile and cache the interpreter
    before = listing(real_cache())
    assert any(k.startswith("python") for k in before), "the cache holds no CPython"
    proc = sh(run, env=env)
    after = listing(real_cache())
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for k in ("write /", "write prefix", "mkdir prefix", "write site"):
        assert result[k] == "PermissionError", (k, result)
    assert result["mkstemp"] == ["/tmp", "hello"], result
    assert result["TMPDIR"] == "/tmp", result
    # Nothing that was there changed or went, and nothing came into the
    # target CPythons' prefixes. (Other entries may appear meanwhile: the
    # other pytest worker builds and caches its own.)
    changed = sorted(k for k in before if before[k] != after.get(k))
    changed += sorted(k for k in after.keys() - before.keys() if k.startswith("python" + os.sep))
    assert not changed, f"the run changed the cache: {changed[:20]}"
    # The guest's /tmp and /dev were private to the run and are gone.
    assert list(host_tmp.iterdir()) == [], list(host_tmp.iterdir())
