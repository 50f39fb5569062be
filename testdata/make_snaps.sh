#!/usr/bin/env bash
# Regenerate testdata/snap/: known-3.X.snap for every CPython 3.8-3.13 present (the
# program testdata/programs/known_graph.py, dumped in-process), and registry-{1,2,3}.snap
# (testdata/programs/registry_leak.py) on 3.11. usage: testdata/make_snaps.sh
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$here/snap
mkdir -p "$out"
find_py() { ls -d "$HOME"/.pyenv/versions/$1.*/bin/python3 2>/dev/null | head -n 1 || true; }
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
  py=$(find_py $v)
  if [ -z "$py" ]; then echo "SKIP $v: not installed"; continue; fi
  (cd "$out" && "$py" "$here/programs/known_graph.py" "$out/known-$v.snap")
  echo "known-$v.snap: $(wc -c < "$out/known-$v.snap") bytes"
done
py=$(find_py 3.11)
if [ -n "$py" ]; then
  (cd "$out" && "$py" "$here/programs/registry_leak.py" "$out")
  for k in 1 2 3; do echo "registry-$k.snap: $(wc -c < "$out/registry-$k.snap") bytes"; done
else
  echo "SKIP registry-*.snap: CPython 3.11 not installed"
fi
