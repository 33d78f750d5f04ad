#!/usr/bin/env bash
# Benchmark: wasiwheel's build_sdist and pure-Python build_wheel hooks against
# uv's build backend (uv_build) and flit-core on the same tree (the pure-src
# sample), each hook called in a fresh interpreter, timed by hyperfine in one
# run; hyperfine prints the ratios. Needs .ci/setup (the .venv with wasiwheel).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check uv_build "flit_core>=3.12"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for b in wasiwheel uv flit; do cp -r "$root/tests/sdists/pure-src" "$work/$b"; mkdir -p "$work/out-$b"; done
"$venv/bin/python" - "$work" <<'PY'
import sys
work = sys.argv[1]
for b, req, backend, extra in [
    ("uv", "uv_build", "uv_build", '\n[tool.uv.build-backend]\nmodule-name = "puresrc"\n'),
    ("flit", "flit_core>=3.12", "flit_core.buildapi", '\n[tool.flit.module]\nname = "puresrc"\n'),
]:
    p = f"{work}/{b}/pyproject.toml"
    s = open(p).read()
    s = s.replace('requires = ["wasiwheel"]', f'requires = ["{req}"]').replace('build-backend = "wasiwheel"', f'build-backend = "{backend}"')
    open(p, "w").write(s + extra)
PY
export PATH="$venv/bin:$PATH"
# One driver per backend: call one hook in a fresh interpreter.
cat > "$work/hook.py" <<'PY'
import importlib, os, sys
backend, hook, project, out = sys.argv[1:5]
os.chdir(project)
getattr(importlib.import_module(backend), hook)(out)
PY
for h in build_sdist build_wheel; do
  hyperfine -N -w 3 -r 20 \
    -n "wasiwheel $h" "$venv/bin/python $work/hook.py wasiwheel $h $work/wasiwheel $work/out-wasiwheel" \
    -n "uv_build $h" "$venv/bin/python $work/hook.py uv_build $h $work/uv $work/out-uv" \
    -n "flit_core $h" "$venv/bin/python $work/hook.py flit_core.buildapi $h $work/flit $work/out-flit"
done
