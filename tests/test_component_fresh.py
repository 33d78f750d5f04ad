"""Components start fresh: each instance of a pre-initialized component gets
the host's environment, its own randomness and its own argv, while the
string-hash secret is fixed per build — derived from the project's name and
version and `-C component-hash-seed` (or a digest of the component's inputs),
so rebuilds of one tree are byte-identical. Run with the wasmtime package."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import assert_refused, component, write_project
from wasm_host import bundle, run_command

PROBE = '''
import json, os, random, sys, tempfile

# Imported at build time (pre-initialization): these draw from the build's
# randomness and see the build's environment.
BUILD_RANDOM = random.random()
BUILD_ENV = dict(os.environ)
BUILD_TMPNAME = next(tempfile._get_candidate_names())


def main():
    print(json.dumps({
        "random": random.random(),
        "bits": random.getrandbits(64),
        "environ": dict(os.environ),
        "environb": {k.hex(): v.hex() for k, v in os.environb.items()},
        "getenv": os.getenv("FRESH_A"),
        "hash": hash("abc"),
        "hash_bytes": hash(b"abc"),
        "argv": sys.argv,
        "tmpname": next(tempfile._get_candidate_names()),
        "build_random": BUILD_RANDOM,
        "build_env": BUILD_ENV,
        "build_tmpname": BUILD_TMPNAME,
    }), flush=True)
    return 0
'''


def instances(wasm, runs=2, env=(), args=(), dirs=()):
    """Run `runs` instances of the component in one host process; the probe's report of each."""
    r = run_command(wasm, *args, env=env, dirs=dirs, runs=runs)
    assert r.codes == [0] * runs, r.stderr
    reports = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(reports) == runs, r.stdout
    return reports


def make_probe(root: Path, name="fresh-probe", version="1.0"):
    """A pure-Python project whose component entry reports what its instance sees."""
    shutil.rmtree(root, ignore_errors=True)
    tables = '[tool.wasiwheel.component]\nentry = "freshprobe:main"\n'
    return write_project(root, name, {"freshprobe/__init__.py": PROBE}, version=version, tables=tables)


@pytest.fixture(scope="module")
def probe(tmp_path_factory, wasiwheel_cli):
    """The probe project built once, with a variable in the build's environment."""
    base = tmp_path_factory.mktemp("fresh")
    project = make_probe(base / "probe")
    wasm = base / "a" / "probe.wasm"
    component(wasiwheel_cli, project, wasm, env={"FRESH_BUILD_ONLY": "from-the-build"})
    return base, project, wasm


def test_each_instance_draws_its_own_randomness(probe):
    _, _, wasm = probe
    a, b = instances(wasm, runs=2)
    assert a["random"] != b["random"]
    assert a["bits"] != b["bits"]
    assert a["tmpname"] != b["tmpname"]
    # Values drawn at build time are the snapshot's, the same in every instance;
    # what is drawn at run time does not repeat them.
    assert a["build_random"] == b["build_random"] and a["build_tmpname"] == b["build_tmpname"]
    assert a["random"] != a["build_random"] and a["tmpname"] != a["build_tmpname"]
    # A second process (a fresh host) draws differently too.
    (c,) = instances(wasm, runs=1)
    assert c["random"] not in (a["random"], b["random"]) and c["bits"] not in (a["bits"], b["bits"])


def test_environment_is_exactly_the_hosts(probe):
    _, _, wasm = probe
    env = [("FRESH_A", "1"), ("WITH_EQUALS", "x=y=z"), ("EMPTY", ""), ("UNICODE", "grüße")]
    (r,) = instances(wasm, runs=1, env=env, args=("one", "two words", "ünï"))
    assert r["environ"] == dict(env)
    assert r["environb"] == {k.encode().hex(): v.encode().hex() for k, v in env}
    assert r["getenv"] == "1"
    assert r["argv"] == ["app", "one", "two words", "ünï"]
    # The build's environment never reaches the component: not at build time
    # (pre-initialization sees no environment), not at run time.
    assert r["build_env"] == {}
    assert "FRESH_BUILD_ONLY" not in r["environ"]
    # Each instance sees its own host's environment, also an empty one.
    a, b = instances(wasm, runs=2, env=[("ONLY", "this")])
    assert a["environ"] == b["environ"] == {"ONLY": "this"}
    (empty,) = instances(wasm, runs=1)
    assert empty["environ"] == {} and empty["environb"] == {} and empty["getenv"] is None


def test_rebuilds_are_byte_identical(probe, wasiwheel_cli):
    base, project, wasm = probe
    again = base / "b" / "probe.wasm"
    component(wasiwheel_cli, project, again)
    assert again.read_bytes() == wasm.read_bytes()


def test_hash_secret_is_per_build(probe, wasiwheel_cli):
    base, project, wasm = probe
    a, b = instances(wasm, runs=2)
    # One build: every instance has the same secret (it lives in the snapshot).
    assert a["hash"] == b["hash"] and a["hash_bytes"] == b["hash_bytes"]

    def hash_of(wasm):
        return instances(wasm, runs=1)[0]["hash"]

    # What the secret is derived from (project, version, secret or inputs) is
    # the unit test hash_seed_depends_on_project_version_and_secret_or_inputs;
    # here, that the build passes it on: another release gets another secret,
    # and a secret given per build (as the setting or in the environment)
    # gives another again, the same both ways.
    v2, s1, s1b = (base / f"{n}.wasm" for n in ("v2", "s1", "s1b"))
    component(wasiwheel_cli, make_probe(base / "probe-v2", version="1.1"), v2)
    component(wasiwheel_cli, project, s1, "-C", "component-hash-seed=first secret")
    component(wasiwheel_cli, project, s1b, env={"WASIWHEEL_COMPONENT_HASH_SEED": "first secret"})
    assert hash_of(s1) == hash_of(s1b)
    hashes = {p.name: hash_of(p) for p in (wasm, v2, s1)}
    assert len(set(hashes.values())) == len(hashes), hashes


def test_without_preinit_each_instance_has_its_own_secret(probe, wasiwheel_cli):
    base, project, _ = probe
    plain = base / "plain" / "probe.wasm"
    component(wasiwheel_cli, project, plain, "-C", "component-preinit=false")
    a, b = instances(plain, runs=2, env=[("FRESH_A", "2")], dirs=[bundle(plain)])
    assert a["hash"] != b["hash"]
    assert a["random"] != b["random"] and a["bits"] != b["bits"]
    assert a["environ"] == b["environ"] == {"FRESH_A": "2"}


def test_misspelt_hash_seed_key(tmp_path, wasiwheel_cli):
    project = make_probe(tmp_path / "p")
    out = tmp_path / "out.wasm"
    proc = component(wasiwheel_cli, project, out, "-C", "component-hash-sed=x", check=False)
    assert_refused(proc, "did you mean `component-hash-seed`?", absent=["panicked"], out=out)
