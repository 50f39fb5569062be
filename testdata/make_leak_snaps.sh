#!/usr/bin/env bash
# Regenerate testdata/snap/leaks/: three snapshots of each program in
# testdata/programs/leaks/ (CPython 3.12 when present, else the first 3.8-3.13 found).
# usage: testdata/make_leak_snaps.sh [PYTHON]
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=${1:-$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3 2>/dev/null | head -n 1 || true)}
[ -n "$py" ] || { echo "no CPython 3.12 found; pass an interpreter"; exit 1; }
out=$here/snap/leaks
rm -rf "$out"; mkdir -p "$out"
for prog in "$here"/programs/leaks/[a-z]*.py; do
  (cd "$out" && "$py" "$prog" "$out")
done
ls -la "$out"
