"""The pytest plugin end to end: each test writes test files into a pytester directory and
runs pytest on them in a subprocess with `-p leakhunt.pytest_plugin`, the `leakhunt`
package on PYTHONPATH (the directory this plugin was imported from) and LEAKHUNT_BIN from
the environment. Tests that need the binary skip when LEAKHUNT_BIN is unset or not an
executable file.

Heaps are small and runs few: a pytest process is about 120,000 objects, a snapshot of it
0.4-0.8 s untraced; only the first test records allocation sites (2 frames, to keep its two
traced snapshots cheap)."""

import json
import os
import re
import subprocess
import sys

import pytest

import leakhunt.pytest_plugin as plugin

PY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(plugin.__file__)))
BIN = os.environ.get("LEAKHUNT_BIN") or ""
HAVE_BIN = os.path.isfile(BIN) and os.access(BIN, os.X_OK)
needs_bin = pytest.mark.skipif(
    not HAVE_BIN, reason="LEAKHUNT_BIN is unset or not an executable file (%r): set it to "
                         "the leakhunt binary, e.g. target/release/leakhunt" % BIN)

SUMMARY = re.compile(r"^leakhunt: (\d+) tests? checked, (\d+) leaking; overhead [\d.]+ s "
                     r"\(extra runs [\d.]+ s, snapshots [\d.]+ s, reports [\d.]+ s\)$", re.M)


@pytest.fixture
def env(pytester, monkeypatch):
    """The child's environment: the package importable, no tracemalloc from outside,
    temporary directories under pytester's, a directory for call counts."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (PY_ROOT, os.environ.get("PYTHONPATH")) if p))
    monkeypatch.delenv("PYTHONTRACEMALLOC", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    tmp = pytester.path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    calls = pytester.path / "calls"
    calls.mkdir()
    monkeypatch.setenv("CALLS_DIR", str(calls))
    return {"tmp": tmp, "calls": calls}


def run(pytester, *args, check=True):
    """pytest in a subprocess with the plugin loaded (and --leakhunt when `check`)."""
    pre = ["-p", "leakhunt.pytest_plugin", "-p", "no:cacheprovider"]
    if check:
        pre.append("--leakhunt")
    return pytester.runpytest_subprocess(*(pre + list(args)), timeout=300)


def calls(env, name):
    path = env["calls"] / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def leftovers(env):
    return sorted(p.name for p in env["tmp"].iterdir() if p.name.startswith("leakhunt-"))


def line_of(path, marker):
    for n, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return n
    raise AssertionError(marker)


LEAK = """
    import pytest

    class Item:
        def __init__(self, i):
            self.payload = "x" * 200 + str(i)   # PAYLOAD

    CACHE = []

    @pytest.mark.leakhunt
    def test_grows():
        for i in range(40):
            CACHE.append(Item(i))               # APPEND
"""


@needs_bin
def test_leaking_marked_test_fails_with_the_finding(pytester, env):
    path = pytester.makepyfile(test_leak=LEAK)
    result = run(pytester, "--leakhunt-frames=2")
    out = result.stdout.str()
    assert result.ret == 1, out
    result.assert_outcomes(failed=1)
    assert re.search(r"^leakhunt: unbounded collection: [\d.]+ KiB held by \d+ new objects "
                     r"after \d+ runs \([\d.]+ KiB per run\)$", out, re.M), out
    assert "  chain:  module test_leak -> CACHE (list) -> [*] (test_leak.Item)" in out, out
    site = re.search(r"^  allocated at: (\S+):(\d+) \(\d+%\)", out, re.M)
    assert site, out
    assert os.path.samefile(site.group(1), str(path)), out
    assert int(site.group(2)) in (line_of(path, "# APPEND"), line_of(path, "# PAYLOAD")), out
    assert SUMMARY.search(out).groups() == ("1", "1"), out
    # the snapshots are kept and named; the message carries the report's own fix
    snaps = re.search(r"^  snapshots: (\S+) \(leakhunt report (\S+) --format markdown\)$",
                      out, re.M)
    assert snaps and snaps.group(1) == snaps.group(2), out
    report = subprocess.run([BIN, "report", snaps.group(1), "--format", "json"],
                            stdout=subprocess.PIPE, check=True)
    finding = json.loads(report.stdout.decode())["findings"][0]
    assert "  fix: %s" % finding["fix"] in out, out
    assert finding["kind"] == "unbounded_collection"
    md = subprocess.run([BIN, "report", snaps.group(1), "--format", "markdown"],
                        stdout=subprocess.PIPE)
    assert md.returncode == 0 and b"CACHE" in md.stdout


CLEAN = """
    import functools, gc, logging, warnings, weakref
    import pytest

    @functools.lru_cache(maxsize=64)
    def square(n):
        return [n] * 100

    _TABLE = {}

    def table():
        if not _TABLE:                          # filled on the first call only
            _TABLE.update({i: str(i) * 20 for i in range(5000)})
        return _TABLE

    @pytest.mark.leakhunt(runs=3)
    def test_bounded_and_warm_caches():
        for i in range(500):
            square(i)
        assert table()[7] == "7" * 20

    @pytest.mark.leakhunt(runs=3)
    def test_allocates_and_frees():
        blobs = [bytearray(2000) for _ in range(2000)]
        index = {i: [i] * 20 for i in range(20000)}
        for i in range(500):
            a = {"i": i}
            a["self"] = a                       # garbage cycles, freed by the GC
        assert len(blobs) == 2000 and len(index) == 20000

    @pytest.mark.leakhunt(runs=3)
    def test_logs_and_warns():
        for i in range(30):
            logging.getLogger("app").warning("request %d failed", i)
            warnings.warn("old api %d" % i, DeprecationWarning)

    class Thing:
        pass

    REFS = []

    @pytest.fixture
    def thing():
        yield Thing()

    @pytest.mark.leakhunt(runs=2)
    def test_makes_things(thing):
        REFS.append(weakref.ref(thing))
        local = Thing()
        REFS.append(weakref.ref(local))

    def test_nothing_kept_alive():
        gc.collect()
        assert len(REFS) == 6 and [r() for r in REFS] == [None] * 6
"""


@needs_bin
def test_clean_marked_tests_pass(pytester, env):
    pytester.makepyfile(test_clean=CLEAN)
    result = run(pytester, "-W", "default")
    out = result.stdout.str()
    assert result.ret == 0, out
    result.assert_outcomes(passed=5)
    assert SUMMARY.search(out).groups() == ("4", "0"), out
    assert "unbounded" not in out and "cannot check" not in out, out
    assert leftovers(env) == [], out     # temporary snapshot directories removed


UNMARKED = """
    class Rec:
        def __init__(self, i):
            self.text = "r" * 300 + str(i)

    HISTORY = []

    def test_unmarked_grows():
        for i in range(40):
            HISTORY.append(Rec(i))

    async def test_coroutine():
        pass
"""


@needs_bin
def test_unmarked_tests_are_checked_only_with_leakhunt_all(pytester, env):
    pytester.makepyfile(test_unmarked=UNMARKED)
    plain = run(pytester, "-k", "grows")
    assert plain.ret == 0, plain.stdout.str()
    plain.assert_outcomes(passed=1, deselected=1)
    assert "leakhunt:" not in plain.stdout.str()
    snaps = pytester.path / "snaps"
    result = run(pytester, "--leakhunt-all", "--leakhunt-frames=0", "--leakhunt-dir", str(snaps))
    out = result.stdout.str()
    assert result.ret == 1, out
    assert "leakhunt: unbounded collection: " in out, out
    assert "  chain:  module test_unmarked -> HISTORY (list) -> [*] (test_unmarked.Rec)" in out
    assert "  allocated at: not recorded" in out, out
    kept = snaps / "test_unmarked.py_test_unmarked_grows"
    assert "  snapshots: %s (" % kept in out, out
    assert sorted(p.name for p in kept.iterdir()) == ["run-%03d.snap" % i for i in range(5)]
    assert SUMMARY.search(out).groups() == ("1", "1"), out
    assert "leakhunt: test_unmarked.py::test_coroutine: coroutine function" in out, out


COUNTED = """
    import os
    import pytest

    class Blob:
        def __init__(self, i):
            self.data = "b" * 300 + str(i)

    KEEP = []

    def count(name):
        with open(os.path.join(os.environ["CALLS_DIR"], name), "a") as f:
            f.write("call\\n")

    @pytest.mark.leakhunt(runs=2, warmup=2, min_growth="1MiB")
    def test_small_leak_allowed():
        count("allowed")
        KEEP.extend([Blob(i) for i in range(30)])

    @pytest.mark.leakhunt(runs=3, min_growth=4096)
    def test_small_leak_caught():
        count("caught")
        KEEP.extend([Blob(i) for i in range(30)])
"""


@needs_bin
def test_runs_and_min_growth_are_honoured(pytester, env):
    pytester.makepyfile(test_counted=COUNTED)
    result = run(pytester, "--leakhunt-frames=0")
    out = result.stdout.str()
    result.assert_outcomes(passed=1, failed=1)
    assert calls(env, "allowed") == 2 + 2       # warmup=2, runs=2
    assert calls(env, "caught") == 1 + 3        # warmup=1 (default), runs=3
    assert re.search(r"^FAILED test_counted.py::test_small_leak_caught - Failed: leakhunt: "
                     r"unbounded", out, re.M), out
    assert re.search(r"^leakhunt: unbounded collection: .* after 3 runs ", out, re.M), out
    assert SUMMARY.search(out).groups() == ("2", "1"), out


def test_without_leakhunt_the_marker_is_inert(pytester, env):
    pytester.makepyfile(test_counted=COUNTED)
    result = run(pytester, check=False)
    result.assert_outcomes(passed=2)
    assert calls(env, "allowed") == 1 and calls(env, "caught") == 1
    assert "leakhunt:" not in result.stdout.str()


def test_missing_binary_skips_with_the_reason(pytester, env, monkeypatch):
    missing = pytester.path / "no-such-leakhunt"
    monkeypatch.setenv("LEAKHUNT_BIN", str(missing))
    pytester.makepyfile(test_counted=COUNTED)
    result = run(pytester, "-rs", "-k", "allowed")
    out = result.stdout.str()
    assert result.ret == 0, out
    result.assert_outcomes(skipped=1, deselected=1)
    assert calls(env, "allowed") == 1                # the body ran (once) and passed
    assert "leakhunt: cannot check for leaks: LEAKHUNT_BIN=%s does not exist" % missing in out
    assert SUMMARY.search(out).groups() == ("0", "0"), out
    assert "leakhunt: test_counted.py::test_small_leak_allowed: check skipped: " in out, out


FAILING = """
    import pytest

    CALLS = []

    @pytest.mark.leakhunt(runs=3)
    def test_fails_on_third_call():
        CALLS.append(1)
        assert len(CALLS) < 3, "call number %d failed" % len(CALLS)

    @pytest.mark.leakhunt
    def test_fails_at_once():
        assert 1 + 1 == 3, "arithmetic is broken"
"""


@needs_bin
def test_failing_body_fails_with_its_own_message(pytester, env):
    pytester.makepyfile(test_failing=FAILING)
    result = run(pytester, "--leakhunt-frames=0")
    out = result.stdout.str()
    result.assert_outcomes(failed=2)
    assert "AssertionError: call number 3 failed" in out, out
    assert "AssertionError: arithmetic is broken" in out, out
    assert "leakhunt: unbounded" not in out and "cannot check" not in out, out
    assert leftovers(env) == [], out


def _python_m(args, **env):
    full = dict(os.environ)
    full["PYTHONPATH"] = os.pathsep.join(p for p in (PY_ROOT, full.get("PYTHONPATH")) if p)
    full.update(env)
    return subprocess.run([sys.executable, "-m", "leakhunt"] + args, env=full,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


@needs_bin
def test_python_m_leakhunt_runs_the_binary():
    proc = _python_m(["--help"])
    assert proc.returncode == 0, proc.stderr
    assert b"Usage: leakhunt" in proc.stdout
    bad = _python_m(["report", "/nonexistent/a.snap", "/nonexistent/b.snap"])
    assert bad.returncode == 2, (bad.stdout, bad.stderr)


def test_python_m_leakhunt_without_a_binary(tmp_path):
    proc = _python_m(["--help"], LEAKHUNT_BIN=str(tmp_path / "missing"))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "pip install leakhunt" in err, err
    assert proc.stdout == b""
