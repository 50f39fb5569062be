#!/usr/bin/env python3
"""Record one service under `leakhunt record` the way a user would, then report.

    record_run.py LEAKHUNT PYTHON SERVICE.py OUTDIR [--requests N] [--rate R]
                  [--tracemalloc N]

Picks a free loopback port, starts
    LEAKHUNT record --every 2s --out OUTDIR/snaps -- PYTHON SERVICE.py PORT
(stdout/stderr to OUTDIR/record.stdout, OUTDIR/record.stderr), waits until
/health answers, waits 4 s for baseline snapshots, sends N requests (default
1500) at most R per second (default 300) over one keep-alive connection,
waits 10 s idle (longer, up to 40 s, until three snapshots were written since the
load ended), sends SIGTERM to the record process (SIGKILL to its process
group after 15 s), then writes `LEAKHUNT report OUTDIR/snaps --format json` to
OUTDIR/report.json and prints one line about it.  The load stops early after
25 s (the line says how many requests were sent); OUTDIR/timeline.json has the
wall-clock times of health, load start/end and SIGTERM, to set beside the
snapshots' times.  --tracemalloc N adds
`--tracemalloc N` to the record command (allocation sites; off by default).

Standard library only.  Exit 0 unless something failed to run.
"""
import argparse
import glob
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

HEALTH_TIMEOUT = 15.0      # s for the service to answer /health
BASELINE = 4.0             # s idle before the load (baseline snapshots)
QUIET = 10.0               # s idle after the load, at least
QUIET_SNAPS = 3            # ... and until this many snapshots were written since it ended
QUIET_MAX = 40.0           # s idle at most, whatever the snapshots
LOAD_BUDGET = 25.0         # s at most for the load itself; fewer requests if slower
TERM_GRACE = 15.0          # s after SIGTERM before SIGKILL
RUN_DEADLINE = 90.0        # s: report and stats get what is left of this (at least 10 s)


# ---- traffic: what each service is asked, request i of n --------------------

def _orders(i):
    items = [{"sku": f"SKU-{(i * 7 + k) % 500:04d}", "quantity": 1 + (i + k) % 4,
              "unit_price": round(3.5 + ((i * 13 + k) % 40) * 1.25, 2)}
             for k in range(1 + i % 3)]
    body = {"customer": f"customer-{i % 211}@example.test", "items": items,
            "note": "leave at the door" if i % 5 == 0 else ""}
    if i % 10 == 9:
        return "GET", "/orders/recent", None
    return "POST", "/orders", body


def _chat(i):
    room = ("lobby", "support", "random", "dev")[i % 4]
    if i % 5 == 4:
        return "POST", f"/rooms/{room}/messages", {
            "user": f"user{i % 37}", "text": f"message {i} for {room}"}
    # a client whose long-poll wait is short; most polls time out empty
    return "GET", f"/rooms/{room}/poll?user=user{i % 53}&wait=0.002", None


def _plot(i):
    metric = ("latency", "throughput", "errors", "cpu")[i % 4]
    return "GET", f"/chart.png?metric={metric}&points={30 + i % 60}&seed={i}", None


def _lru(i):
    # every key is new: the bounded cache evicts on every miss once full
    return "GET", f"/quote?from=DC{i % 17}&to=ZIP{i:06d}&grams={100 + i * 3}", None


def _default(i):
    return "GET", "/", None


TRAFFIC = {
    "flask_orders": _orders,
    "aiohttp_chat": _chat,
    "plot_service": _plot,
    "flask_lru": _lru,
}


# ---- helpers ------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes it."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.reconnects = 0

    def _connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method, path, body=None):
        headers = {"Connection": "keep-alive"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                if resp.will_close:
                    self.close()
                    self.reconnects += 1
                return resp.status, payload
            except (ConnectionError, http.client.HTTPException, socket.timeout, OSError):
                self.close()
                if attempt:
                    raise
                self.reconnects += 1
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_health(port, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
            c.request("GET", "/health")
            ok = c.getresponse().status == 200
            c.close()
            if ok:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def stop(proc):
    """SIGTERM the record process; SIGKILL its whole group after TERM_GRACE."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(TERM_GRACE)
        except subprocess.TimeoutExpired:
            pass
    killed = False
    try:
        os.killpg(proc.pid, 0)
        os.killpg(proc.pid, signal.SIGKILL)   # the group is ours (start_new_session)
        killed = proc.returncode is None
    except ProcessLookupError:
        pass
    proc.wait()
    return killed


def one_line(text, limit=200):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def quiet(snaps, proc):
    """Stay idle QUIET seconds, and on a slow machine (big heaps take longer to dump) until
    QUIET_SNAPS snapshots were written since the load ended, the first of which may have
    begun during it: what a user sees who looks a while after the load."""
    ended = time.time()
    t0 = time.monotonic()
    time.sleep(QUIET)
    while time.monotonic() - t0 < QUIET_MAX and proc.poll() is None:
        since = 0
        for path in glob.glob(os.path.join(snaps, "*.snap")):
            try:
                since += os.stat(path).st_mtime >= ended
            except OSError:
                pass
        if since >= QUIET_SNAPS:
            return
        time.sleep(0.25)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("leakhunt")
    ap.add_argument("python")
    ap.add_argument("service")
    ap.add_argument("outdir")
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--rate", type=float, default=300.0)
    ap.add_argument("--tracemalloc", type=int, default=0, metavar="N")
    a = ap.parse_args()

    t_start = time.monotonic()
    name = os.path.splitext(os.path.basename(a.service))[0]
    traffic = TRAFFIC.get(name, _default)
    os.makedirs(a.outdir, exist_ok=True)
    snaps = os.path.join(a.outdir, "snaps")
    os.makedirs(snaps, exist_ok=True)
    for old in glob.glob(os.path.join(snaps, "*.snap")):   # never mix two runs
        os.remove(old)

    port = free_port()
    cmd = [a.leakhunt, "record", "--every", "2s", "--out", snaps]
    if a.tracemalloc:
        cmd += ["--tracemalloc", str(a.tracemalloc)]
    cmd += ["--", a.python, a.service, str(port)]
    out = open(os.path.join(a.outdir, "record.stdout"), "wb")
    err = open(os.path.join(a.outdir, "record.stderr"), "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            start_new_session=True)
    timeline = {"started": time.time()}
    failed = []
    sent = errors = 0
    client = None
    load_s = 0.0
    try:
        if not wait_health(port, proc, time.monotonic() + HEALTH_TIMEOUT):
            failed.append("service never answered /health (see record.stderr)")
        else:
            timeline["healthy"] = time.time()
            time.sleep(BASELINE)
            client = Client(port)
            timeline["load_start"] = time.time()
            interval = 1.0 / a.rate if a.rate > 0 else 0.0
            t0 = time.monotonic()
            for i in range(a.requests):
                if time.monotonic() - t0 > LOAD_BUDGET or proc.poll() is not None:
                    break
                due = t0 + i * interval
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                method, path, body = traffic(i)
                try:
                    status, _ = client.request(method, path, body)
                    if status >= 400:
                        errors += 1
                except OSError:
                    errors += 1
                sent += 1
            load_s = time.monotonic() - t0
            timeline["load_end"] = time.time()
            client.close()
            if proc.poll() is not None:
                failed.append(f"record exited during the load (rc {proc.returncode})")
            else:
                quiet(snaps, proc)
    finally:
        if client is not None:
            client.close()
        timeline["sigterm"] = time.time()
        killed = stop(proc)
        timeline["record_exited"] = time.time()
        out.close()
        err.close()
    rc = proc.returncode
    if killed:
        failed.append(f"record did not stop within {TERM_GRACE:.0f}s of SIGTERM; killed")

    timeline.update(sent=sent, errors=errors, port=port, record_rc=rc,
                    reconnects=client.reconnects if client else None)
    with open(os.path.join(a.outdir, "timeline.json"), "w") as f:
        json.dump(timeline, f, indent=1)

    def left():
        return max(10.0, RUN_DEADLINE - (time.monotonic() - t_start))

    files = sorted(glob.glob(os.path.join(snaps, "*.snap")))
    report_path = os.path.join(a.outdir, "report.json")
    report = None
    try:
        with open(report_path, "wb") as f, \
                open(os.path.join(a.outdir, "report.stderr"), "wb") as ferr:
            r = subprocess.run([a.leakhunt, "report", snaps, "--format", "json"],
                               stdout=f, stderr=ferr, timeout=left())
        if r.returncode != 0:
            failed.append(f"report exited {r.returncode} (see report.stderr)")
        with open(report_path) as f:
            report = json.load(f)
    except (subprocess.TimeoutExpired, ValueError, OSError) as e:
        failed.append(f"report: {e.__class__.__name__}: {e}")

    peak = None
    for path in files:
        try:
            r = subprocess.run([a.leakhunt, "stats", path, "--format", "json"],
                               capture_output=True, timeout=left())
            n = json.loads(r.stdout).get("objects")
            if isinstance(n, int):
                peak = n if peak is None else max(peak, n)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            pass

    findings = (report or {}).get("findings") or []
    if findings:
        top = findings[0]
        top_s = "top: {} / {} / {} / site={}".format(
            top.get("kind"), top.get("leaking_type"),
            one_line(top.get("chain_text")), top.get("alloc_site"))
    else:
        top = None
        top_s = "top: -"
    print(f"{name}: snapshots={len(files)} findings={len(findings)} {top_s} "
          f"| peak_objects={peak} sent={sent} errors={errors} load={load_s:.1f}s "
          f"record_rc={rc} total={time.monotonic() - t_start:.0f}s"
          + (" | FAILED: " + "; ".join(failed) if failed else ""))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
