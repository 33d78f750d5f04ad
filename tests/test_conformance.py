"""Standards conformance of wasiwheel's artifacts, checked by tools nobody
here wrote: build (sdist, then the wheel from that sdist, with isolation), uv,
twine check --strict, check-wheel-contents, installer --validate-record,
packaging's metadata parser; byte-for-byte reproducibility; PEP 660 editables."""

import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.metadata import Metadata

from conftest import DEMO, SDISTS, pip_wheel, sh

SAMPLES = ["demo", "pure-src", "pure-flat", "dynamic-version"]


def copy_project(name, tmp_path):
    dst = tmp_path / name
    shutil.copytree(SDISTS / name, dst, ignore=shutil.ignore_patterns("build", "__pycache__", "*.so"))
    return dst


def check_artifacts(out: Path, tmp_path: Path):
    sdists = sorted(out.glob("*.tar.gz"))
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    sh([sys.executable, "-m", "twine", "check", "--strict", *sdists, *wheels])
    sh([sys.executable, "-m", "check_wheel_contents", *wheels])
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "--destdir", tmp_path / "installed", wheels[0]])
    with zipfile.ZipFile(wheels[0]) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        Metadata.from_email(z.read(meta), validate=True)
        # .dist-info is last, RECORD very last; entries are sorted within each part.
        names = z.namelist()
        assert names[-1].endswith(".dist-info/RECORD")
        body = [n for n in names if ".dist-info/" not in n]
        assert body == sorted(body)
        assert all(i.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in z.infolist())
    for sd in sdists:
        with tarfile.open(sd) as t:
            members = t.getmembers()
            top = {m.name.split("/")[0] for m in members}
            assert len(top) == 1, top
            assert [m.name for m in members] == sorted(m.name for m in members)
            assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in members)
            assert all(m.mode in (0o644, 0o755) for m in members)
            assert not any("/.git/" in m.name or "/build/" in m.name or "__pycache__" in m.name for m in members)
            pkg_info = t.extractfile(f"{top.pop()}/PKG-INFO").read()
        Metadata.from_email(pkg_info, validate=True)
    return wheels[0]


@pytest.mark.parametrize("sample", SAMPLES)
def test_build_sdist_then_wheel_from_sdist(sample, tmp_path, isolated_env):
    out = tmp_path / "dist"
    sh([sys.executable, "-m", "build", "--outdir", out, SDISTS / sample], env=isolated_env)
    check_artifacts(out, tmp_path)


def test_build_wasi_wheel_from_sdist(tmp_path, isolated_env):
    out = tmp_path / "dist"
    sh([sys.executable, "-m", "build", "-C", "target=wasm32-wasi", "--outdir", out, DEMO], env=isolated_env)
    wheel = check_artifacts(out, tmp_path)
    assert wheel.name == "wasidemo-0.3.0-cp313-cp313-wasi_0_1_sdk_25_wasm32.whl"


@pytest.mark.parametrize("sample", SAMPLES)
def test_uv_build(sample, tmp_path, wheelhouse):
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is installed by .ci/setup"
    out = tmp_path / "dist"
    sh(
        [uv, "build", "--no-index", "--find-links", wheelhouse, "--out-dir", out, SDISTS / sample],
        env={"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_PROGRESS": "1"},
    )
    check_artifacts(out, tmp_path)


def test_metadata_fields(tmp_path, isolated_env):
    out = tmp_path / "dist"
    sh([sys.executable, "-m", "build", "--wheel", "--outdir", out, SDISTS / "pure-src"], env=isolated_env)
    wheel = next(out.glob("*.whl"))
    assert wheel.name == "pure_src-2.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        raw = z.read("pure_src-2.1.0.dist-info/METADATA")
        eps = z.read("pure_src-2.1.0.dist-info/entry_points.txt").decode()
        wheel_file = z.read("pure_src-2.1.0.dist-info/WHEEL").decode()
    m = Metadata.from_email(raw, validate=True)
    assert str(m.metadata_version) == "2.4"
    assert m.license_expression == "Apache-2.0 OR MIT"
    assert sorted(m.license_files) == ["LICENSES/Apache-2.0.txt", "LICENSES/MIT.txt"]
    assert "pure_src-2.1.0.dist-info/licenses/LICENSES/MIT.txt" in names
    assert m.description_content_type == "text/x-rst"
    assert [str(e) for e in m.provides_extra] == ["docs", "test"]
    reqs = [str(r) for r in m.requires_dist]
    assert any(r.startswith("pytest>=7") and 'extra == "test"' in r for r in reqs), reqs
    assert m.author_email == "Ann Example <ann@example.org>"
    assert m.author == "Bob Example"
    assert m.project_urls == {
        "Homepage": "https://example.org/pure-src",
        "Issues": "https://example.org/pure-src/issues",
    }
    assert "[console_scripts]\npure-src = puresrc.cli:main" in eps
    assert "[gui_scripts]" in eps and "[pure_src.plugins]" in eps
    assert "Root-Is-Purelib: true" in wheel_file and "Tag: py3-none-any" in wheel_file
    assert "puresrc/py.typed" in names


def test_prepare_metadata_matches_build_wheel(tmp_path):
    """The hook's METADATA is exactly the wheel's (PEP 517)."""
    code = (
        "import sys, wasiwheel; "
        "print(wasiwheel.prepare_metadata_for_build_wheel(sys.argv[1])); "
        "print(wasiwheel.build_wheel(sys.argv[2]))"
    )
    for sample in ("pure-src", "demo"):
        project = copy_project(sample, tmp_path)
        proc = sh([sys.executable, "-c", code, tmp_path / f"{sample}-meta", tmp_path / f"{sample}-whl"], cwd=project)
        dist_info, wheel = proc.stdout.split()
        with zipfile.ZipFile(tmp_path / f"{sample}-whl" / wheel) as z:
            assert (
                z.read(f"{dist_info}/METADATA") == (tmp_path / f"{sample}-meta" / dist_info / "METADATA").read_bytes()
            )


def test_dynamic_version_and_sdist_globs(tmp_path, isolated_env):
    out = tmp_path / "dist"
    sh([sys.executable, "-m", "build", "--outdir", out, SDISTS / "dynamic-version"], env=isolated_env)
    assert sorted(p.name for p in out.iterdir()) == ["dynver-4.5.6.post1-py3-none-any.whl", "dynver-4.5.6.post1.tar.gz"]
    with tarfile.open(out / "dynver-4.5.6.post1.tar.gz") as t:
        names = t.getnames()
    assert "dynver-4.5.6.post1/src/dynver/__init__.py" in names
    assert not any("notes/" in n for n in names)


def build_all(tmp_path, tag, isolated_env, env):
    """sdist + native wheel + WASI wheel of the demo, each in a fresh build dir."""
    out = tmp_path / tag
    sh([sys.executable, "-m", "build", "--sdist", "--outdir", out, DEMO], env={**isolated_env, **env})
    for config in ([], ["target=wasm32-wasi"]):
        pip_wheel(DEMO, out, isolated_env, *config, f"build-dir={tmp_path / tag / 'objs'}", env=env)
    shutil.rmtree(out / "objs")
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("target", [None, "wasm32-wasi"])
def test_build_from_sdist_is_reproducible(tmp_path, isolated_env, target):
    """`python -m build` (the sdist, then the wheel built from it in a fresh
    random temporary directory, isolated) twice with one SOURCE_DATE_EPOCH
    gives byte-identical sdists and wheels: no build path leaks into them."""
    env = {**isolated_env, "SOURCE_DATE_EPOCH": "1700000000"}
    config = ["-C", f"target={target}"] if target else []
    runs = []
    for tag in ("one", "two"):
        out = tmp_path / tag
        sh([sys.executable, "-m", "build", "--outdir", out, *config, DEMO], env=env)
        runs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert len(runs[0]) == 2 and runs[0].keys() == runs[1].keys(), runs[0].keys()
    for name in runs[0]:
        assert runs[0][name] == runs[1][name], f"{name} differs between two builds from the sdist"


@pytest.mark.parametrize("epoch", [None, "1700000000"])
def test_reproducible(tmp_path, isolated_env, epoch):
    env = {"SOURCE_DATE_EPOCH": epoch} if epoch else {}
    first = build_all(tmp_path, "one", isolated_env, env)
    second = build_all(tmp_path, "two", isolated_env, env)
    assert len(first) == 3
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], f"{name} differs between two builds"


def test_bad_source_date_epoch(tmp_path, isolated_env):
    out = tmp_path / "out"
    proc = pip_wheel(SDISTS / "pure-flat", out, isolated_env, check=False, env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert proc.returncode != 0
    assert "SOURCE_DATE_EPOCH" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists() or not list(out.iterdir())


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    d = tmp_path_factory.mktemp("venv") / "v"
    sh([sys.executable, "-m", "venv", d])
    return d


@pytest.mark.parametrize(
    ("sample", "module", "file", "check"),
    [
        ("pure-src", "puresrc", "src/puresrc/__init__.py", "print(__import__('puresrc').greet('x'))"),
        (
            "demo",
            "wasidemo",
            "src/wasidemo/__init__.py",
            "import wasidemo; print(wasidemo.crc32(b'abc'), wasidemo.mean_std([1.0, 2.0, 4.0])[0])",
        ),
    ],
)
def test_editable_install(sample, module, file, check, tmp_path, venv, isolated_env):
    project = copy_project(sample, tmp_path)
    py = venv / "bin" / "python"
    sh([py, "-m", "pip", "install", "--no-deps", "-e", project], env=isolated_env)
    first = sh([py, "-c", check], cwd=tmp_path).stdout
    if sample == "demo":
        import zlib

        assert first.split()[0] == str(zlib.crc32(b"abc"))
    # An edit to a .py file is seen without reinstalling.
    with open(project / file, "a") as f:
        f.write("\nEDITED = 'yes'\n")
    proc = sh([py, "-c", f"import {module}; print({module}.EDITED)"], cwd=tmp_path)
    assert proc.stdout.strip() == "yes"
    sh([py, "-m", "pip", "uninstall", "-y", module if sample != "pure-src" else "pure-src"])


def test_validate_pyproject_uses_our_schema(tmp_path):
    """validate-pyproject finds the [tool.wasiwheel] schema through wasiwheel's
    `validate_pyproject.tool_schema` entry point."""
    exe = shutil.which("validate-pyproject", path=str(Path(sys.executable).parent))
    assert exe, "validate-pyproject is installed by .ci/setup"
    for sample in SAMPLES:
        sh([exe, SDISTS / sample / "pyproject.toml"])
    bad = tmp_path / "pyproject.toml"
    bad.write_text((SDISTS / "pure-flat" / "pyproject.toml").read_text() + "\n[tool.wasiwheel]\next-module = []\n")
    proc = sh([exe, bad], check=False)
    assert proc.returncode != 0
    assert "ext-module" in proc.stdout + proc.stderr


def test_requires_dist_canonical(tmp_path, wasiwheel_cli):
    """Requires-Dist is written as packaging writes it: names as given, extras
    and specifiers sorted, markers with the user's variables, double quotes,
    and `extra == "…"` appended (parenthesising an `or`)."""
    from packaging.requirements import Requirement

    project = tmp_path / "rq"
    (project / "src" / "rq").mkdir(parents=True)
    (project / "src" / "rq" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n'
        '[project]\nname = "rq"\nversion = "1"\ndependencies = [\n'
        '  "foo>=1,<2",\n'
        "  \"Bar[Extra2,extra1] ~= 3.1 ; python_version>'3.8' or os_name=='nt'\",\n"
        "  \"baz @ https://example.org/baz-1.0.tar.gz ; sys_platform == 'linux'\",\n"
        '  "A.B_c-d (>=1.0)",\n]\n'
        "[project.optional-dependencies]\n"
        "t = [\"pytest>=7; implementation_name == 'cpython' or python_version < '3.10'\", \"cov\"]\n"
    )
    sh([wasiwheel_cli, "build", project, "-o", tmp_path / "out"])
    wheel = next((tmp_path / "out").glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        meta = z.read("rq-1.dist-info/METADATA").decode()
    values = [line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Requires-Dist: ")]
    assert values == [
        "foo<2,>=1",
        'Bar[extra1,extra2]~=3.1; python_version > "3.8" or os_name == "nt"',
        'baz @ https://example.org/baz-1.0.tar.gz ; sys_platform == "linux"',
        "A.B_c-d>=1.0",
        'pytest>=7; (implementation_name == "cpython" or python_version < "3.10") and extra == "t"',
        'cov; extra == "t"',
    ]
    for v in values:
        assert str(Requirement(v)) == v
