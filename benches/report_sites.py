"""`leakhunt report` on three ~2.2M-object snapshots with allocation sites, two binaries side
by side (e.g. the last release and this build): wall time and peak RSS of each, and the ratios.

usage: python3 benches/report_sites.py --baseline OLD_BIN [--new target/release/leakhunt]
           [--python PY] [--units 300000] [--data DIR] [--runs 3]

The heap: UNITS records of ~7 objects (an instance, its dict, a list, a str, bytes) made under
tracemalloc, and between the snapshots UNITS/20 more records kept in a module-level list: the
report then finds one leak with its allocation sites. Snapshots are written once to DIR
(default /tmp/leakhunt-bench-sites) and reused; delete DIR after changing the generator.
CPython 3.8-3.10 dump traced heaps fastest; the newest of those present is used by default."""

import argparse
import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

PROGRAM = r'''
import os, sys, tracemalloc
tracemalloc.start(5)
sys.path.insert(0, os.path.join(%(repo)r, "python"))
import leakhunt

class Record:
    def __init__(self, i):
        self.name = "record-%%d" %% i
        self.tags = [i, "t%%d" %% (i %% 97)]
        self.blob = b"x" * (i %% 64)

def make(i):
    return Record(i)

units = %(units)d
KEEP = [make(i) for i in range(units)]
HISTORY = []
for k in (1, 2, 3):
    if k > 1:
        HISTORY.extend(make(units * k + i) for i in range(units // 20))
    leakhunt.dump(os.path.join(%(out)r, "sites-%%d.snap" %% k), step=k * 1000)
'''


def pick_python():
    for v in ("3.10", "3.9", "3.8", "3.12", "3.13", "3.11"):
        found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s.*/bin/python3" % v)))
        if found:
            return found[-1]
    return sys.executable


def snapshots(py, units, data):
    paths = [os.path.join(data, "sites-%d.snap" % k) for k in (1, 2, 3)]
    if all(os.path.isfile(p) for p in paths):
        return paths
    os.makedirs(data, exist_ok=True)
    src = PROGRAM % {"repo": REPO, "units": units, "out": data}
    t0 = time.monotonic()
    subprocess.run([py, "-c", src], check=True)
    print("wrote 3 snapshots with %s in %.1f s" % (py, time.monotonic() - t0))
    return paths


def measure(binary, paths):
    """Run `binary` in a fresh Python child so its peak RSS is its own."""
    code = ("import resource, subprocess, sys, time\n"
            "t0 = time.monotonic()\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
            "print(time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, binary, "report"] + paths
                         + ["--format", "json"], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout.split()
    return float(out[0]), int(out[1]) * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--new", default=os.path.join(REPO, "target", "release", "leakhunt"))
    ap.add_argument("--python", default=None)
    ap.add_argument("--units", type=int, default=300000)
    ap.add_argument("--data", default="/tmp/leakhunt-bench-sites")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    paths = snapshots(a.python or pick_python(), a.units, a.data)
    stats = subprocess.run([a.new, "stats", paths[0], "--format", "json"], check=True,
                           stdout=subprocess.PIPE, universal_newlines=True).stdout
    objects = int(__import__("json").loads(stats)["objects"])
    results = {}
    for label, binary in (("baseline", a.baseline), ("new", a.new)):
        runs = sorted(measure(binary, paths) for _ in range(a.runs))
        results[label] = (runs[len(runs) // 2][0], max(r[1] for r in runs))
    print("snapshots: 3 x %d objects (%s)" % (objects, a.data))
    for label in ("baseline", "new"):
        s, rss = results[label]
        print("%-8s median %.2f s  peak RSS %.0f MiB  (%.1f B/object/snapshot)"
              % (label, s, rss / 2**20, rss / (3.0 * objects)))
    (sb, rb), (sn, rn) = results["baseline"], results["new"]
    print("ratio new/baseline: time %.2fx  memory %.2fx" % (sn / sb, rn / rb))


if __name__ == "__main__":
    main()
