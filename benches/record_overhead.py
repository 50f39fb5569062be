"""What `leakhunt record --every 10s` costs a running service, and how long each snapshot
pauses it.

1. Throughput: testdata/services/flask_orders.py under one client thread for S seconds
   (the traffic of testdata/services/record_run.py: POST /orders, every tenth request
   GET /orders/recent), run plainly and under
   `leakhunt record --every 10s --out TMPDIR -- PY flask_orders.py PORT`, alternating
   plain/recorded twice; the median requests/s of each and the loss in %. Werkzeug's dev
   server closes the connection after each response, so every request opens a new
   loopback connection (the same for both runs).
2. Pause: a small program of this script's own builds N small objects, then calls
   `leakhunt.dump(path, fork=True, wait=True)` several times and reads each call's
   `pause_ms` (what the parent stood still for: thread stacks + fork()); the object count
   is META "objects" from `leakhunt stats FILE --format json`.

usage: python3 benches/record_overhead.py [--leakhunt PATH] [--python PY] [--seconds S]
                                          [--heap N]
Loopback only; every process started here is stopped (SIGTERM, then SIGKILL to its group).
"""

import argparse
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVICE = os.path.join(ROOT, "testdata", "services", "flask_orders.py")
DEFAULT_LEAKHUNT = os.path.join(ROOT, "target", "release", "leakhunt")
DEFAULT_PYTHON = os.path.expanduser("~/.pyenv/versions/3.11.7/bin/python3")

# the services' driver: the same traffic, port choice, health wait and stop as the tests
sys.path.insert(0, os.path.dirname(SERVICE))
from record_run import TRAFFIC, free_port, stop, wait_health  # noqa: E402

orders_request = TRAFFIC["flask_orders"]

HEALTH_TIMEOUT = 20.0   # s for the service to answer /health
WARMUP = 1.0            # s of load before measuring (not counted)
DUMPS = 7               # fork dumps in the pause test
PAUSE_TIMEOUT = 600.0   # s for the whole pause test

PAUSE_CHILD = r'''
import json, os, sys, time
import leakhunt

class Small:
    __slots__ = ("v",)
    def __init__(self, v):
        self.v = v

n, out, dumps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
keep = [Small(None) for _ in range(n)]
results = []
for k in range(dumps):
    path = os.path.join(out, "pause-%d.snap" % k)
    t = time.perf_counter()
    r = leakhunt.dump(path, step=k, label="pause test", fork=True, wait=True)
    call_ms = (time.perf_counter() - t) * 1e3
    if r is None:
        print(json.dumps({"error": "dump %d returned None" % k}), flush=True)
        sys.exit(1)
    results.append({"path": path, "pause_ms": r.get("pause_ms"), "fork_ms": r.get("fork_ms"),
                    "objects": r.get("objects"), "seconds": r.get("seconds"),
                    "call_ms": round(call_ms, 3)})
print(json.dumps({"kept": len(keep), "dumps": results}), flush=True)
'''


# ---- service runs ---------------------------------------------------------------------

def one_request(port, method, path, body):
    data, headers = None, {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10.0)
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def run_service(a, recorded, tmp, tag):
    """Start the service (plainly or under record), load it for a.seconds; return
    (req/s, requests, errors, snapshot files)."""
    port = free_port()
    snaps = os.path.join(tmp, "snaps-" + tag)
    cmd = [a.python, SERVICE, str(port)]
    if recorded:
        os.makedirs(snaps)
        cmd = [a.leakhunt, "record", "--every", "10s", "--out", snaps, "--"] + cmd
    err = open(os.path.join(tmp, tag + ".stderr"), "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err, start_new_session=True)
    try:
        if not wait_health(port, proc, time.monotonic() + HEALTH_TIMEOUT):
            raise RuntimeError(f"{tag}: service never answered /health "
                               f"(rc {proc.poll()}, see {err.name})")
        i = 0
        t_warm = time.monotonic()
        while time.monotonic() - t_warm < WARMUP:
            one_request(port, *orders_request(i))
            i += 1
        done = errors = 0
        t0 = time.monotonic()
        end = t0 + a.seconds
        while True:
            now = time.monotonic()
            if now >= end:
                break
            try:
                if one_request(port, *orders_request(i)) >= 400:
                    errors += 1
            except OSError:
                errors += 1
            i += 1
            done += 1
        elapsed = time.monotonic() - t0
        if proc.poll() is not None:
            raise RuntimeError(f"{tag}: service exited during the load (rc {proc.returncode})")
    finally:
        stop(proc)
        err.close()
    files = sorted(glob.glob(os.path.join(snaps, "*.snap"))) if recorded else []
    return done / elapsed, done, errors, files


# ---- pause test -----------------------------------------------------------------------

def python_path(leakhunt):
    out = subprocess.run([leakhunt, "python-path"], capture_output=True, text=True,
                         timeout=30, check=True).stdout.strip()
    if not out or not os.path.isdir(out):
        raise RuntimeError(f"`leakhunt python-path` gave {out!r}")
    return out


def stats_objects(leakhunt, path):
    r = subprocess.run([leakhunt, "stats", path, "--format", "json"], capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"stats {path} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace').strip()[:200]}")
    return json.loads(r.stdout)["objects"]


def pause_test(a, tmp):
    script = os.path.join(tmp, "pause_child.py")
    with open(script, "w") as f:
        f.write(PAUSE_CHILD)
    out = os.path.join(tmp, "pause")
    os.makedirs(out)
    env = dict(os.environ)
    pp = python_path(a.leakhunt)
    env["PYTHONPATH"] = pp + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen([a.python, script, str(a.heap), out, str(DUMPS)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=PAUSE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"pause test did not finish in {PAUSE_TIMEOUT:.0f}s")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.returncode != 0:
        raise RuntimeError(f"pause test exited {proc.returncode}: "
                           f"{stderr.decode(errors='replace').strip()[-300:]}")
    res = json.loads(stdout.decode().strip().splitlines()[-1])
    dumps = res["dumps"]
    objects = [stats_objects(a.leakhunt, d["path"]) for d in dumps]
    return dumps, objects


# ---- main -----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leakhunt", default=DEFAULT_LEAKHUNT)
    ap.add_argument("--python", default=DEFAULT_PYTHON if os.path.exists(DEFAULT_PYTHON)
                    else sys.executable)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--heap", type=int, default=1_000_000)
    a = ap.parse_args()
    a.leakhunt = os.path.abspath(a.leakhunt)

    print(f"leakhunt: {a.leakhunt}\npython:   {a.python}\nservice:  {SERVICE}\n"
          f"load: one client thread, {a.seconds:g} s per run (+{WARMUP:g} s warm-up), "
          f"a new connection per request", flush=True)
    tmp = tempfile.mkdtemp(prefix="leakhunt-overhead-")
    try:
        plain, recorded = [], []
        for rnd in (1, 2):
            for is_rec in (False, True):
                tag = f"{'recorded' if is_rec else 'plain'}-{rnd}"
                rps, n, errs, files = run_service(a, is_rec, tmp, tag)
                (recorded if is_rec else plain).append(rps)
                extra = f", {len(files)} snapshots" if is_rec else ""
                print(f"  {tag:<11} {rps:8.1f} req/s  ({n} requests, {errs} errors{extra})",
                      flush=True)
        p, r = statistics.median(plain), statistics.median(recorded)
        loss = (p - r) / p * 100.0
        print(f"median: plain {p:.1f} req/s, recorded {r:.1f} req/s, "
              f"ratio {r / p:.3f}, loss {loss:.1f}%", flush=True)

        dumps, objects = pause_test(a, tmp)
        print(f"pause test: {a.heap:,} small objects built, {len(dumps)} fork dumps "
              f"(wait=True, one at a time)")
        for d, n in zip(dumps, objects):
            print(f"  pause_ms {d['pause_ms']:8.3f}  fork_ms {d['fork_ms']:8.3f}  "
                  f"dump() call {d['call_ms']:9.1f} ms  child {d['seconds']:.2f} s  "
                  f"objects {n:,} (trailer {d['objects']:,})")
        pauses = [d["pause_ms"] for d in dumps]
        med, mx = statistics.median(pauses), max(pauses)
        print(f"record --every 10s: {p:.0f} -> {r:.0f} req/s ({-loss:+.1f}%, goal <= 5%); "
              f"fork pause on {max(objects):,} objects: median {med:.1f} ms, "
              f"max {mx:.1f} ms (goal <= 50 ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
