#!/usr/bin/env bash
# Run the dumper's tests under every supported CPython present (3.8-3.13).
# usage: python/tests/run_all.sh [unittest args...]   (from anywhere)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
status=0
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
  py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python3 2>/dev/null | head -n 1)
  [ -n "$py" ] || py=$(command -v "python$v" || true)
  if [ -z "$py" ]; then
    echo "SKIP $v: not installed"
    continue
  fi
  out=$("$py" -m unittest discover -s tests -t . "$@" 2>&1)
  rc=$?
  echo "== CPython $("$py" -c 'import sys; print(sys.version.split()[0])'): $(echo "$out" | grep -E '^(Ran|OK|FAILED)' | tr '\n' ' ')"
  if [ $rc -ne 0 ]; then
    echo "$out" | grep -E -A12 '^(FAIL|ERROR):' | head -n 60
    status=1
  fi
done
exit $status
