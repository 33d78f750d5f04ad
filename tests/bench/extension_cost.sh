#!/usr/bin/env bash
# Benchmark: what each WASI wheel's extension modules add to a relinked
# interpreter and to a component, in bytes and in start-up time.
#
# Usage: tests/bench/extension_cost.sh BASE.whl:MODULE WHEEL:MODULE [WHEEL:MODULE ...]
#   e.g. tests/bench/extension_cost.sh markupsafe-3.0.4-….whl:markupsafe._speedups rpds_py-….whl:rpds
#
# The first wheel is the baseline (a small C extension: the interpreter is
# relinked statically as soon as there is one, and the stock python.wasm
# keeps its debug information). For each wheel: the interpreter that
# `wasiwheel run --wheel` relinks (in a cache of the script's own, holding
# links to the real cache's SDK, CPython and C++ runtime, so the relinked
# file is found without guessing) and the pre-initialized component of a
# one-line app that imports MODULE (`wasiwheel component --wheel`), in bytes
# and against the baseline's. Start-up is timed by hyperfine in one run per
# wheel, which prints the ratios to the fastest: `-c pass` and `-c "import
# MODULE"` in the relinked interpreters of the baseline and of the wheel,
# and the two components run by `wasiwheel run --component`. Needs
# .ci/setup (the .venv with wasiwheel) and hyperfine. MODULE must import
# with the wheel alone (no other dependencies); a failing run stops hyperfine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="$root/.venv/bin/wasiwheel"
real="${WASIWHEEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wasiwheel}"
[ $# -gt 0 ] || { echo "usage: $0 WHEEL:MODULE ..." >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

private_cache() {
  local c="$work/cache-$1"
  mkdir -p "$c"
  for part in sdk python sources cxx-eh rust-std wasmtime; do
    [ -e "$real/$part" ] && ln -s "$real/$part" "$c/$part"
  done
  echo "$c"
}

app() {  # app NAME CODE: a wasiwheel project whose console script runs CODE
  mkdir -p "$work/$1/src/$1"
  printf 'def main():\n    %s\n' "$2" > "$work/$1/src/$1/__init__.py"
  cat > "$work/$1/pyproject.toml" <<TOML
[build-system]
requires = ["wasiwheel"]
build-backend = "wasiwheel"

[project]
name = "$1"
version = "1.0"

[project.scripts]
$1 = "$1:main"
TOML
}

measure() {  # measure WHEEL MODULE NAME: prints "interpreter-bytes component-bytes"
  local cache; cache=$(private_cache "$3")
  WASIWHEEL_CACHE_DIR="$cache" "$cli" run --python 3.13 --wheel "$1" -- -c pass >/dev/null
  app "app_$3" "import $2"
  "$cli" component "$work/app_$3" --wheel "$1" -o "$work/app_$3.wasm" >/dev/null 2>&1
  echo "$(stat -c %s "$(ls "$cache"/run/*/python.wasm)") $(stat -c %s "$work/app_$3.wasm")"
}

base="${1%%:*}"; base_module="${1##*:}"; shift
read -r bi bc < <(measure "$base" "$base_module" base)
printf '%-24s %12s %12s %12s %12s\n' "wheel" "interpreter" "(+ bytes)" "component" "(+ bytes)"
printf '%-24s %12s %12s %12s %12s\n' "$(basename "$base" | cut -d- -f1) (baseline)" "$bi" "" "$bc" ""
for spec in "$@"; do
  wheel="${spec%%:*}"; module="${spec##*:}"
  name=$(basename "$wheel" | cut -d- -f1)
  read -r wi wc < <(measure "$wheel" "$module" "$name")
  printf '%-24s %12s %12s %12s %12s\n' "$name" "$wi" "+$((wi - bi))" "$wc" "+$((wc - bc))"
  hyperfine -N --warmup 2 --runs 10 --export-markdown "$work/$name.md" \
    -n "baseline interpreter: pass" \
    "env WASIWHEEL_CACHE_DIR=$work/cache-base $cli run --python 3.13 --wheel $base -- -c pass" \
    -n "$name interpreter: pass" \
    "env WASIWHEEL_CACHE_DIR=$work/cache-$name $cli run --python 3.13 --wheel $wheel -- -c pass" \
    -n "$name interpreter: import $module" \
    "env WASIWHEEL_CACHE_DIR=$work/cache-$name $cli run --python 3.13 --wheel $wheel -- -c 'import $module'" \
    -n "baseline component" "$cli run --component $work/app_base.wasm" \
    -n "$name component" "$cli run --component $work/app_$name.wasm" >&2
  cat "$work/$name.md"
done
