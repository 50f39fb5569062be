#!/usr/bin/env bash
# Run the dumper's tests under every supported CPython present (3.8-3.13), as many versions
# at a time as there are CPUs (LEAKHUNT_TEST_JOBS overrides), each version's report printed
# whole and in order.
# usage: python/tests/run_all.sh [unittest args...]   (from anywhere)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
jobs=${LEAKHUNT_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

run_one() {  # version python -> $tmp/$version.{out,rc}
  local v=$1 py=$2
  shift 2
  "$py" -m unittest discover -s tests -t . "$@" >"$tmp/$v.out" 2>&1
  echo $? >"$tmp/$v.rc"
}

versions=()
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
  py=$(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python3 2>/dev/null | head -n 1)
  [ -n "$py" ] || py=$(command -v "python$v" || true)
  if [ -z "$py" ]; then
    echo "SKIP $v: not installed"
    continue
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n 2>/dev/null || sleep 0.2
  done
  run_one "$v" "$py" "$@" &
  versions+=("$v:$py")
done
wait

status=0
for entry in "${versions[@]}"; do
  v=${entry%%:*}
  py=${entry#*:}
  out=$(cat "$tmp/$v.out" 2>/dev/null)
  rc=$(cat "$tmp/$v.rc" 2>/dev/null || echo 1)
  echo "== CPython $("$py" -c 'import sys; print(sys.version.split()[0])'): $(echo "$out" | grep -E '^(Ran|OK|FAILED)' | tr '\n' ' ')"
  if [ "$rc" -ne 0 ]; then
    echo "$out" | grep -E -A12 '^(FAIL|ERROR):' | head -n 60
    status=1
  fi
done
exit $status
