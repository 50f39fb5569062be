#!/usr/bin/env bash
# Refresh testdata/tracemalloc/<version>/ with every CPython 3.8-3.13 under pyenv.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
  py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python3 2>/dev/null | head -n 1 || true)
  if [ -z "$py" ]; then echo "SKIP $v: not installed"; continue; fi
  rm -rf "$here/$v"
  (cd "$here" && "$py" make_dumps.py "$v")
done
