"""Shared driver for the leak programs: warm up, then dump three snapshots a step apart.

Each program defines `step(n)` (one unit of its workload) and calls `run(step)`. usage:
python PROGRAM.py OUTDIR -> OUTDIR/NAME-{1,2,3}.snap, 100 workload units between dumps.
With LEAKHUNT_TRACEMALLOC=N in the environment, tracemalloc traces N frames from the start,
so the snapshots record each object's allocation site."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python"))
import leakhunt  # noqa: E402

UNITS = 100


def run(step, name, units=UNITS):
    out = sys.argv[1]
    if os.environ.get("LEAKHUNT_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start(int(os.environ["LEAKHUNT_TRACEMALLOC"]))
    n = 0
    for _ in range(units):  # warm up: caches and interned names settle before the first dump
        step(n)
        n += 1
    for k in (1, 2, 3):
        if k > 1:
            for _ in range(units):
                step(n)
                n += 1
        if leakhunt.dump(os.path.join(out, "%s-%d.snap" % (name, k)), step=n, label=name) is None:
            sys.exit(1)
