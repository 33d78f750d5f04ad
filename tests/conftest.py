"""Shared fixtures for wasiwheel's end-to-end tests.

The tests drive wasiwheel the way users do: pip and build with build
isolation, with wasiwheel itself coming into the isolated environment from a
locally built wheel (``WASIWHEEL_WHEELHOUSE``, a directory holding it) through
``--find-links``, as it would come from an index. ``.ci/run`` builds that wheel,
installs it into the test environment (for the ``wasiwheel`` CLI), and
provisions the WASI SDK 25 equivalent and CPython 3.13 into the cache.
"""

import json
import os
import re
import shlex
import tarfile
import textwrap
import time
import urllib.error
import urllib.request
import shutil
import signal
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

# The sample projects have tests of their own; they are not wasiwheel's tests.
collect_ignore_glob = ["sdists/*"]

ROOT = Path(__file__).resolve().parent.parent
SDISTS = ROOT / "tests" / "sdists"
DEMO = SDISTS / "demo"


WASI_LIMITS = ROOT / "tests" / "wasi-limits.txt"

# What an entry's reason may start with: what WASI lacks, what a 32-bit target
# lacks, or a difference of Python versions between the two runs.
LIMIT_REASONS = ("WASI has no", "wasm32 ", "not a WASI limit: ")


def wasi_limits(name: str) -> list[tuple[str, str]]:
    """The entries of tests/wasi-limits.txt for the package `name`: (selector,
    reason) pairs, where a selector is a pytest node id relative to the
    directory the suite runs in, or ``k:NAME`` (tests whose name has NAME)."""
    out = []
    for line in WASI_LIMITS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pkg, selector, reason = line.split("\t")
        assert reason.startswith(LIMIT_REASONS), f"tests/wasi-limits.txt: {line}"
        if pkg == name:
            out.append((selector, reason))
    return out


def limits(name: str) -> list[str]:
    """pytest arguments deselecting the tests of `name` that need what WASI lacks."""
    entries = wasi_limits(name)
    ids = [s for s, _ in entries if not s.startswith("k:")]
    ks = [s[2:] for s, _ in entries if s.startswith("k:")]
    args = [a for i in ids for a in ("--deselect", i)]
    if ks:
        args += ["-k", " and ".join(f"not {k}" for k in ks)]
    return args


def real_cache() -> Path:
    """wasiwheel's cache directory (as the CLI computes it)."""
    d = os.environ.get("WASIWHEEL_CACHE_DIR")
    return Path(d) if d else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wasiwheel"


def private_cache(tmp_path: Path, keep=("sdk",)) -> Path:
    """A cache directory of a test's own, holding only the `keep` parts
    (``sdk``, ``python``) of the real one, linked."""
    cache = tmp_path / "cache"
    cache.mkdir(parents=True)
    for part in keep:
        (cache / part).symlink_to(real_cache() / part, target_is_directory=True)
    return cache


def installed_wasiwheel() -> str:
    """The ``wasiwheel`` command of the test environment (beside its python)."""
    exe = shutil.which("wasiwheel", path=str(Path(sys.executable).parent)) or shutil.which("wasiwheel")
    if not exe:
        pytest.exit("the wasiwheel command is not installed in the test environment", returncode=3)
    return exe


def _cache_lookup(*args: str) -> Path:
    """A path from the cache's own lookup (``wasiwheel sdk find``/``python find``),
    as builds find it, never a directory name guessed by a test."""
    proc = subprocess.run([installed_wasiwheel(), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"`wasiwheel {' '.join(args)}` failed (run .ci/setup):\n{proc.stdout}{proc.stderr}")
    return Path(proc.stdout.strip())


def sdk_dir(major: int) -> Path:
    """The installed WASI SDK `major` in the cache."""
    return _cache_lookup("sdk", "find", str(major))


def target_python_prefix(version: str = "3.13", target: str = "wasm32-wasip1") -> Path:
    """The install prefix of the cached target CPython `version` that builds use."""
    return _cache_lookup("python", "find", version, "--target", target)


def sh(args, *, env=None, cwd=None, check=True, timeout=1800, inherit=True):
    """Run ``args``; return the CompletedProcess (text). The environment is
    this process's updated with `env` (only `env` when `inherit` is false). On
    an unexpected status, fail with the command's whole output."""
    full_env = dict(os.environ) if inherit else {}
    full_env.update(env or {})
    proc = subprocess.run(
        [str(a) for a in args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"command failed ({proc.returncode}): {' '.join(map(str, args))}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """The directory with the locally built wasiwheel wheel."""
    d = os.environ.get("WASIWHEEL_WHEELHOUSE")
    if not d or not list(Path(d).glob("wasiwheel-*.whl")):
        pytest.exit(
            "WASIWHEEL_WHEELHOUSE must name a directory holding the wasiwheel wheel (.ci/run sets it up)", returncode=3
        )
    return Path(d)


@pytest.fixture(scope="session")
def wasiwheel_cli() -> str:
    """The installed ``wasiwheel`` command."""
    return installed_wasiwheel()


@pytest.fixture(scope="session")
def isolated_env(wheelhouse):
    """Environment for frontends with build isolation, fed from the wheelhouse only."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def pip_wheel(project, out, isolated_env, *config, check=True, env=None):
    """``pip wheel PROJECT -w OUT -C k=v …`` with build isolation."""
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", str(project), "-w", str(out)]
    for c in config:
        args += ["-C", c]
    return sh(args, env={**isolated_env, **(env or {})}, check=check)


def run_python(cli, code, wheels=(), check=True):
    """``wasiwheel run --python 3.13 --wheel W… -- -c CODE``: CODE in the
    target CPython 3.13 relinked with the extensions of `wheels`."""
    wheel_args = [a for w in wheels for a in ("--wheel", w)]
    return sh([cli, "run", "--python", "3.13", *wheel_args, "--", "-c", code], check=check)


def component(cli, project, out, *args, env=None, check=True):
    """``wasiwheel component PROJECT -o OUT ARGS…`` (a project, or an app
    directory as componentize-py takes one)."""
    return sh([cli, "component", project, "-o", out, *args], env=env, check=check)


def base_ids(text: str) -> "Counter[str]":
    """The passed tests of a ``-rA`` run as a multiset of node ids without their parameters (which
    hold random uuids, set orders and paths in some suites)."""
    return Counter(i.split("[", 1)[0] for i in passed_ids(text))


def guest_like_env(**extra: str) -> dict:
    """The environment of a native suite run compared with a WASI one: the
    guest of ``wasiwheel test`` sees none of the host's variables (no ``CI``,
    which suites such as pydantic-core's read to enable tests, no locale, no
    ``PYTEST_ADDOPTS``), so the native run gets only what a process needs to
    start (``PATH``, ``HOME``, ``TMPDIR``), the guest's
    ``PYTHONDONTWRITEBYTECODE=1``, and `extra`."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR") if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def passed_ids(text: str) -> list[str]:
    """The ids of the tests a ``pytest -rA`` run reports ``PASSED``, sorted."""
    return sorted(line.split()[1] for line in text.splitlines() if line.startswith("PASSED "))


def suite_native_and_wasi(cli, project: Path, wheel: Path, tests: str = "tests", timeout: int = 1800):
    """`project`'s own suite (`tests` under it) run natively (the project
    installed for the test interpreter with ``pip install --target``) and in
    WASI (``wasiwheel test WHEEL --tests PROJECT``), both with ``-rA``; each
    must pass. Returns (native passed ids, WASI passed ids, WASI output)."""
    native = project.parent / f"{project.name}-native"
    sh([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "--target",
        native, project], timeout=timeout)
    ran = sh([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", tests], cwd=project,
             env=guest_like_env(PYTHONPATH=str(native)), inherit=False, check=False)
    assert ran.returncode == 0, ran.stdout[-3000:]
    proc = sh([cli, "test", wheel, "--tests", project, "--", "-q", "-rA", tests], check=False, timeout=timeout)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-4000:]
    return passed_ids(ran.stdout), passed_ids(text), text


def write_project(root: Path, name: str, files: dict, *, version: str = "1.0", tables: str = "") -> Path:
    """A project built by wasiwheel at `root`: `files` (path under root →
    text) and a pyproject.toml with `name`, `version` and the TOML `tables`."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n\n{tables}'
    )
    return root


def assert_refused(proc, *needles, status=None, absent=(), out=None):
    """A command that refused cleanly: exit status `status` (any but 0 when
    None), each of `needles` in its output and none of `absent`, and nothing
    left at `out` (no file there, or an empty directory)."""
    text = proc.stdout + proc.stderr
    if status is None:
        assert proc.returncode != 0, text
    else:
        assert proc.returncode == status, text
    for n in needles:
        assert n in text, f"{n!r} not in:\n{text}"
    for n in absent:
        assert n not in text, text
    if out is not None:
        left = list(out.iterdir()) if out.is_dir() else [out] if out.exists() else []
        assert left == [], f"left behind: {left}"


def _load(path, name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def reference_results():
    """The pure-Python reference results of the demo's workload, computed on
    the host from the demo's source files (without importing its C extensions)."""
    pkg = DEMO / "src" / "wasidemo"
    workload = _load(pkg / "workload.py", "wasidemo_workload")
    reference = _load(pkg / "reference.py", "wasidemo_reference")
    return json.loads(json.dumps(workload.results(reference)))


RESULTS_SNIPPET = (
    "import json, sys, wasidemo, wasidemo.workload as w, wasidemo._checksum as k, wasidemo.num._stats as s; "
    "print(json.dumps({'results': w.results(wasidemo), "
    "'origins': [k.__spec__.origin, s.__spec__.origin], 'platform': sys.platform}))"
)


def install_with_tags_line(cli, python, sdk, site, wheels, *packages, target=None) -> list[str]:
    """Install `packages` from the directory `wheels` into `site` with the
    exact line ``wasiwheel tags … --install-dir SITE`` prints (the package
    coming from `wheels`); that line's arguments."""
    targets = ["--target", target] if target else []
    out = sh([cli, "tags", "--python", python, "--sdk", sdk, *targets, "--install-dir", site]).stdout
    line = next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("install with:"))
    args = shlex.split(line)
    sh([sys.executable, "-m", *args[:-1], "--no-index", "--find-links", wheels, *packages])
    return args


@pytest.fixture(scope="module")
def headers314() -> Path:
    """Debian's usr/include of libpython3.14-dev (.ci/test names it)."""
    d = os.environ.get("WASIWHEEL_TEST_PY314_HEADERS")
    if not d or not (Path(d) / "python3.14" / "Python.h").exists():
        pytest.fail(
            "WASIWHEEL_TEST_PY314_HEADERS must name Debian's usr/include of libpython3.14-dev (.ci/test sets it)"
        )
    return Path(d)


@pytest.fixture(scope="module")
def prefix314(headers314, wasiwheel_cli) -> Path:
    """The compile-only CPython 3.14 for wasm32-wasip2 (SDK 33) assembled from those headers."""
    assemble = ["python", "assemble", "3.14", "--headers", headers314, "--sdk", "33", "--target", "wasm32-wasip2"]
    sh([wasiwheel_cli, *assemble])
    listing = sh([wasiwheel_cli, "python", "list"]).stdout
    line = next(l for l in listing.splitlines() if l.startswith("CPython 3.14") and "wasm32-wasip2" in l)
    assert "(compile-only)" in line
    return Path(next(w for w in line.split() if w.endswith("-headers")))


#: The world of `componentize`'s apps: one export taking and returning a string.
APP_WIT = """package wasiwheel:test;

world app {
  export run: func(arg: string) -> string;
}
"""


def componentize(tmp_path, site, app_code, wasiwheel_cli):
    """componentize-py's component of the app `app_code` (its `app` module, of
    the world APP_WIT) with the packages installed in `site`."""
    (tmp_path / "wit").mkdir()
    (tmp_path / "wit" / "app.wit").write_text(APP_WIT)
    (tmp_path / "appdir").mkdir()
    (tmp_path / "appdir" / "app.py").write_text(textwrap.dedent(app_code))
    cpy = shutil.which("componentize-py", path=str(Path(sys.executable).parent))
    assert cpy, "componentize-py is installed by .ci/setup"
    out = tmp_path / "app.wasm"
    sh([cpy, "-d", tmp_path / "wit", "-w", "app", "componentize", "app", "-p", tmp_path / "appdir", "-p", site,
        "-o", out])
    return out


def wheel_names(path):
    with zipfile.ZipFile(path) as z:
        return z.namelist()


@pytest.fixture(scope="session")
def cli_sdist(tmp_path_factory) -> Path:
    """componentize-py 0.25.1's sdist, unpacked (its WIT and examples)."""
    archive = Path(sh(["bash", ROOT / ".ci" / "fetch-sdists", "componentize-py"]).stdout.split()[-1])
    dest = tmp_path_factory.mktemp("cpy-sdist")
    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")
    (top,) = dest.iterdir()
    return top


class Server:
    """`wasiwheel serve WASM --addr 127.0.0.1:0` as a subprocess; `url` is
    read from its `serving http://ADDR/` line."""

    def __init__(self, cli, wasm, log: Path):
        self.log = log
        self.err = open(log, "w+")
        self.proc = subprocess.Popen(
            [cli, "serve", str(wasm), "--addr", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=self.err, text=True
        )
        deadline = time.monotonic() + 600  # the first compile of a CPython component takes a while
        while True:
            m = re.search(r"^serving (http://127\.0\.0\.1:\d+/)$", log.read_text(), re.M)
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"wasiwheel serve did not start (status {self.proc.returncode}):\n{log.read_text()}")
            time.sleep(0.2)

    def request(self, path, body=None, headers=None):
        """(status, body, headers) of a request; POST when there is a body."""
        req = urllib.request.Request(self.url + path.lstrip("/"), data=body, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    def stop(self, sig=signal.SIGTERM):
        """Stop the server with `sig`; return its log."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.log.read_text()


# --- long jobs that run beside the other tests -----------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "early: the test's module has start_early(), a slow job started when the session has collected; "
        "the test runs last and gets the job as the `early_job` fixture",
    )


_EARLY_JOBS = {}


def _xdist_worker() -> bool:
    """Whether this process is a pytest-xdist worker (``.ci/test`` runs two)."""
    return "PYTEST_XDIST_WORKER" in os.environ


def pytest_collection_modifyitems(session, config, items):
    """Run the tests marked ``early`` beside the others.

    In one process: start the job of every selected ``early`` test (its
    module's ``start_early()``, which must not block) and move those tests
    to the end, so that the job (a CPython build from nothing, say) runs
    beside the other tests instead of before or after them.

    Under pytest-xdist (``-n 2 --dist loadfile``, as ``.ci/test`` runs): every
    worker collects every test, so none starts a job here; the tests move to
    the front of their module instead, and the worker that is given the
    module starts the job when it reaches them, while the other worker goes
    on with other modules."""
    early = [item for item in items if item.get_closest_marker("early")]
    rest = [item for item in items if item not in early]
    if _xdist_worker():
        items[:] = early + rest
        return
    for item in early:
        if item.module.__name__ not in _EARLY_JOBS:
            _EARLY_JOBS[item.module.__name__] = item.module.start_early()
    items[:] = rest + early


def pytest_sessionfinish(session, exitstatus):
    for job in _EARLY_JOBS.values():
        job.close()


@pytest.fixture
def early_job(request):
    """The job that the test's module started early (see
    pytest_collection_modifyitems); under pytest-xdist, started now."""
    name = request.module.__name__
    if name not in _EARLY_JOBS:
        _EARLY_JOBS[name] = request.module.start_early()
    return _EARLY_JOBS[name]
