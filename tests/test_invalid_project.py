"""Invalid ``[project]`` tables: ``wasiwheel build`` must reject each one cleanly.

Each case is a ``pyproject.toml`` whose ``[project]`` table breaks the
"Declaring project metadata" specification (PEP 621, with PEP 639 licenses,
PEP 508 requirements, PEP 440 versions, PEP 685 extras, the core metadata and
entry points specifications) in exactly one way. The project around it is
otherwise well formed (a ``src/pkg/__init__.py`` package, plus whatever readme
or license files the case needs), so the table is the only thing at fault.

For every case the ``wasiwheel build DIR -o DIR/out`` command line must exit
with status 1, name the offending dotted key (``project.authors[0].email``,
``project.license``, ...) in its error, show no Python traceback and no Rust
panic, and leave nothing in the output directory.

The cases are our own text. They are modelled on the kinds of errors found in
validate-pyproject's ``tests/invalid-examples`` corpus (``pep621/``,
``pep639``, ``pep770``, ``pep794``, the readme/license/extra-name examples) and
pyproject-metadata's error tests, extended with further cases of our own.

This module is self-contained: it does not use the fixtures of
``tests/conftest.py`` (which need the CI wheelhouse); it only needs the
``wasiwheel`` command installed next to the running Python.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAD = '[project]\nname = "pkg"\nversion = "1.0"\n'


def p(body: str = "") -> str:
    """A ``[project]`` table with a valid name and version, plus ``body``."""
    return HEAD + textwrap.dedent(body).lstrip("\n")


def raw(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# (id, pyproject.toml text, dotted key the error must name)
CASES = [
    # --- the [project] table itself, unknown keys -------------------------
    ("project-not-a-table", 'project = "pkg"\n', "project"),
    ("unknown-key-author", p('author = { name = "Jane Doe" }\n'), "project.author"),
    ("unknown-key-requires", p('requires = ["requests"]\n'), "project.requires"),
    ("unknown-key-homepage", p('homepage = "https://example.org"\n'), "project.homepage"),
    ("unknown-key-sbom-files-string", p('sbom-files = "bom.cdx.json"\n'), "project.sbom-files"),
    ("pep794-import-name-not-identifier", p('import-names = ["not-an-identifier"]\n'), "project.import-names"),
    # --- name ---------------------------------------------------------------
    ("name-missing", raw('[project]\nversion = "1.0"\n'), "project.name"),
    ("name-not-string", raw('[project]\nname = 42\nversion = "1.0"\n'), "project.name"),
    ("name-empty", raw('[project]\nname = ""\nversion = "1.0"\n'), "project.name"),
    ("name-trailing-separator", raw('[project]\nname = "pkg-"\nversion = "1.0"\n'), "project.name"),
    ("name-with-space", raw('[project]\nname = "my pkg"\nversion = "1.0"\n'), "project.name"),
    ("name-listed-in-dynamic", p('dynamic = ["name"]\n'), "project.dynamic"),
    # --- version ------------------------------------------------------------
    ("version-missing", raw('[project]\nname = "pkg"\n'), "project.version"),
    ("version-missing-empty-dynamic", raw('[project]\nname = "pkg"\ndynamic = []\n'), "project.version"),
    ("version-not-pep440", raw('[project]\nname = "pkg"\nversion = "one"\n'), "project.version"),
    ("version-empty-local", raw('[project]\nname = "pkg"\nversion = "1.0+"\n'), "project.version"),
    ("version-float", raw('[project]\nname = "pkg"\nversion = 1.0\n'), "project.version"),
    ("version-table", raw('[project]\nname = "pkg"\nversion = { from-scm = true }\n'), "project.version"),
    # --- dynamic ------------------------------------------------------------
    ("dynamic-not-array", p('dynamic = "readme"\n'), "project.dynamic"),
    ("dynamic-unknown-field", p('dynamic = ["colour"]\n'), "project.dynamic"),
    ("dynamic-and-static-version", p('dynamic = ["version"]\n'), "project.version"),
    ("dynamic-and-static-readme", p('readme = "README.md"\ndynamic = ["readme"]\n'), "project.readme"),
    (
        "dynamic-and-static-entry-points",
        p('dynamic = ["entry-points"]\n\n[project.entry-points."pkg.plugins"]\nfancy = "pkg.fancy:plugin"\n'),
        "project.entry-points",
    ),
    (
        "dynamic-and-static-scripts",
        p('dynamic = ["scripts"]\n\n[project.scripts]\npkg-cli = "pkg:main"\n'),
        "project.scripts",
    ),
    # --- description --------------------------------------------------------
    ("description-not-string", p('description = ["a", "b"]\n'), "project.description"),
    # --- readme -------------------------------------------------------------
    ("readme-not-string-or-table", p("readme = true\n"), "project.readme"),
    ("readme-array", p('readme = ["README.md", "README.rst"]\n'), "project.readme"),
    ("readme-unknown-suffix", p('readme = "README.adoc"\n'), "project.readme"),
    ("readme-file-missing", p('readme = "README.md"\n'), "project.readme"),
    ("readme-file-not-utf8", p('readme = "README.md"\n'), "project.readme"),
    ("readme-is-a-directory", p('readme = "docs"\n'), "project.readme"),
    (
        "readme-table-file-and-text",
        p('readme = { file = "README.md", text = "Hello", content-type = "text/markdown" }\n'),
        "project.readme",
    ),
    ("readme-table-without-content-type", p('readme = { file = "README.rst" }\n'), "project.readme.content-type"),
    ("readme-table-text-without-content-type", p('readme = { text = "Hello" }\n'), "project.readme.content-type"),
    ("readme-table-empty", p("readme = {}\n"), "project.readme"),
    (
        "readme-table-unsupported-content-type",
        p('readme = { file = "README.md", content-type = "text/html" }\n'),
        "project.readme.content-type",
    ),
    (
        "readme-table-unknown-key",
        p('readme = { file = "README.md", content-type = "text/markdown", encoding = "utf-8" }\n'),
        "project.readme.encoding",
    ),
    (
        "readme-table-file-not-string",
        p('readme = { file = true, content-type = "text/plain" }\n'),
        "project.readme.file",
    ),
    ("readme-table-text-not-string", p('readme = { text = 7, content-type = "text/plain" }\n'), "project.readme.text"),
    (
        "readme-table-file-missing",
        p('readme = { file = "NOPE.md", content-type = "text/markdown" }\n'),
        "project.readme.file",
    ),
    # --- requires-python ----------------------------------------------------
    ("requires-python-not-string", p('requires-python = [">=3.8"]\n'), "project.requires-python"),
    ("requires-python-no-operator", p('requires-python = "3.8"\n'), "project.requires-python"),
    ("requires-python-bad-operator", p('requires-python = ">>3.8"\n'), "project.requires-python"),
    ("requires-python-wildcard-with-ge", p('requires-python = ">=3.8.*"\n'), "project.requires-python"),
    ("requires-python-compatible-one-part", p('requires-python = "~=3"\n'), "project.requires-python"),
    ("requires-python-marker-syntax", p("requires-python = \"python_version >= '3.8'\"\n"), "project.requires-python"),
    # --- dependencies -------------------------------------------------------
    ("dependencies-not-array", p('dependencies = "requests"\n'), "project.dependencies"),
    ("dependencies-item-not-string", p('dependencies = ["requests", 99]\n'), "project.dependencies[1]"),
    ("dependencies-bad-operator", p('dependencies = ["requests >>> 2"]\n'), "project.dependencies[0]"),
    ("dependencies-free-text", p('dependencies = ["definitely not a requirement!"]\n'), "project.dependencies[0]"),
    ("dependencies-unclosed-extras", p('dependencies = ["requests[security"]\n'), "project.dependencies[0]"),
    ("dependencies-bad-marker-op", p("dependencies = [\"numpy; python_version >> '3'\"]\n"), "project.dependencies[0]"),
    ("dependencies-unknown-marker", p("dependencies = [\"numpy; pythonversion > '3'\"]\n"), "project.dependencies[0]"),
    (
        "dependencies-url-without-name",
        p('dependencies = ["https://example.org/pkg-1.0.tar.gz"]\n'),
        "project.dependencies[0]",
    ),
    ("dependencies-bad-name", p('dependencies = ["-requests"]\n'), "project.dependencies[0]"),
    ("dependencies-missing-comma", p('dependencies = ["requests >=2 <3"]\n'), "project.dependencies[0]"),
    # --- optional-dependencies ----------------------------------------------
    ("optional-deps-not-table", p('optional-dependencies = ["pytest"]\n'), "project.optional-dependencies"),
    (
        "optional-deps-extra-not-array",
        p('[project.optional-dependencies]\ntest = "pytest"\n'),
        "project.optional-dependencies.test",
    ),
    (
        "optional-deps-item-not-string",
        p("[project.optional-dependencies]\ntest = [true]\n"),
        "project.optional-dependencies.test",
    ),
    (
        "optional-deps-bad-requirement",
        p('[project.optional-dependencies]\ntest = ["pytest >>> 7"]\n'),
        "project.optional-dependencies.test",
    ),
    (
        "optional-deps-extra-name-with-spaces",
        p('[project.optional-dependencies]\n"not a valid extra" = ["pytest"]\n'),
        "project.optional-dependencies",
    ),
    (
        "optional-deps-extra-name-leading-dash",
        p('[project.optional-dependencies]\n"-dev" = ["pytest"]\n'),
        "project.optional-dependencies",
    ),
    (
        "optional-deps-extras-clash-after-normalization",
        p('[project.optional-dependencies]\nDev_Tools = ["pytest"]\n"dev.tools" = ["black"]\n'),
        "project.optional-dependencies",
    ),
    # --- license (PEP 639 string, deprecated table) --------------------------
    ("license-not-string-or-table", p("license = 123\n"), "project.license"),
    ("license-empty-string", p('license = ""\n'), "project.license"),
    ("license-classifier-text", p('license = "Apache Software License"\n'), "project.license"),
    ("license-unknown-id", p('license = "Not-A-Real-License"\n'), "project.license"),
    ("license-dangling-operator", p('license = "MIT OR"\n'), "project.license"),
    ("license-unbalanced-paren", p('license = "MIT AND (Apache-2.0"\n'), "project.license"),
    ("license-slash-instead-of-or", p('license = "MIT/Apache-2.0"\n'), "project.license"),
    ("license-with-non-exception", p('license = "Apache-2.0 WITH MIT"\n'), "project.license"),
    ("license-table-empty", p("license = {}\n"), "project.license"),
    ("license-table-file-and-text", p('license = { file = "LICENSE", text = "MIT" }\n'), "project.license"),
    ("license-table-unknown-key", p('license = { spdx = "MIT" }\n'), "project.license.spdx"),
    ("license-table-text-not-string", p("license = { text = true }\n"), "project.license.text"),
    ("license-table-file-missing", p('license = { file = "COPYING.txt" }\n'), "project.license.file"),
    (
        "license-table-with-license-files",
        p('license = { text = "MIT" }\nlicense-files = ["LICENSE"]\n'),
        "project.license",
    ),
    # --- license-files (PEP 639 globs) ---------------------------------------
    ("license-files-not-array", p('license = "MIT"\nlicense-files = "LICENSE"\n'), "project.license-files"),
    ("license-files-item-not-string", p('license = "MIT"\nlicense-files = [1]\n'), "project.license-files"),
    ("license-files-matches-nothing", p('license = "MIT"\nlicense-files = ["LICENSE.txt"]\n'), "project.license-files"),
    ("license-files-parent-dir", p('license = "MIT"\nlicense-files = ["../LICENSE"]\n'), "project.license-files"),
    ("license-files-leading-slash", p('license = "MIT"\nlicense-files = ["/LICENSE"]\n'), "project.license-files"),
    (
        "license-files-backslash",
        p("license = \"MIT\"\nlicense-files = ['licenses\\LICENSE']\n"),
        "project.license-files",
    ),
    ("license-files-invalid-glob", p('license = "MIT"\nlicense-files = ["LICENSE["]\n'), "project.license-files"),
    ("license-files-negated-class", p('license = "MIT"\nlicense-files = ["[!X]ICENSE"]\n'), "project.license-files"),
    ("license-files-space-in-pattern", p('license = "MIT"\nlicense-files = ["MY LICENSE"]\n'), "project.license-files"),
    ("license-files-not-utf8", p('license = "MIT"\nlicense-files = ["LICENSE"]\n'), "project.license-files"),
    # --- authors / maintainers ----------------------------------------------
    ("authors-not-array", p('authors = { name = "Jane Doe" }\n'), "project.authors"),
    ("authors-item-string", p('authors = ["Jane Doe <jane@example.org>"]\n'), "project.authors[0]"),
    ("authors-empty-table", p("authors = [{}]\n"), "project.authors[0]"),
    (
        "authors-extra-field",
        p('authors = [{ author = "Jane", email = "jane@example.org" }]\n'),
        "project.authors[0].author",
    ),
    ("authors-name-not-string", p("authors = [{ name = 1 }]\n"), "project.authors[0].name"),
    ("authors-email-not-string", p("authors = [{ email = true }]\n"), "project.authors[0].email"),
    (
        "authors-email-no-at",
        p('authors = [{ name = "Jane", email = "jane.example.org" }]\n'),
        "project.authors[0].email",
    ),
    ("authors-email-empty-domain", p('authors = [{ name = "Jane", email = "jane@" }]\n'), "project.authors[0].email"),
    (
        "authors-email-empty-local-part",
        p('authors = [{ name = "Jane", email = "@example.org" }]\n'),
        "project.authors[0].email",
    ),
    (
        "authors-email-angle-bracket",
        p('authors = [{ name = "Jane", email = "jane@example.org>" }]\n'),
        "project.authors[0].email",
    ),
    (
        "authors-aot-second-bad-email",
        p(
            '[[project.authors]]\nname = "Jane"\nemail = "jane@example.org"\n\n'
            '[[project.authors]]\nname = "John"\nemail = "john at example.org"\n'
        ),
        "project.authors[1].email",
    ),
    (
        "authors-name-comma-with-email",
        p('authors = [{ name = "Doe, Jane", email = "jane@example.org" }]\n'),
        "project.authors[0].name",
    ),
    ("authors-name-comma-without-email", p('authors = [{ name = "Doe, Jane" }]\n'), "project.authors[0].name"),
    ("maintainers-not-array", p('maintainers = "Jane Doe"\n'), "project.maintainers"),
    ("maintainers-item-int", p("maintainers = [10]\n"), "project.maintainers[0]"),
    ("maintainers-bad-email", p('maintainers = [{ email = "not an email" }]\n'), "project.maintainers[0].email"),
    # --- keywords / classifiers ---------------------------------------------
    ("keywords-not-array", p('keywords = "wasm, wasi"\n'), "project.keywords"),
    ("keywords-item-not-string", p('keywords = ["wasm", 3]\n'), "project.keywords[1]"),
    ("classifiers-not-array", p('classifiers = "Programming Language :: Python"\n'), "project.classifiers"),
    ("classifiers-item-not-string", p("classifiers = [true]\n"), "project.classifiers[0]"),
    # --- urls ---------------------------------------------------------------
    ("urls-not-table", p('urls = ["https://example.org"]\n'), "project.urls"),
    ("urls-value-not-string", p("[project.urls]\nHomepage = 42\n"), "project.urls.Homepage"),
    ("urls-value-not-a-url", p('[project.urls]\nHomepage = "not a url"\n'), "project.urls.Homepage"),
    (
        "urls-label-over-32-chars",
        p('[project.urls]\n"Source code of the project on the forge" = "https://example.org/src"\n'),
        "project.urls",
    ),
    # --- scripts / gui-scripts ----------------------------------------------
    ("scripts-not-table", p('scripts = ["pkg:main"]\n'), "project.scripts"),
    ("scripts-value-not-string", p("[project.scripts]\npkg-cli = 1\n"), "project.scripts.pkg-cli"),
    ("scripts-reference-with-space", p('[project.scripts]\npkg-cli = "not valid"\n'), "project.scripts.pkg-cli"),
    ("scripts-reference-empty-attr", p('[project.scripts]\npkg-cli = "pkg:"\n'), "project.scripts.pkg-cli"),
    ("scripts-reference-digit-module", p('[project.scripts]\npkg-cli = "1pkg:main"\n'), "project.scripts.pkg-cli"),
    ("scripts-name-with-equals", p('[project.scripts]\n"pkg=cli" = "pkg:main"\n'), "project.scripts"),
    ("gui-scripts-not-table", p('gui-scripts = "pkg:main"\n'), "project.gui-scripts"),
    (
        "gui-scripts-reference-empty-part",
        p('[project.gui-scripts]\npkg-gui = "pkg.:main"\n'),
        "project.gui-scripts.pkg-gui",
    ),
    # --- entry-points -------------------------------------------------------
    ("entry-points-not-table", p('entry-points = ["pkg:main"]\n'), "project.entry-points"),
    (
        "entry-points-group-not-table",
        p('[project.entry-points]\n"pkg.plugins" = "pkg:main"\n'),
        "project.entry-points.pkg.plugins",
    ),
    (
        "entry-points-value-not-string",
        p('[project.entry-points."pkg.plugins"]\nfancy = 3\n'),
        "project.entry-points.pkg.plugins.fancy",
    ),
    (
        "entry-points-console-scripts",
        p('[project.entry-points.console_scripts]\npkg-cli = "pkg:main"\n'),
        "project.entry-points.console_scripts",
    ),
    (
        "entry-points-gui-scripts",
        p('[project.entry-points.gui_scripts]\npkg-gui = "pkg:main"\n'),
        "project.entry-points.gui_scripts",
    ),
    (
        "entry-points-two-colons",
        p('[project.entry-points."pkg.plugins"]\nfancy = "pkg:a:b"\n'),
        "project.entry-points.pkg.plugins.fancy",
    ),
    (
        "entry-points-nested-subtable",
        p('[project.entry-points."pkg.plugins".inner]\nfancy = "pkg:main"\n'),
        "project.entry-points.pkg.plugins.inner",
    ),
]

# Files (relative to the project directory) that a case needs so that the
# [project] table is its only fault. Cases not listed get just src/pkg/__init__.py;
# a case about a missing file deliberately has none.
FILES = {
    "dynamic-and-static-readme": {"README.md": "# pkg\n"},
    "readme-unknown-suffix": {"README.adoc": "= pkg\n"},
    "readme-file-not-utf8": {"README.md": b"# pkg \xff\xfe\xfa caf\xe9\n"},
    "readme-is-a-directory": {"docs/index.md": "# pkg\n"},
    "readme-table-file-and-text": {"README.md": "# pkg\n"},
    "readme-table-without-content-type": {"README.rst": "pkg\n===\n"},
    "readme-table-unsupported-content-type": {"README.md": "# pkg\n"},
    "readme-table-unknown-key": {"README.md": "# pkg\n"},
    "license-table-file-and-text": {"LICENSE": "MIT License\n"},
    "license-table-with-license-files": {"LICENSE": "MIT License\n"},
    "license-files-not-array": {"LICENSE": "MIT License\n"},
    "license-files-parent-dir": {"../LICENSE": "MIT License\n"},
    "license-files-leading-slash": {"LICENSE": "MIT License\n"},
    "license-files-backslash": {"licenses/LICENSE": "MIT License\n"},
    "license-files-invalid-glob": {"LICENSE": "MIT License\n"},
    "license-files-negated-class": {"LICENSE": "MIT License\n"},
    "license-files-space-in-pattern": {"MY LICENSE": "MIT License\n"},
    "license-files-not-utf8": {"LICENSE": b"MIT License \xff\xfe Copyright (c) J\xf6rg\n"},
}

_ids = [c[0] for c in CASES]
assert len(_ids) == len(set(_ids)), "duplicate case ids"
assert set(FILES) <= set(_ids), set(FILES) - set(_ids)


@pytest.fixture(scope="module")
def wasiwheel_exe() -> str:
    exe = shutil.which("wasiwheel", path=str(Path(sys.executable).parent))
    if not exe:
        pytest.fail(f"no `wasiwheel` command next to {sys.executable}")
    return exe


def names_key(text: str, key: str) -> bool:
    """Does ``text`` name ``key`` (or a sub-key of it) as a backquoted dotted key?"""
    needle = f"`{key}"
    start = 0
    while (i := text.find(needle, start)) >= 0:
        nxt = text[i + len(needle) : i + len(needle) + 1]
        if nxt in ("`", ".", "["):
            return True
        start = i + 1
    return False


BUILD_SYSTEM = '[build-system]\nrequires = ["wasiwheel"]\nbuild-backend = "wasiwheel"\n\n'

@pytest.mark.parametrize(("case_id", "toml_text", "key"), CASES, ids=_ids)
def test_invalid_project_is_rejected(tmp_path, wasiwheel_exe, case_id, toml_text, key):
    proj = tmp_path / "proj"
    (proj / "src" / "pkg").mkdir(parents=True)
    (proj / "src" / "pkg" / "__init__.py").write_text("")
    # A wasiwheel project declares its backend (without [build-system] a project
    # is setuptools', which `wasiwheel build` hands to the cross environment).
    (proj / "pyproject.toml").write_text(toml_text + "\n" + BUILD_SYSTEM)
    for rel, content in FILES.get(case_id, {}).items():
        f = proj / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            f.write_bytes(content)
        else:
            f.write_text(content)
    out = proj / "out"

    env = dict(os.environ, RUST_BACKTRACE="0")
    proc = subprocess.run(
        [wasiwheel_exe, "build", str(proj), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    report = f"exit status {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"

    assert proc.returncode == 1, f"expected exit status 1 (rejected)\n{report}"
    assert names_key(proc.stderr, key), f"error does not name `{key}`\n{report}"
    assert "pyproject.toml" in proc.stderr, f"error does not name the file\n{report}"
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, report
    assert "panicked" not in both, report
    leftovers = sorted(str(x.relative_to(out)) for x in out.rglob("*")) if out.exists() else []
    assert leftovers == [], f"left in the output directory: {leftovers}\n{report}"
