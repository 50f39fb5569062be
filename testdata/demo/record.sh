#!/usr/bin/env bash
# Re-record the README's demo: quote_service.py under `leakhunt record --every 2s
# --tracemalloc 10` (testdata/services/record_run.py: a baseline spell, 400 requests at 40 per
# second on loopback, a quiet spell, SIGTERM), then keep five of its snapshots in snaps/: the
# baseline, two taken under load and two taken idle after it (the full series is ~50 MB).
# usage: testdata/demo/record.sh [PYTHON]   (from the repository root, after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${1:-$(ls -d "$HOME"/.pyenv/versions/3.11.*/bin/python3 | head -n 1)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$py" testdata/services/record_run.py target/release/leakhunt "$py" \
  testdata/demo/quote_service.py "$out" --requests 400 --rate 40 --tracemalloc 10
rm -f testdata/demo/snaps/*.snap
mkdir -p testdata/demo/snaps
for n in 000001 000004 000006 000007 000008; do
  cp "$out"/snaps/snap-$n-*.snap testdata/demo/snaps/
done
target/release/leakhunt report testdata/demo/snaps --source testdata/demo
