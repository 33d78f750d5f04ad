"""Static links keep extension modules apart: modules with the same last name
component (`alpha._speedups`, `beta._speedups`) and the same global helper
symbols run side by side in one relinked interpreter and in one component; a
module named like CPython's `_json` does not replace it; wheels built before
(manifest version 1) still relink; two providers of one dotted module fail
naming both."""

import json
import zipfile
from pathlib import Path

import pytest

from conftest import SDISTS, assert_refused, component, pip_wheel, run_python, sdk_dir, sh, target_python_prefix
from wasm_binary import export_names

SAMPLES = ["speedups-alpha", "speedups-beta", "json-shadow", "speedups-twin"]


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, isolated_env):
    """Each sample's WASI wheel, by sample name."""
    out = {}
    for s in SAMPLES:
        d = tmp_path_factory.mktemp(s)
        pip_wheel(SDISTS / s, d, isolated_env, "target=wasm32-wasi")
        (w,) = d.glob("*.whl")
        out[s] = w
    return out


def manifest(wheel):
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith("static-extensions/manifest.json")]
        return json.loads(z.read(name)), z


SPEEDUPS = (
    "import json, alpha._speedups as a, beta._speedups as b; "
    "print(json.dumps({'alpha': [a.name(), a.transform(7)], 'beta': [b.name(), b.transform(7)]}))"
)


def test_manifest_names_unique_init_and_dylib_keeps_standard(wheels):
    m, z = manifest(wheels["speedups-alpha"])
    assert m["version"] == 2
    (entry,) = m["modules"]
    assert entry["name"] == "alpha._speedups" and entry["init"] == "PyInit_5alpha9_speedups", entry
    so = [n for n in z.namelist() if n.startswith("alpha/_speedups.") and n.endswith(".so")]
    assert len(so) == 1, z.namelist()
    with zipfile.ZipFile(wheels["speedups-alpha"]) as zz:
        assert "PyInit__speedups" in export_names(zz.read(so[0]))
    m, _ = manifest(wheels["json-shadow"])
    assert m["modules"][0]["init"] == "PyInit_9shadowpkg5_json"


def test_same_leaf_modules_each_their_own(wheels, wasiwheel_cli):
    proc = run_python(wasiwheel_cli, SPEEDUPS, [wheels["speedups-alpha"], wheels["speedups-beta"]])
    # alpha's helper is x + 1, beta's x * 100; each module's `flavour` is its own.
    assert json.loads(proc.stdout) == {"alpha": ["alpha", 8], "beta": ["beta", 700]}


def test_module_named_like_stdlib_does_not_replace_it(wheels, wasiwheel_cli):
    code = (
        "import json, json.decoder, json.encoder, _json, shadowpkg._json as s; "
        "print(json.dumps({'c_scanstring': json.decoder.c_scanstring is not None, "
        "'c_encoder': json.encoder.c_make_encoder is not None, 'stdlib': _json.__name__, "
        "'has_scanstring': hasattr(_json, 'scanstring'), 'sample': s.origin(), 'sample_name': s.__name__, "
        "'dumps': json.dumps({'a': [1, 'é']}), "
        "'alpha': __import__('alpha._speedups').__dict__['_speedups'].transform(1)}))"
    )
    proc = run_python(wasiwheel_cli, code, [wheels["json-shadow"], wheels["speedups-alpha"]])
    got = json.loads(proc.stdout)
    assert got == {
        "c_scanstring": True,
        "c_encoder": True,
        "stdlib": "_json",
        "has_scanstring": True,
        "sample": "shadowpkg._json 1000",
        "sample_name": "shadowpkg._json",
        "dumps": '{"a": [1, "\\u00e9"]}',
        "alpha": 2,
    }, got


def test_same_dotted_module_twice_fails_naming_both(wheels, wasiwheel_cli):
    proc = run_python(wasiwheel_cli, "pass", [wheels["speedups-alpha"], wheels["speedups-twin"]], check=False)
    assert_refused(
        proc,
        "the extension module `alpha._speedups` is provided twice",
        wheels["speedups-alpha"].name,
        wheels["speedups-twin"].name,
        status=1,
        absent=["panicked", "Traceback"],
    )


def v1_wheel(wheel: Path, sample: str, out_dir: Path) -> Path:
    """`wheel` as wasiwheel wrote it before modules were namespaced: manifest
    version 1 with `init` = `PyInit__speedups` and an archive of the objects
    as compiled (by the SDK's clang here)."""
    sdk = sdk_dir(25)
    include = target_python_prefix("3.13") / "include" / "python3.13"
    work = out_dir / f"{sample}-objs"
    work.mkdir()
    objs = []
    for src in ["speedups.c", "helper.c"]:
        o = work / f"{src}.o"
        cc = [sdk / "bin/clang", "--target=wasm32-wasip1", "-fPIC", "-O2", f"-I{include}", "-c"]
        sh([*cc, SDISTS / sample / "csrc" / src, "-o", o])
        objs.append(o)
    m, _ = manifest(wheel)
    (entry,) = m["modules"]
    archive = work / entry["archive"]
    sh([sdk / "bin/llvm-ar", "rcsD", archive, *objs])
    m["version"] = 1
    entry["init"] = "PyInit__speedups"
    out = out_dir / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("static-extensions/manifest.json"):
                data = json.dumps(m, indent=2).encode()
            elif info.filename.endswith("static-extensions/" + entry["archive"]):
                data = archive.read_bytes()
            dst.writestr(info, data)
    return out


def test_version_1_wheels_still_relink(wheels, wasiwheel_cli, tmp_path):
    old_a = v1_wheel(wheels["speedups-alpha"], "speedups-alpha", tmp_path)
    old_b = v1_wheel(wheels["speedups-beta"], "speedups-beta", tmp_path)
    assert manifest(old_a)[0]["version"] == 1
    # The two archives define the same PyInit__speedups, helper and flavour:
    # they are namespaced at relink time.
    proc = run_python(wasiwheel_cli, SPEEDUPS, [old_a, old_b])
    assert json.loads(proc.stdout) == {"alpha": ["alpha", 8], "beta": ["beta", 700]}
    # A version-1 wheel with a version-2 wheel.
    proc = run_python(wasiwheel_cli, SPEEDUPS, [old_a, wheels["speedups-beta"]])
    assert json.loads(proc.stdout) == {"alpha": ["alpha", 8], "beta": ["beta", 700]}


def test_unknown_manifest_version_is_refused(wheels, wasiwheel_cli, tmp_path):
    m, _ = manifest(wheels["speedups-beta"])
    m["version"] = 99
    out = tmp_path / wheels["speedups-beta"].name
    with zipfile.ZipFile(wheels["speedups-beta"]) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("static-extensions/manifest.json"):
                data = json.dumps(m).encode()
            dst.writestr(info, data)
    proc = run_python(wasiwheel_cli, "pass", [out], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "has version 99" in text and "upgrade wasiwheel" in text, text


def test_component_with_both_speedups(wheels, wasiwheel_cli, tmp_path):
    out = tmp_path / "both.wasm"
    component(wasiwheel_cli, SDISTS / "speedups-alpha", out, "--wheel", wheels["speedups-beta"])
    proc = sh([wasiwheel_cli, "run", "--component", out, "--", "7"])
    expected = {"alpha": {"name": "alpha", "transform": 8}, "beta": {"name": "beta", "transform": 700}}
    assert json.loads(proc.stdout) == expected
    # The project's own module and a component wheel's with the same dotted name.
    bad = tmp_path / "bad.wasm"
    proc = component(wasiwheel_cli, SDISTS / "speedups-alpha", bad, "--wheel", wheels["speedups-twin"], check=False)
    assert_refused(
        proc,
        "`alpha._speedups` is provided twice, by the project speedups-alpha and by",
        wheels["speedups-twin"].name,
        status=1,
        out=bad,
    )
