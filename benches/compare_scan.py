"""leakhunt scan vs ruff on the whole CPython 3.11 standard library, in one run.

usage: python3 benches/compare_scan.py [--stdlib DIR] [--ruff PATH] [--runs R]

Times, alternately and R times each (median and best wall time, median CPU time):
  leakhunt: leakhunt scan STDLIB --format json          (all ten kinds, 2 threads)
  ruff:     ruff check --select B019,SIM115 --no-cache --exit-zero STDLIB
on the same tree, and prints both times and the ratio. The stdlib defaults to pyenv's 3.11;
ruff to the one in that interpreter's bin/ (pip install ruff there), else `ruff` on PATH.
Both tools skip site-packages, so they read the same files.
"""
import argparse, glob, json, os, resource, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pyenv_311():
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3")))
    return found[-1] if found else sys.executable


def timed(cmd):
    """Wall time, CPU time (user+sys of the child) and stdout of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode not in (0, 1, 3):
        sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr.decode()[:500]}")
    return dt, cpu, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stdlib")
    ap.add_argument("--ruff")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--leakhunt", default=os.path.join(ROOT, "target/release/leakhunt"))
    a = ap.parse_args()
    py = pyenv_311()
    stdlib = a.stdlib or subprocess.check_output(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], text=True).strip()
    ruff = a.ruff or os.path.join(os.path.dirname(py), "ruff")
    if not os.path.exists(ruff):
        ruff = shutil.which("ruff") or sys.exit("no ruff: pip install ruff into pyenv's 3.11")
    if not os.path.exists(a.leakhunt):
        sys.exit(f"no {a.leakhunt}: cargo build --release first")
    lh_cmd = [a.leakhunt, "scan", stdlib, "--format", "json"]
    ruff_cmd = [ruff, "check", "--select", "B019,SIM115", "--no-cache", "--exit-zero",
                "--output-format", "concise", "--isolated", stdlib]
    ruff_version = subprocess.check_output([ruff, "--version"], text=True).strip()
    # One warm-up each (page cache), then alternate.
    _, _, out = timed(lh_cmd)
    doc = json.loads(out)
    _, _, rout = timed(ruff_cmd)
    ruff_findings = sum(1 for l in rout.decode().splitlines() if ": B019" in l or ": SIM115" in l)
    lh, rf, lhc, rfc = [], [], [], []
    for _ in range(a.runs):
        t, c, _ = timed(lh_cmd)
        lh.append(t)
        lhc.append(c)
        t, c, _ = timed(ruff_cmd)
        rf.append(t)
        rfc.append(c)
    print(f"tree: {stdlib}: {doc['files_scanned']} files, {doc['lines_scanned']} lines")
    med = statistics.median
    print(f"leakhunt scan (10 kinds): median {med(lh):.3f} s, best {min(lh):.3f} s, "
          f"cpu median {med(lhc):.3f} s, "
          f"{len(doc['findings'])} findings, {len(doc['syntax_errors'])} files not parsed")
    print(f"{ruff_version} B019,SIM115: median {med(rf):.3f} s, best {min(rf):.3f} s, "
          f"cpu median {med(rfc):.3f} s, "
          f"{ruff_findings} findings")
    print(f"ratio leakhunt/ruff: median {statistics.median(lh) / statistics.median(rf):.2f}x, "
          f"best {min(lh) / min(rf):.2f}x, cpu {med(lhc) / med(rfc):.2f}x (goal: <= 1.5x)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
