"""The module-flow rule of docs/development.md ("Architecture") is enforced:
`.ci/lint-flow` passes on the tree and fails, naming the file, the line and
the rule, on a temporary copy with an import against the flow."""

import shutil
import subprocess

from conftest import ROOT


def lint_flow(src):
    return subprocess.run(["bash", ROOT / ".ci" / "lint-flow", src], capture_output=True, text=True)


def test_tree_follows_the_flow():
    proc = lint_flow(ROOT / "src")
    assert proc.returncode == 0, proc.stderr


def test_import_against_the_flow_fails(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src)
    objlink = src / "crossbuild" / "objlink.rs"
    objlink.write_text("use crate::runtime::wasm::RunSpec;\n" + objlink.read_text())
    cache = src / "toolchain" / "cache.rs"
    text = cache.read_text().replace("use crate::error", "use crate::pep517::config;\nuse crate::error", 1)
    cache.write_text(text)
    proc = lint_flow(src)
    assert proc.returncode == 1, proc.stderr
    assert "crossbuild/objlink.rs:1: src/crossbuild must not use crate::runtime" in proc.stderr, proc.stderr
    assert "src/toolchain must not use crate::pep517" in proc.stderr, proc.stderr


def test_unit_tests_may_run_what_they_build(tmp_path):
    """Code after a file's `#[cfg(test)]` is exempt."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src)
    compile_rs = src / "crossbuild" / "compile.rs"
    compile_rs.write_text(compile_rs.read_text() + "\n#[cfg(test)]\nmod more {\n    use crate::runtime::wasm;\n}\n")
    assert lint_flow(src).returncode == 0


def test_a_module_without_a_rule_fails(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src)
    (src / "newconcern.rs").write_text("//! A new concern.\n")
    proc = lint_flow(src)
    assert proc.returncode == 1
    assert "src/newconcern has no rule in .ci/lint-flow" in proc.stderr, proc.stderr
