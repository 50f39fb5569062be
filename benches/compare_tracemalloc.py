"""leakhunt diff vs CPython's own tracemalloc on the same two ~1M-trace dumps, in one run.

usage: python3 benches/compare_tracemalloc.py [--python PY] [--traces N] [--runs R] [--data DIR]

Writes two dumps (thousands of allocation sites, tracebacks up to 10 deep) with PY (default:
pyenv's 3.11, else this interpreter), then times, alternately and R times each (median):
  CPython:  Snapshot.load(a), Snapshot.load(b), b.compare_to(a, key)
  leakhunt: leakhunt diff a b --group-by key --format json
for key = lineno and traceback, and prints the speed ratio and both peak RSS figures.
Dumps are cached in --data (default /tmp/leakhunt-bench); delete it after changing this script.
"""
import argparse, glob, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GEN = r'''
import os, sys, tracemalloc, types
out, n = sys.argv[1], int(sys.argv[2])
tracemalloc.start(10)
mods = []
for m in range(40):
    src = []
    for i in range(50):
        nxt = (i * 7 + m) % 50
        src.append(
            "def f%d(k, keep, depth):\n"
            "    keep.append(bytearray(8 + (k * %d) %% 500))\n"
            "    if depth:\n"
            "        return f%d(k + 1, keep, depth - 1)\n" % (i, i + 3, nxt))
    mod = types.ModuleType("svc_mod%d" % m)
    exec(compile("".join(src), "/srv/service/pkg%d/mod%d.py" % (m % 7, m), "exec"), mod.__dict__)
    mods.append(mod)
keep = []
def work(start, count):
    for k in range(start, start + count):
        getattr(mods[k % 40], "f%d" % (k % 50))(k, keep, k % 10)
calls = n // 5
work(0, calls)
tracemalloc.take_snapshot().dump(os.path.join(out, "a.pickle"))
work(calls, calls // 10)
del keep[: len(keep) // 20]
tracemalloc.take_snapshot().dump(os.path.join(out, "b.pickle"))
print(len(keep))
'''

COMPARE = ("import sys, tracemalloc as t; a = t.Snapshot.load(sys.argv[1]); "
           "b = t.Snapshot.load(sys.argv[2]); b.compare_to(a, sys.argv[3])")


def default_python():
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3")))
    return found[-1] if found else sys.executable


def run(cmd):
    """Wall seconds and peak RSS (KiB) of one command."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if status != 0:
        sys.exit("command failed: %s\n%s" % (" ".join(cmd), err))
    return dt, usage.ru_maxrss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=default_python())
    ap.add_argument("--traces", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", default="/tmp/leakhunt-bench")
    args = ap.parse_args()
    os.makedirs(args.data, exist_ok=True)
    a, b = os.path.join(args.data, "a.pickle"), os.path.join(args.data, "b.pickle")
    if not os.path.exists(b):
        print("writing dumps with %s ..." % args.python, flush=True)
        subprocess.run([args.python, "-c", GEN, args.data, str(args.traces)], check=True)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "leakhunt")
    mb = (os.path.getsize(a) + os.path.getsize(b)) / 1e6
    print("dumps: %s, %s (%.1f MB together), CPython %s" % (a, b, mb, args.python))
    for key in ("lineno", "traceback"):
        cpy, ours = [], []
        for _ in range(args.runs):
            cpy.append(run([args.python, "-c", COMPARE, a, b, key]))
            ours.append(run([binary, "diff", a, b, "--group-by", key, "--format", "json"]))
        ct = statistics.median(t for t, _ in cpy)
        lt = statistics.median(t for t, _ in ours)
        cm = max(m for _, m in cpy)
        lm = max(m for _, m in ours)
        print("%-9s CPython %.3f s, %6.0f MiB peak | leakhunt %.3f s, %5.0f MiB peak | %.1fx faster, %.1fx less memory"
              % (key, ct, cm / 1024, lt, lm / 1024, ct / lt, cm / lm))


if __name__ == "__main__":
    main()
