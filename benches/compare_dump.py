"""Time leakhunt.dump against the walk a user would otherwise write, on the same heap, in
one run, and print the ratios.

The heap is ~1M objects (200k instances, each with a list, a dict, a str and an int), as in
../shared/checks/dump_speed.py. The comparison is the minimal object-graph walk people
write with the stdlib (what objgraph and similar tools do): gc.get_objects(), then every
object's gc.get_referents(), each object numbered once through an id() dict, edges kept
as (source, target) numbers, nothing labelled and nothing written. leakhunt labels every
edge, finds the roots, sizes every object and writes the file.

usage: python3 benches/compare_dump.py [--items 200000] [--runs 3] [--python PY ...]
Each interpreter runs in its own process (default: CPython 3.11 from pyenv, else this one).
"""

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.join(os.path.dirname(HERE), "python")

CHILD = r'''
import gc, json, os, sys, tempfile, time
import leakhunt

class Item:
    def __init__(self, i):
        self.i = i; self.tags = ["t%d" % (i % 50)]; self.meta = {"id": i}

keep = [Item(i) for i in range(int(sys.argv[1]))]
runs = int(sys.argv[2])

def naive_walk():
    gc.disable()
    try:
        objs = gc.get_objects()
        index = {id(o): i for i, o in enumerate(objs)}
        edges = []
        i = 0
        while i < len(objs):
            for r in gc.get_referents(objs[i]):
                j = index.get(id(r))
                if j is None:
                    j = index[id(r)] = len(objs)
                    objs.append(r)
                edges.append((i, j))
            i += 1
        return len(objs), len(edges)
    finally:
        gc.enable()

out = {"python": sys.version.split()[0]}
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "bench.snap")
    best = None
    for _ in range(runs):
        t = time.perf_counter()
        res = leakhunt.dump(path)
        dt = time.perf_counter() - t
        if best is None or dt < best[0]:
            best = (dt, res)
    out["dump_s"], res = best
    out["objects"], out["edges"], out["bytes"] = res["objects"], res["edges"], res["bytes"]
    pauses = []
    for _ in range(runs):
        r = leakhunt.dump(path, fork=True, wait=True)
        pauses.append(r["pause_ms"])
    out["fork_pause_ms"] = min(pauses)
naive = []
for _ in range(runs):
    t = time.perf_counter()
    n_naive, m_naive = naive_walk()
    naive.append(time.perf_counter() - t)
out["naive_s"] = min(naive)
out["naive_objects"] = n_naive
print(json.dumps(out))
'''


def pythons(given):
    if given:
        return given
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3")))
    return found[:1] or [sys.executable]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--python", action="append")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    for py in pythons(args.python):
        p = subprocess.run([py, "-c", CHILD, str(args.items), str(args.runs)], env=env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("%s: failed: %s" % (py, p.stderr.strip().splitlines()[-1:]))
            continue
        r = json.loads(p.stdout)
        n = r["objects"]
        print("CPython %s, %d objects, %d edges (best of %d)" % (r["python"], n, r["edges"], args.runs))
        print("  leakhunt.dump        %6.3f s  %5.2f us/object  %7.0f objects/s  %4.1f bytes/object"
              % (r["dump_s"], r["dump_s"] / n * 1e6, n / r["dump_s"], r["bytes"] / n))
        print("  naive id() walk      %6.3f s  %5.2f us/object  (%d objects, no labels, no file)"
              % (r["naive_s"], r["naive_s"] / r["naive_objects"] * 1e6, r["naive_objects"]))
        print("  leakhunt / naive     %6.2fx" % (r["dump_s"] / r["naive_s"]))
        print("  fork mode: parent pause %.1f ms" % r["fork_pause_ms"])


if __name__ == "__main__":
    main()
