#!/usr/bin/env python3
"""Score `leakhunt report` against the hand-written truth of the accuracy corpus.

usage: python3 testdata/accuracy/score.py [--leakhunt BIN] [--python PY] [--frames 10]
                                          [--jobs 2] [--min 95] [--only NAME ...] [--keep DIR [--reuse]]

Every *.py beside this file (except this one and files starting with "_") is a program that
uses the shared leak harness. Each is run with LEAKHUNT_TRACEMALLOC=<frames> to write three
snapshots, then `BIN report N-1.snap N-2.snap N-3.snap --format json` is scored:

- leaking programs (`# truth: kind=/type=/retainer=` lines and one `# <- alloc` line) on
  findings[0]: kind equal, leaking_type equal (the truth may list `a|b`), the truth retainer
  a substring of chain_text, alloc_site naming this file (basename) and the `# <- alloc` line;
- clean programs (`# truth: clean`) pass when findings is empty.

Exit 0 when every field reaches --min percent and every clean program is clean, 1 otherwise,
2 on a usage error or when no program ran. Standard library only, Python 3.8+.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIELDS = ("kind", "type", "retainer", "site")
TIMEOUT = 300
ALLOC_MARK = "# <- alloc"
TRUTH_RE = re.compile(r"^\s*#\s*truth:\s*(.*?)\s*$")


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------------- truth

def parse_truth(path):
    """Return a dict: clean (bool), kind, type, retainer, line (alloc line) or error (str)."""
    truth = {"clean": False}
    alloc_lines = []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return {"error": "cannot read: %s" % exc}
    for lineno, line in enumerate(lines, 1):
        m = TRUTH_RE.match(line)
        if m:
            body = m.group(1)
            if body == "clean":
                truth["clean"] = True
            elif "=" in body:
                key, _, value = body.partition("=")
                key, value = key.strip(), value.strip()
                if key not in ("kind", "type", "retainer"):
                    return {"error": "line %d: unknown truth field %r" % (lineno, key)}
                if key in truth:
                    return {"error": "line %d: truth field %r given twice" % (lineno, key)}
                truth[key] = value
            else:
                return {"error": "line %d: cannot parse truth line %r" % (lineno, line.strip())}
        if line.rstrip().endswith(ALLOC_MARK):
            alloc_lines.append(lineno)
    if truth["clean"]:
        if any(k in truth for k in ("kind", "type", "retainer")) or alloc_lines:
            return {"error": "a clean program carries kind/type/retainer truth or a %r line" % ALLOC_MARK}
        return truth
    missing = [k for k in ("kind", "type", "retainer") if not truth.get(k)]
    if missing:
        return {"error": "no truth for %s" % ", ".join(missing)}
    if len(alloc_lines) != 1:
        return {"error": "expected exactly one %r line, found %d" % (ALLOC_MARK, len(alloc_lines))}
    truth["line"] = alloc_lines[0]
    return truth


# ---------------------------------------------------------------------------- running

def last_line(text):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1] if lines else "(no output)"


def is_import_failure(stderr):
    tail = last_line(stderr)
    return tail.startswith(("ModuleNotFoundError", "ImportError"))


def run_one(prog, py, bin_, frames, keep, reuse=False):
    """Run the program (unless `reuse` finds its snapshots under `keep`) and the report.
    Returns a result dict."""
    name = os.path.splitext(os.path.basename(prog))[0]
    res = {"name": name, "prog": prog}
    workdir = tempfile.mkdtemp(prefix="leakhunt-acc-%s-" % name)
    try:
        if keep:
            outdir = os.path.join(keep, name)
            if reuse and os.path.isfile(os.path.join(outdir, "%s-3.snap" % name)):
                return report_one(res, name, outdir, bin_, workdir)
            shutil.rmtree(outdir, ignore_errors=True)
            os.makedirs(outdir)
        else:
            outdir = os.path.join(workdir, "out")
            os.makedirs(outdir)
        cwd = os.path.join(workdir, "cwd")
        os.makedirs(cwd)
        env = dict(os.environ)
        env["LEAKHUNT_TRACEMALLOC"] = str(frames)
        proc = timed_run([py, prog, outdir], res, "run_s", "program", cwd=cwd, env=env)
        if proc is None:
            return res
        if proc.returncode != 0:
            if is_import_failure(proc.stderr):
                res["skipped"] = last_line(proc.stderr)
            else:
                res["error"] = "program exited %d: %s" % (proc.returncode, last_line(proc.stderr))
            return res
        snaps = snap_paths(outdir, name)
        absent = [os.path.basename(s) for s in snaps if not os.path.isfile(s)]
        if absent:
            res["error"] = "program wrote no %s (%s)" % (", ".join(absent), last_line(proc.stderr))
            return res
        return report_one(res, name, outdir, bin_, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def snap_paths(outdir, name):
    return [os.path.join(outdir, "%s-%d.snap" % (name, k)) for k in (1, 2, 3)]


def timed_run(cmd, res, key, what, **kw):
    """Run `cmd` (stdout, stderr captured as text, TIMEOUT), its seconds into res[key];
    None with res["error"] set when it timed out or could not start."""
    t0 = time.monotonic()
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT,
                              universal_newlines=True, errors="replace", **kw)
    except subprocess.TimeoutExpired:
        res["error"] = "%s timed out after %d s" % (what, TIMEOUT)
    except OSError as exc:
        res["error"] = "cannot run %s: %s" % (cmd[0], exc)
    finally:
        res[key] = time.monotonic() - t0
    return None


def report_one(res, name, outdir, bin_, workdir):
    """Run the report on the program's three snapshots in `outdir`; fills `res`."""
    cwd = os.path.join(workdir, "cwd")
    os.makedirs(cwd, exist_ok=True)
    cmd = [bin_, "report"] + snap_paths(outdir, name) + ["--format", "json"]
    rep = timed_run(cmd, res, "report_s", "report", cwd=cwd)
    if rep is None:
        return res
    if rep.returncode != 0:
        res["error"] = "report exited %d: %s" % (rep.returncode, last_line(rep.stderr))
        return res
    try:
        doc = json.loads(rep.stdout)
        findings = doc["findings"]
        if not isinstance(findings, list):
            raise TypeError("findings is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        res["error"] = "report output is not the expected JSON: %s" % exc
        return res
    res["findings"] = findings
    return res


# ---------------------------------------------------------------------------- scoring

def site_matches(alloc_site, prog, line):
    if not isinstance(alloc_site, str):
        return False
    path, sep, num = alloc_site.rpartition(":")
    if not sep:
        return False
    try:
        lineno = int(num)
    except ValueError:
        return False
    base = re.split(r"[\\/]", path)[-1]
    return base == os.path.basename(prog) and lineno == line


def score_leaking(truth, res):
    """Return ({field: bool}, {field: what the tool said})."""
    findings = res.get("findings") or []
    if not findings:
        said = "no finding" if "findings" in res else res.get("error", "no result")
        return {f: False for f in FIELDS}, {f: said for f in FIELDS}
    top = findings[0] if isinstance(findings[0], dict) else {}
    kind, typ = top.get("kind"), top.get("leaking_type")
    chain, site = top.get("chain_text"), top.get("alloc_site")
    ok = {
        "kind": kind == truth["kind"],
        "type": typ in [t.strip() for t in truth["type"].split("|")],
        "retainer": isinstance(chain, str) and truth["retainer"] in chain,
        "site": site_matches(site, res["prog"], truth["line"]),
    }
    said = {"kind": kind, "type": typ, "retainer": chain, "site": site}
    return ok, said


def fmt_leaking(name, truth, ok, said):
    parts = []
    for f in FIELDS:
        if ok[f]:
            parts.append("%s ✓" % f)
        else:
            parts.append("%s ✗ (tool: %s)" % (f, said[f]))
    return "%-32s %s" % (name, "  ".join(parts))


def newest_python():
    """The pyenv CPython to run the corpus on: 3.12 when numpy and matplotlib import there
    (its traced dumps are the faster), else 3.11 (the newest patch of each), else python3."""
    found = []
    for minor in ("3.12", "3.11"):
        best, best_key = None, None
        for path in glob.glob(os.path.expanduser("~/.pyenv/versions/%s.*/bin/python3" % minor)):
            ver = path.split(os.sep)[-3]
            try:
                key = tuple(int(x) for x in ver.split("."))
            except ValueError:
                continue
            if os.access(path, os.X_OK) and (best_key is None or key > best_key):
                best, best_key = path, key
        if best:
            found.append(best)
    for py in found:
        probe = subprocess.run([py, "-c", "import numpy, matplotlib"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        if probe.returncode == 0:
            return py
    return (found[-1] if found else None) or shutil.which("python3") or "python3"


def pct(n, d):
    return 100.0 * n / d if d else 0.0


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(2)


def main(argv=None):
    try:
        sys.stdout.reconfigure(errors="replace")
    except (AttributeError, ValueError):
        pass
    ap = Parser(prog="score.py", description="score leakhunt against the accuracy corpus")
    ap.add_argument("--leakhunt", metavar="BIN", default=os.path.join(REPO, "target", "release", "leakhunt"))
    ap.add_argument("--python", metavar="PY", default=None)
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min", type=float, default=95.0, dest="min_pct")
    ap.add_argument("--only", nargs="+", action="append", metavar="NAME", default=[])
    ap.add_argument("--keep", metavar="DIR", default=None)
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: score the snapshots already kept there instead of re-running")
    args = ap.parse_args(argv)

    try:
        if args.frames < 1:
            raise UsageError("--frames must be at least 1")
        if args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        bin_ = os.path.abspath(args.leakhunt)
        if not (os.path.isfile(bin_) and os.access(bin_, os.X_OK)):
            raise UsageError("leakhunt binary not found or not executable: %s" % bin_)
        py = args.python or newest_python()
        if os.sep in py:
            py = os.path.abspath(py)
            if not os.access(py, os.X_OK):
                raise UsageError("python not found or not executable: %s" % py)
        elif shutil.which(py) is None:
            raise UsageError("python not found on PATH: %s" % py)
        keep = None
        if args.keep:
            keep = os.path.abspath(args.keep)
            os.makedirs(keep, exist_ok=True)
        me = os.path.abspath(__file__)
        progs = sorted(p for p in glob.glob(os.path.join(HERE, "*.py"))
                       if os.path.abspath(p) != me and not os.path.basename(p).startswith("_"))
        only = [n[:-3] if n.endswith(".py") else n for group in args.only for n in group]
        if only:
            names = {os.path.splitext(os.path.basename(p))[0]: p for p in progs}
            unknown = [n for n in only if n not in names]
            if unknown:
                raise UsageError("no such program: %s" % ", ".join(unknown))
            progs = [names[n] for n in sorted(set(only))]
        if not progs:
            raise UsageError("no programs in %s" % HERE)
    except (UsageError, OSError) as exc:
        sys.stderr.write("score.py: error: %s\n" % exc)
        return 2

    print("leakhunt %s\npython   %s\nframes %d, jobs %d, %d programs" % (bin_, py, args.frames, args.jobs, len(progs)))
    truths = {p: parse_truth(p) for p in progs}
    started = time.monotonic()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {}
        # The longest first (the plotting programs), so no long one is left running alone.
        def heavy(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                return "matplotlib" in f.read()
        for p in sorted(progs, key=lambda p: not heavy(p)):
            if "error" in truths[p]:
                continue
            futs[pool.submit(run_one, p, py, bin_, args.frames, keep, args.reuse)] = p
        for fut in concurrent.futures.as_completed(futs):
            p = futs[fut]
            try:
                results[p] = fut.result()
            except Exception as exc:  # keep scoring the others
                results[p] = {"name": os.path.basename(p)[:-3], "prog": p, "error": "scorer error: %r" % exc}

    right = {f: 0 for f in FIELDS}
    n_leak = n_neg = n_neg_clean = extra = ran = skipped = 0
    print()
    for p in progs:
        name = os.path.splitext(os.path.basename(p))[0]
        truth = truths[p]
        if "error" in truth:
            print("%-32s BAD TRUTH: %s" % (name, truth["error"]))
            # counted as wrong: a malformed truth must not raise the score
            n_leak += 1
            ran += 1
            continue
        res = results[p]
        times = "  [run %.1fs%s]" % (res.get("run_s", 0.0),
                                     ", report %.1fs" % res["report_s"] if "report_s" in res else "")
        if "skipped" in res:
            skipped += 1
            print("%-32s SKIPPED: %s" % (name, res["skipped"]))
            continue
        ran += 1
        if truth["clean"]:
            n_neg += 1
            findings = res.get("findings")
            if findings is not None and not findings:
                n_neg_clean += 1
                print("%-32s clean ✓%s" % (name, times))
            elif findings is None:
                print("%-32s clean ✗ (%s)%s" % (name, res.get("error", "no result"), times))
            else:
                top = findings[0] if isinstance(findings[0], dict) else {}
                print("%-32s clean ✗ (tool: %d finding(s), first %s %s via %s)%s"
                      % (name, len(findings), top.get("kind"), top.get("leaking_type"),
                         top.get("chain_text"), times))
            continue
        n_leak += 1
        ok, said = score_leaking(truth, res)
        for f in FIELDS:
            right[f] += ok[f]
        extra += max(0, len(res.get("findings") or []) - 1)
        if "error" in res:
            line = "%-32s %s  [%s]" % (name, "  ".join("%s ✗" % f for f in FIELDS), res["error"])
        else:
            line = fmt_leaking(name, truth, ok, said)
        print(line + times)

    print()
    if ran == 0:
        print("no program ran (%d skipped)" % skipped)
        return 2
    failed = False
    for f in FIELDS:
        if n_leak:
            v = pct(right[f], n_leak)
            print("%-9s %5.1f%% (%d/%d)" % (f, v, right[f], n_leak))
            failed |= v < args.min_pct
        else:
            print("%-9s   n/a (no leaking program ran)" % f)
    print("negatives clean %d/%d" % (n_neg_clean, n_neg))
    print("extra findings beyond the first (leaking programs): %d" % extra)
    if skipped:
        print("skipped %d" % skipped)
    print("elapsed %.1fs" % (time.monotonic() - started))
    failed |= n_neg_clean != n_neg
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
