#!/usr/bin/env bash
# Regenerate testdata/snap/corpus/: three snapshots of each program in testdata/leaks/, with
# tracemalloc recording 10 frames per object (CPython 3.12 when present, else pass one).
# Programs whose imports are missing (numpy, matplotlib) are skipped with a message.
# usage: testdata/make_corpus_snaps.sh [PYTHON]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=${1:-$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3 2>/dev/null | head -n 1 || true)}
[ -n "$py" ] || { echo "no CPython 3.12 found; pass an interpreter"; exit 1; }
out=$here/snap/corpus
rm -rf "$out"; mkdir -p "$out"
for prog in "$here"/leaks/[a-z]*.py; do
  # Figures (~20 MB a dump) and the live_* variants are tested live only.
  case $(basename "$prog") in figure_*|live_*) continue;; esac
  if ! (cd "$out" && LEAKHUNT_TRACEMALLOC=10 "$py" "$prog" "$out" 2>/tmp/corpus-err.txt); then
    echo "skipped $(basename "$prog"): $(tail -n 1 /tmp/corpus-err.txt)"
  fi
done
ls -la "$out"
