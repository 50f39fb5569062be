"""Write small real tracemalloc dumps and CPython's own answers for them.

usage: python make_dumps.py OUTDIR

Writes OUTDIR/a.pickle, b.pickle, c.pickle (a growing program, three snapshots) and
OUTDIR/expected.json: for each (key, cumulative, filters) case, the rows of
b.compare_to(a, key, cumulative) after filter_traces, plus b.statistics(...). The Rust tests
compare leakhunt's output with these files, so they pass where this CPython is absent.
Run testdata/tracemalloc/make_all.sh to refresh every version present.
"""
import json
import os
import sys
import tracemalloc
import types

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
tracemalloc.start(10)

# Modules compiled under made-up paths give many sites with deep, varied tracebacks.
SRC = """
def leaf(k, keep):
    keep.append(bytearray(16 + k % 300))
def mid(k, keep, depth):
    if depth:
        return mid(k, keep, depth - 1)
    keep.append({'k': k, 'v': [k] * (k % 5)})
    return leaf(k, keep)
def top(k, keep):
    return mid(k, keep, k % 4)
"""
NAMES = [
    "/srv/app/handlers.py",
    "/srv/app/cache.py",
    "/srv/lib/vendor/util.py",
    "<frozen fake_bootstrap>",
    "/srv/app/caf\u00e9.py",
    "/srv/app/bad\udc80name.py",  # a lone surrogate, as in a file name that is not UTF-8
]
mods = []
for i, name in enumerate(NAMES):
    mod = types.ModuleType("gen%d" % i)
    exec(compile(SRC, name, "exec"), mod.__dict__)
    mods.append(mod)

keep = []
def work(start, count):
    for k in range(start, start + count):
        mods[k % len(mods)].top(k, keep)

work(0, 600)
a = tracemalloc.take_snapshot()
work(600, 300)
del keep[:150]
b = tracemalloc.take_snapshot()
work(900, 300)
c = tracemalloc.take_snapshot()
for name, snap in (("a", a), ("b", b), ("c", c)):
    snap.dump(os.path.join(out, name + ".pickle"))

# Reload what was written, exactly as a user of tracemalloc would.
a = tracemalloc.Snapshot.load(os.path.join(out, "a.pickle"))
b = tracemalloc.Snapshot.load(os.path.join(out, "b.pickle"))

def frame_text(fr):
    return "%s:%d" % (fr.filename, fr.lineno)

def rows(stats, key, diff):
    result = []
    for s in stats:
        frames = list(s.traceback)
        row = {
            "site": frames[-1].filename if key == "filename" else frame_text(frames[-1]),
            "size": s.size,
            "count": s.count,
            "traceback": [frame_text(f) for f in frames],
        }
        if diff:
            row["size_diff"] = s.size_diff
            row["count_diff"] = s.count_diff
        result.append(row)
    return result

FILTERS = [
    ([], [], False),
    (["/srv/app/*"], [], False),
    ([], ["<frozen *>", "*/vendor/*"], False),
    (["*cache*"], [], True),
    ([], ["*handlers.py"], True),
]
cases = []
for include, exclude, all_frames in FILTERS:
    filters = [tracemalloc.Filter(True, p, all_frames=all_frames) for p in include]
    filters += [tracemalloc.Filter(False, p, all_frames=all_frames) for p in exclude]
    fa, fb = a.filter_traces(filters), b.filter_traces(filters)
    for key in ("lineno", "filename", "traceback"):
        for cumulative in ((False, True) if key != "traceback" else (False,)):
            cases.append({
                "include": include, "exclude": exclude, "all_frames": all_frames,
                "key": key, "cumulative": cumulative,
                "diff": rows(fb.compare_to(fa, key, cumulative), key, True),
                "stats": rows(fb.statistics(key, cumulative), key, False),
            })
doc = {
    "python": "%d.%d.%d" % sys.version_info[:3],
    "traces": [len(a.traces), len(b.traces)],
    "traceback_limit": b.traceback_limit,
    "cases": cases,
}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(doc, f, indent=0)
print("%s: %d and %d traces" % (out, len(a.traces), len(b.traces)))

# A tiny dump (the first 40 traces of b), still written by CPython's own pickler: the bad-input
# tests cut it at every byte offset.
tiny = tracemalloc.Snapshot(b.traces._traces[:40], b.traceback_limit)
tiny.dump(os.path.join(out, "tiny.pickle"))
