"""leakhunt's pytest plugin: run a test body several times with heap snapshots between and
fail the test when something it leaves behind keeps growing.

    @pytest.mark.leakhunt                        # runs=4, min_growth="4KiB", warmup=1
    def test_handler(): ...

    @pytest.mark.leakhunt(runs=6, min_growth="1MiB")
    def test_batch(): ...

    pytest --leakhunt              # check the marked tests
    pytest --leakhunt-all          # check every test (implies --leakhunt)
    pytest --leakhunt --leakhunt-dir=snaps    # keep every check's snapshots in snaps/<test>/

Loaded with `-p leakhunt.pytest_plugin`, or automatically when leakhunt is installed with its
`pytest11` entry point (`leakhunt = "leakhunt.pytest_plugin"`; then `-p leakhunt` if at all,
not the module name, which pytest would register a second time). Without --leakhunt the
marker does nothing: the test runs once, as usual.

A checked test's body (the test function, called with its fixture values; fixtures are set
up once and shared by all runs) runs `warmup` times, then a baseline snapshot is written,
then `runs` times each followed by a snapshot (`gc.collect()` first: only what stays
reachable counts). `leakhunt report DIR --format json --fail-on any --min-growth
<min_growth>` reads them; when nothing holds `min_growth` of new memory the test passes.
When something does, the body runs twice more under tracemalloc (--leakhunt-frames frames,
10 by default; started only if it is not tracing already, stopped after) with a snapshot
after each, the report is made again over all the snapshots, and the test fails with the top
finding's kind, retention chain, allocating line (sites and shares from the report on the last
three snapshots, where everything new is traced) and fix. A traced snapshot of a pytest
process costs 4 to 20 times an untraced one (1-10 s against 0.4-0.8 s, slowest on 3.11 and
3.12), so clean tests, the common case, are checked untraced, and only a leak pays for its
sites. With tracemalloc already tracing, every snapshot has sites and there are no extra
runs. --leakhunt-frames=0: no allocation sites, no extra runs.

Defaults (`runs=4, min_growth="4KiB", warmup=1`), measured on CPython 3.8-3.13 under pytest:
- warmup=1: first calls fill lazy caches, import modules, intern strings, compile regular
  expressions; one warm-up run puts that before the baseline.
- runs=4: five snapshots. The report counts as new what was born after the baseline and is
  alive in the last two snapshots, i.e. what the first `runs - 1` runs left behind, and needs
  three snapshots or more to tell growth from a bounded cache or noise. A clean check costs
  five untraced snapshots, 2-4 s on a small suite; more runs cost more.
- min_growth="4KiB": clean tests (allocating and freeing megabytes per run, garbage cycles,
  filling a bounded lru_cache, warming a module-level cache on the first call, pytest.raises,
  monkeypatch, capsys, caplog, tmp_path, asyncio.run, threads, sqlite3, subprocess) produced
  no finding at all, even gated at 1 byte: the report drops what does not grow or holds under
  2 KiB. 4 KiB, twice that, fails a leak of 1.5 KiB per run or more (three runs counted);
  raise it for tests that legitimately keep a little per call.

The check never breaks a run on its own account: when the binary is missing, a snapshot
cannot be written or the report fails or times out, the body has already run (and passed),
and the test is skipped with the reason. An exception from the body propagates unchanged.
Coroutine functions and items that are not plain test functions run as usual, unchecked
(said in the summary). Growth that sits in pytest's own per-test state (log records and
warnings it captures during the test, released after it) does not fail a test; the summary
names it. The plugin keeps nothing per run alive while it runs (its timings are summed in
floats) and nothing of the test's after it.
"""

import gc
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import pytest

import leakhunt
from leakhunt import binary

DEFAULT_RUNS = 4
DEFAULT_MIN_GROWTH = "4KiB"
DEFAULT_WARMUP = 1
DEFAULT_FRAMES = 10
REPORT_TIMEOUT = 120.0

_MARK_KWARGS = ("runs", "min_growth", "warmup")
_SIZE_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
               "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_PYTEST_OWNED = ("(_pytest.logging.LogCaptureHandler)", "(_pytest.recwarn.WarningsRecorder)")


def pytest_addoption(parser):
    group = parser.getgroup("leakhunt", "memory leak checks (leakhunt)")
    group.addoption("--leakhunt", action="store_true", default=False,
                    help="check tests marked @pytest.mark.leakhunt for memory leaks: run each "
                         "several times with heap snapshots between")
    group.addoption("--leakhunt-all", action="store_true", default=False,
                    help="check every test function, marked or not (implies --leakhunt)")
    group.addoption("--leakhunt-dir", metavar="DIR", default=None,
                    help="write each check's snapshots to DIR/<test> and keep them (default: a "
                         "temporary directory, removed after a passing check)")
    group.addoption("--leakhunt-frames", metavar="N", type=int, default=DEFAULT_FRAMES,
                    help="tracemalloc frames to record when the plugin starts tracing "
                         "(default %d); 0: no allocation sites, faster snapshots" % DEFAULT_FRAMES)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "leakhunt(runs=%d, min_growth=%r, warmup=%d): with --leakhunt, run the test warmup "
        "times, then runs times with heap snapshots between, and fail it when something it "
        "leaves behind grows by min_growth or more" % (DEFAULT_RUNS, DEFAULT_MIN_GROWTH,
                                                      DEFAULT_WARMUP))
    if config.getoption("leakhunt", False) or config.getoption("leakhunt_all", False):
        config.pluginmanager.register(LeakChecker(config), "leakhunt-checker")


def parse_size(value):
    """Bytes from an int or a size text as `leakhunt report --min-growth` reads it (4096,
    512KiB, 1MB: KB/MB/GB powers of 1000, KiB/MiB/GiB of 1024), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    m = re.match(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*$", value)
    if not m:
        return None
    mult = _SIZE_UNITS.get(m.group(2).lower().rstrip("b"))
    return None if mult is None else int(float(m.group(1)) * mult)


def format_size(n):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return "%.1f GiB" % n   # pragma: no cover


def _safe_name(nodeid):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("._") or "test"
    if len(name) > 120:
        name = "%s-%08x" % (name[:110], abs(hash(nodeid)) & 0xFFFFFFFF)
    return name


class _Cannot(Exception):
    """The check cannot be made (the reason); the test is skipped once its body has run."""


class LeakChecker:
    """The checks of one session (registered only with --leakhunt or --leakhunt-all)."""

    def __init__(self, config):
        self.config = config
        self.all = bool(config.getoption("leakhunt_all", False))
        self.dir = config.getoption("leakhunt_dir", None)
        self.frames = max(0, int(config.getoption("leakhunt_frames", DEFAULT_FRAMES) or 0))
        self.checked = 0
        self.leaking = 0
        self.t_extra = 0.0
        self.t_snap = 0.0
        self.t_report = 0.0
        self.notes = []     # (nodeid, why): checks not made, growth not counted
        self._reached = False

    # -- which tests, how -----------------------------------------------------------------

    def _spec(self, item):
        """(runs, min_bytes, warmup) for a checked item, None when it is not checked, or
        what is wrong with the marker's arguments (a str: the test fails with it)."""
        mark = item.get_closest_marker("leakhunt")
        if mark is None and not self.all:
            return None
        kw = dict(mark.kwargs) if mark is not None else {}
        bad = [k for k in kw if k not in _MARK_KWARGS]
        if (mark is not None and mark.args) or bad:
            return "leakhunt marker takes only keyword arguments %s, got %s" % (
                ", ".join(_MARK_KWARGS),
                ", ".join([repr(a) for a in mark.args] + bad))
        runs = kw.get("runs", DEFAULT_RUNS)
        warmup = kw.get("warmup", DEFAULT_WARMUP)
        min_text = kw.get("min_growth", DEFAULT_MIN_GROWTH)
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            return "leakhunt marker: runs must be an integer >= 1, got %r" % (runs,)
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            return "leakhunt marker: warmup must be an integer >= 0, got %r" % (warmup,)
        min_bytes = parse_size(min_text)
        if min_bytes is None:
            return ("leakhunt marker: min_growth must be bytes or a size like '64KiB' or "
                    "'1MB', got %r" % (min_text,))
        return runs, min_bytes, warmup

    @staticmethod
    def _uncallable(item):
        """Why the body cannot be run here several times, or None."""
        obj = getattr(item, "obj", None)
        if obj is None or not callable(obj):
            return "not a plain test function"
        if inspect.iscoroutinefunction(obj) or inspect.isasyncgenfunction(obj):
            return "coroutine function (async def): ran once, not checked"
        info = getattr(item, "_fixtureinfo", None)
        funcargs = getattr(item, "funcargs", None)
        if info is None or funcargs is None:
            return "not a plain test function (no fixture information)"
        missing = [a for a in info.argnames if a not in funcargs]
        if missing:
            return "fixture values missing: %s" % ", ".join(missing)
        return None

    # -- the hooks ------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        spec = self._spec(pyfuncitem)
        if spec is None:
            return None
        self._reached = True
        if isinstance(spec, str):
            pytest.fail(spec, pytrace=False)
        why = self._uncallable(pyfuncitem)
        if why is not None:
            self.notes.append((pyfuncitem.nodeid, why))
            return None
        verdict, text = self._check(pyfuncitem, *spec)
        # (raised from this frame only, with nothing of the test's in its locals: pytest
        # keeps the exception, and with it this frame, in sys.last_traceback)
        spec = None
        if verdict == "fail":
            pytest.fail(text, pytrace=False)
        if verdict == "skip":
            pytest.skip(text)
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        # items that do not go through pytest_pyfunc_call (unittest.TestCase methods)
        self._reached = False
        yield
        if not self._reached and self._spec(item) is not None:
            if type(item).__name__ == "TestCaseFunction":
                self.notes.append((item.nodeid, "unittest.TestCase method: ran once, not "
                                                "checked"))
            elif not isinstance(item, pytest.Function):
                self.notes.append((item.nodeid, "not a test function: ran once, not checked"))

    def pytest_terminal_summary(self, terminalreporter):
        if not self.checked and not self.notes:
            return
        total = self.t_extra + self.t_snap + self.t_report
        terminalreporter.write_line(
            "leakhunt: %d test%s checked, %d leaking; overhead %.1f s (extra runs %.1f s, "
            "snapshots %.1f s, reports %.1f s)" % (
                self.checked, "" if self.checked == 1 else "s", self.leaking, total,
                self.t_extra, self.t_snap, self.t_report))
        for nodeid, why in self.notes:
            terminalreporter.write_line("leakhunt: %s: %s" % (nodeid, why))

    # -- one check ------------------------------------------------------------------------

    def _check(self, item, runs, min_bytes, warmup):
        """Run `item`'s body and check it: ("pass"|"fail"|"skip", message). An exception
        from the body propagates."""
        path, why = binary.find()
        if path is None:
            self._body(item, True)
            return self._skipped(item, why)
        try:
            out, keep = self._snap_dir(item)
        except OSError as e:
            self._body(item, True)
            return self._skipped(item, "cannot make the snapshot directory: %s" % e)
        sited = True if tracemalloc.is_tracing() else None
        try:
            # the check: untraced snapshots, unless tracing already
            self._series(item, out, warmup, 0, runs, False)
            state, found = self._report(path, [out], min_bytes)
            done = runs
            if state == "leak" and sited is None and self.frames:
                # a leak: two more runs under tracemalloc for its allocation sites
                sited = False
                try:
                    self._series(item, out, 0, runs + 1, 2, True)
                except _Cannot as e:
                    self.notes.append((item.nodeid, "no allocation sites: " + str(e)))
                else:
                    state2, found2 = self._report(path, [out], min_bytes)
                    if state2 != "cannot":
                        state, found, done = state2, found2, runs + 2
                    if state == "leak":
                        # the sites, and their shares, of what run runs+1 left behind (the
                        # report on the last three snapshots: all its new objects traced)
                        window = [os.path.join(out, "run-%03d.snap" % i)
                                  for i in range(runs, runs + 3)]
                        state3, found3 = self._report(path, window, None)
                        if state3 in ("leak", "clean") and found3:
                            sited = _same(found[0], found3) or False
        except _Cannot as e:
            self._drop(out, keep)
            return self._skipped(item, str(e))
        except BaseException:
            self._drop(out, keep)
            raise
        if state == "cannot":
            return self._skipped(item, "%s (snapshots kept in %s)" % (found, out))
        self.checked += 1
        if state == "clean":
            self._drop(out, keep)
            if found:
                self.notes.append((item.nodeid, "growth in pytest's own per-test state not "
                                                "counted: %s" % _short(found[0])))
            return "pass", None
        self.leaking += 1
        if state == "unread":
            return "fail", ("leakhunt: a leak was found but the report could not be read "
                            "(%s)\n  snapshots: %s (leakhunt report %s --format markdown)"
                            % (found, out, out))
        return "fail", _message(found, done, out, sited)

    def _snap_dir(self, item):
        """(directory, keep): DIR/<test> emptied of old snapshots, or a new temporary one."""
        if not self.dir:
            return tempfile.mkdtemp(prefix="leakhunt-"), False
        out = os.path.join(os.path.abspath(self.dir), _safe_name(item.nodeid))
        os.makedirs(out, exist_ok=True)
        for name in os.listdir(out):
            if name.endswith(".snap"):
                os.remove(os.path.join(out, name))
        return out, True

    @staticmethod
    def _drop(out, keep):
        if not keep:
            shutil.rmtree(out, ignore_errors=True)

    def _body(self, item, first):
        """One call of the test function, as pytest's own pytest_pyfunc_call makes it."""
        funcargs = item.funcargs
        result = item.obj(**{a: funcargs[a] for a in item._fixtureinfo.argnames})
        if result is not None and first:
            cls = getattr(pytest, "PytestReturnNotNoneWarning", None)
            if cls is not None:
                warnings.warn(cls("Expected None, but %s returned %r, which will be an "
                                  "error in a future version of pytest." % (item.nodeid,
                                                                           result)))
        result = None

    def _series(self, item, out, warmup, start, runs, trace):
        """`warmup` calls and the baseline snapshot (when `start` is 0), then `runs` calls
        each followed by snapshot start+1, start+2, ...; with `trace`, under tracemalloc
        (started here when not tracing, stopped after the last snapshot). Keeps nothing per
        run alive: timings are summed in floats."""
        times = [0.0, 0.0]      # extra runs, snapshots
        first = [start == 0]    # the first call of the test: the one it makes anyway
        started = False

        def call():
            t = time.perf_counter()
            was_first, first[0] = first[0], False
            self._body(item, was_first)
            if not was_first:
                times[0] += time.perf_counter() - t

        def snap(step, label):
            t = time.perf_counter()
            ok = self._dump(os.path.join(out, "run-%03d.snap" % step), step, label)
            times[1] += time.perf_counter() - t
            if ok is not True:
                raise _Cannot(ok)

        try:
            if start == 0:
                for _ in range(warmup):
                    call()
                snap(0, "%s: baseline after %d warm-up run%s" % (
                    item.nodeid, warmup, "" if warmup == 1 else "s"))
                start = 1
            if trace and self.frames and not tracemalloc.is_tracing():
                tracemalloc.start(self.frames)
                started = True
            for i in range(start, start + runs):
                call()
                snap(i, "%s: after run %d" % (item.nodeid, i))
        finally:
            if started:
                tracemalloc.stop()
            self.t_extra += times[0]
            self.t_snap += times[1]
            if first[0]:
                # the baseline failed before any call: the test still decides pass or fail
                self._body(item, True)

    def _dump(self, path, step, label):
        """True, or why the snapshot could not be written (the dumper's own line)."""
        _settle(self.config)
        gc.collect()
        err = io.StringIO()
        was = sys.stderr
        sys.stderr = err
        try:
            r = leakhunt.dump(path, step=step, label=label)
        finally:
            sys.stderr = was
        if r is not None:
            return True
        line = err.getvalue().strip() or "leakhunt.dump(%r) returned None" % path
        sys.stderr.write(line + "\n")
        return "a snapshot could not be written: " + line

    def _report(self, path, inputs, min_bytes):
        """`leakhunt report` on `inputs` (a directory, or snapshot files) gated at
        `min_bytes` (None: no gate, every finding): ("clean", findings in pytest's own
        state), ("leak", findings), ("unread", why) or ("cannot", why)."""
        cmd = [path, "report"] + list(inputs) + ["--format", "json", "--top", "0"]
        if min_bytes is not None:
            cmd += ["--fail-on", "any", "--min-growth", str(min_bytes)]
        t = time.perf_counter()
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=REPORT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return "cannot", "`leakhunt report` timed out after %d s" % REPORT_TIMEOUT
        except OSError as e:
            return "cannot", "cannot run %s: %s" % (path, e)
        finally:
            self.t_report += time.perf_counter() - t
        if proc.returncode == 0 and min_bytes is not None:
            return "clean", []
        if proc.returncode not in (0, 3):
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            return "cannot", "`leakhunt report` exited %d%s" % (
                proc.returncode, (": " + err[-1]) if err else "")
        try:
            report = json.loads(proc.stdout.decode("utf-8", "replace"))
            found = [f for f in report.get("findings", ())
                     if int(f.get("growth_bytes") or 0) >= (min_bytes or 0)]
        except Exception as e:
            return "unread", "%s: %s" % (type(e).__name__, e)
        ours = [f for f in found if not _pytest_owned(f)]
        return ("leak", ours) if ours else ("clean", found)

    def _skipped(self, item, why):
        self.notes.append((item.nodeid, "check skipped: " + why))
        return "skip", "leakhunt: cannot check for leaks: " + why


def _same(f, others):
    """The finding among `others` (a report on fewer snapshots) that is `f`: the same
    chain, else the same kind, leaking type and root; None when there is none."""
    for g in others:
        if g.get("chain_text") == f.get("chain_text"):
            return g
    root = (f.get("chain_text") or "").split(" -> ")[0]
    for g in others:
        if (g.get("kind"), g.get("leaking_type")) == (f.get("kind"), f.get("leaking_type")) \
                and (g.get("chain_text") or "").split(" -> ")[0] == root:
            return g
    return None


def _pytest_owned(f):
    """Whether a finding's growth sits in pytest's own per-test state, released after the
    test: log records its logging plugin captures (`LogCaptureHandler`s, also caplog's)
    and warnings recorded by `catch_warnings(record=True)` around the test (pytest's
    warnings plugin, the recwarn fixture: `warnings._showwarnmsg_impl` is then the
    recording list's append)."""
    chain = f.get("chain_text") or ""
    return any(p in chain for p in _PYTEST_OWNED) or chain.startswith(
        "module warnings -> _showwarnmsg_impl ")


def _settle(config):
    """Before a snapshot: what would make a clean test look leaking, or crash the dumper.

    - pytest's log capture writes the test's log lines to io.StringIO streams; on CPython
      3.8-3.11 a StringIO that is only written keeps them as a list of str chunks that no
      Python object refers to (`held from outside (list) -> [*] (str)`, growing with each
      run; getvalue() would leave one growing str). read(0) at the end of the stream
      moves them into its own buffer (not a Python object) and reads nothing.
    """
    try:
        lp = config.pluginmanager.get_plugin("logging-plugin")
        for name in ("report_handler", "caplog_handler"):
            stream = getattr(getattr(lp, name, None), "stream", None)
            if type(stream) is io.StringIO:
                stream.read(0)
    except Exception:
        pass


def _short(f):
    return "%s, %s (%s)" % (str(f.get("kind", "?")).replace("_", " "),
                            format_size(f.get("growth_bytes") or 0), f.get("chain_text"))


def _message(findings, runs, out, sited):
    """The failure text: the top finding in full, a line for the others, where the
    snapshots are. `sited`: True when every run was traced (the sites and shares of the
    top finding), the same finding from the report on the last three snapshots when only
    the last two runs were (its sites, of what the traced run left behind), False when
    sites were looked for and not matched, None when tracemalloc was off."""
    f = findings[0]
    growth = f.get("growth") or {}
    per = growth.get("bytes_per_step")
    lines = ["leakhunt: %s: %s held by %d new objects after %d run%s%s" % (
        str(f.get("kind", "leak")).replace("_", " "), format_size(f.get("growth_bytes") or 0),
        int(f.get("new_objects") or 0), runs, "" if runs == 1 else "s",
        " (%s per run)" % format_size(per) if isinstance(per, (int, float)) and per > 0
        else "")]
    lines.append("  chain:  %s" % f.get("chain_text"))
    source = sited if isinstance(sited, dict) else f
    sites = [s for s in source.get("alloc_sites") or () if s.get("site")] if sited else []
    if sites:
        text = ["%s (%d%%)" % (s["site"], round(100 * float(s.get("share") or 0)))
                for s in sites]
        lines.append("  allocated at: %s%s" % (text[0], "; also " + ", ".join(text[1:])
                                                 if len(text) > 1 else ""))
    elif sited is None:
        lines.append("  allocated at: not recorded (tracemalloc off: --leakhunt-frames=0)")
    else:
        lines.append("  allocated at: no site recorded (%s)" % f.get("location"))
    if f.get("fix"):
        lines.append("  fix: %s" % f["fix"])
    if f.get("fix_example"):
        lines.extend("       " + ln for ln in str(f["fix_example"]).splitlines())
    if len(findings) > 1:
        lines.append("  and %d more finding%s: %s" % (
            len(findings) - 1, "" if len(findings) == 2 else "s",
            "; ".join(_short(g) for g in findings[1:4]) + ("; ..." if len(findings) > 4
                                                           else "")))
    lines.append("  snapshots: %s (leakhunt report %s --format markdown)" % (out, out))
    return "\n".join(lines)
