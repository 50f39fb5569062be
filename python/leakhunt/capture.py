"""Snapshots without touching the application: on an interval, on a signal and at exit.

    import leakhunt
    leakhunt.install(out="snaps/", every=30, signal="SIGUSR2", tracemalloc=25)

Files are named `snap-<seq:06>-<unix time>.snap` with META step = seq, so `leakhunt diff DIR`
orders them; the sequence continues after the highest one already in the directory. Dumps are
taken by one daemon thread (the signal handler only wakes it), in fork mode by default, so
the application pauses only for `fork()`; the thread waits for the child, then thins the
series to `keep` snapshots and `max_disk` bytes, keeping the first and the newest and the
rest evenly spread (`choose_thinning`). The exit snapshot is taken before the application's
own exit handlers run, and on a SIGTERM that would otherwise kill without a word. Nothing
here raises into the application: failures are one line on stderr (`leakhunt: ...`) and the
application carries on.
"""

import atexit
import heapq
import os
import signal as _signal
import sys
import threading
import time

from . import _dump
from . import forkdump
from .dumper import process_meta

__all__ = ["install", "uninstall", "Recorder"]

PREFIX = "snap-"
SUFFIX = ".snap"
# a fork child that takes longer than this is presumed stuck and killed
CHILD_TIMEOUT = float(os.environ.get("LEAKHUNT_CHILD_TIMEOUT") or 1800)
# at exit, wait at most this long for a dump already in flight
EXIT_WAIT = 120.0

_current = None


def _say(text):
    try:
        sys.stderr.write("leakhunt: %s\n" % text)
        sys.stderr.flush()
    except BaseException:
        try:
            os.write(2, ("leakhunt: %s\n" % text).encode("utf-8", "replace"))
        except BaseException:
            pass


def _parse(name):
    """(seq, time) of a file named `snap-<seq>-<time>.snap`, else None."""
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    parts = name[len(PREFIX):-len(SUFFIX)].split("-")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1])


def snap_seq(name):
    """The sequence number of a file named `snap-<seq>-<time>.snap`, else None."""
    parsed = _parse(name)
    return None if parsed is None else parsed[0]


def snapshots(out):
    """[(seq, name)] of the snapshots in directory `out`, oldest first."""
    found = []
    for name in os.listdir(out):
        seq = snap_seq(name)
        if seq is not None:
            found.append((seq, name))
    found.sort()
    return found


def next_path(out, now=None):
    """(seq, path) for the next snapshot in `out`: one past the highest sequence there."""
    have = snapshots(out)
    seq = have[-1][0] + 1 if have else 1
    stamp = int(time.time() if now is None else now)
    return seq, os.path.join(out, "%s%06d-%d%s" % (PREFIX, seq, stamp, SUFFIX))


def _next_seq(out):
    """(the next sequence number in `out`, snapshots thinned from its series so far), as
    plain ints: nothing here may outlive the call and show up in the snapshot."""
    have = [q for q, _ in snapshots(out)]
    seq = have[-1] + 1 if have else 1
    return seq, thinned_so_far(have, seq)


def thinned_so_far(seqs, upto):
    """Snapshots removed from the series: the sequence numbers missing between the first
    one present and `upto` (exclusive). `seqs`: the sequence numbers present."""
    below = [q for q in seqs if q < upto]
    if not below:
        return 0
    return max(0, upto - min(below) - len(set(below)))


def choose_thinning(entries, keep=0, max_disk=None):
    """Which snapshots to delete, as a pure function: `entries` is [(seq, time, size)]
    (any order); returns their seqs in the order they are to be deleted.

    Never the first (the lowest seq: the baseline from before the load) nor the newest.
    While more than `keep` remain (0: no limit; a limit below 2 counts as 2), and then while
    their sizes add up to more than `max_disk` bytes (None: no budget), one of the others
    goes: the one whose neighbours are closest together (in time, then in sequence; the
    older on a tie), so removing it leaves the spacing most even and what remains spans the
    series evenly from the first snapshot to now, however long it runs."""
    items = sorted(entries)
    n = len(items)
    if n <= 2:
        return []
    seqs = [e[0] for e in items]
    times = [e[1] for e in items]
    sizes = [int(e[2] or 0) for e in items]
    prev = list(range(-1, n - 1))
    nxt = list(range(1, n + 1))
    version = [0] * n
    heap = []

    def push(i):
        p, q = prev[i], nxt[i]
        version[i] += 1
        heapq.heappush(heap, (max(0, times[q] - times[p]), seqs[q] - seqs[p], seqs[i], i,
                              version[i]))

    for i in range(1, n - 1):
        push(i)
    removed = []
    alive, total = n, sum(sizes)
    limit = max(2, int(keep)) if keep else n
    while heap and (alive > limit or (max_disk is not None and total > max_disk)):
        _, _, _, i, v = heapq.heappop(heap)
        if v != version[i]:
            continue            # a stale entry: its neighbours changed since
        version[i] = -1
        p, q = prev[i], nxt[i]
        nxt[p], prev[q] = q, p
        removed.append(seqs[i])
        alive -= 1
        total -= sizes[i]
        for j in (p, q):
            if 0 < j < n - 1:
                push(j)
    return removed


def rotate(out, keep, max_disk=None):
    """Thin the snapshots of `out` to `keep` (0: no limit) and to `max_disk` bytes (None: no
    budget) as `choose_thinning` says. Returns (names deleted, bytes still used)."""
    if not keep and max_disk is None:
        return [], None
    try:
        have = []
        for name in os.listdir(out):
            parsed = _parse(name)
            if parsed is not None:
                try:
                    size = os.stat(os.path.join(out, name)).st_size
                except OSError:
                    continue
                have.append((parsed[0], parsed[1], size, name))
    except OSError:
        return [], None
    by_seq = {e[0]: e for e in have}
    deleted = []
    for seq in choose_thinning([e[:3] for e in have], keep, max_disk):
        entry = by_seq.pop(seq, None)
        if entry is None:
            continue
        try:
            os.unlink(os.path.join(out, entry[3]))
        except OSError:
            continue
        deleted.append(entry[3])
    return deleted, sum(e[2] for e in by_seq.values())


def _signal_number(sig):
    if sig is None or sig == "" or sig == "none":
        return None
    if isinstance(sig, int):
        return sig
    name = str(sig).upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    num = getattr(_signal, name, None)
    if num is None:
        raise ValueError("unknown signal %r" % (sig,))
    return int(num)


# -- the exit snapshot comes before the application's teardown -------------------------
#
# The interpreter's exit runs, in this order (Py_FinalizeEx): `threading._shutdown()` (3.9+:
# first the `threading._register_atexit` hooks, last registered first; then it joins the
# non-daemon threads), then the `atexit` handlers (last registered first), then module
# teardown and finalisers. An `atexit` handler registered when recording starts would run
# after every handler the application registers later (matplotlib's, which destroys its
# figures, for one), so the exit snapshot is hooked in before all of them: on 3.9+ with
# `threading._register_atexit`; on 3.8, which has no such list, by wrapping
# `threading._shutdown` (looked up by name at exit, on every version), checked again at each
# snapshot in case something replaced it. An `atexit` handler stays as the fallback, should
# the first hook be lost. 3.12 refuses fork() from the start of finalisation, so its exit
# snapshot is taken in-process; 3.8-3.11 and 3.13 still fork there.

_hooked = [None]        # the pid that registered the exit hooks


def _exit_hook():
    """The interpreter is exiting: the current recorder's exit snapshot. Never raises (a
    KeyboardInterrupt during it only ends the snapshot: the exit goes on as it would)."""
    try:
        rec = _current
        if rec is not None:
            rec._on_exit()
    except BaseException:
        pass


def _hook_exit():
    """Have `_exit_hook` run first when the interpreter exits (see above)."""
    if _hooked[0] == os.getpid():
        _wrap_shutdown()
        return
    _hooked[0] = os.getpid()
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(_exit_hook)
        except Exception:       # RuntimeError: the interpreter is already shutting down
            pass
    _wrap_shutdown()
    atexit.register(_exit_hook)


def _wrap_shutdown():
    """3.8: make `threading._shutdown` (what Py_FinalizeEx calls before the atexit
    handlers) take the exit snapshot first. Nothing to do on 3.9+."""
    if hasattr(threading, "_register_atexit"):
        return
    original = getattr(threading, "_shutdown", None)
    if original is None or getattr(original, "_leakhunt_exit", False):
        return

    def _shutdown():
        _exit_hook()
        return original()

    _shutdown._leakhunt_exit = True
    threading._shutdown = _shutdown


def _die_of(signum):
    """End the process by `signum` with its default action, as if no handler had been set:
    the parent sees the same status (killed by the signal)."""
    try:
        _signal.signal(signum, _signal.SIG_DFL)
        if hasattr(_signal, "pthread_sigmask"):
            _signal.pthread_sigmask(_signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
        # the default action ends the process as the signal is delivered; should it not
        # be delivered at all (blocked in every thread), end it the way it would have
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            time.sleep(0.01)
    finally:
        os._exit(128 + signum)


class Recorder(object):
    """One process's snapshot schedule: the worker thread, the signal handlers, the exit
    hook. Make it with `install()`."""

    LABELS = {"interval": "every %(every)gs", "signal": "signal %(signal)s",
              "exit": "at exit"}

    def __init__(self, out, every, sig, fork, keep, at_exit, values, max_disk=None,
                 sigterm=True):
        self.out = os.path.abspath(os.fsdecode(os.fspath(out)))
        self.every = float(every) if every else None
        self.signum = _signal_number(sig)
        self.fork = bool(fork) and hasattr(os, "fork")
        self.keep = int(keep or 0)
        self.max_disk = int(max_disk) if max_disk else None
        if self.keep < 0 or (self.max_disk is not None and self.max_disk < 0):
            raise ValueError("keep and max_disk must not be negative")
        self.at_exit = bool(at_exit)
        self.sigterm = bool(sigterm) and self.at_exit and self.signum != _signal.SIGTERM
        self.values = values
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.requests = 0
        self.stopping = False
        self.thread = None
        self.previous_handler = None
        self.last_size = 0
        self.written = 0
        self.over_budget_said = False

    # -- triggers --------------------------------------------------------------------

    def start(self):
        try:
            os.makedirs(self.out, exist_ok=True)
        except OSError as e:
            _say("cannot create %s: %s (snapshots will fail until it can be written)"
                 % (self.out, e.strerror or e))
        main = threading.current_thread() is threading.main_thread()
        if self.signum is not None:
            if main:
                self.previous_handler = _signal.signal(self.signum, self._on_signal)
            else:
                _say("install() outside the main thread: no %s handler"
                     % _signal.Signals(self.signum).name)
        if self.sigterm and main:
            # only where SIGTERM would kill without a word; an application that sets its
            # own handler later replaces this one
            try:
                if _signal.getsignal(_signal.SIGTERM) == _signal.SIG_DFL:
                    _signal.signal(_signal.SIGTERM, self._on_term)
            except (ValueError, TypeError, OSError, RuntimeError):
                pass
        if self.every or self.signum is not None:
            self.thread = threading.Thread(target=self._run, name="leakhunt-recorder")
            self.thread.daemon = True
            self._start_masked(self.thread)
        if self.at_exit:
            _hook_exit()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked)

    def _start_masked(self, thread):
        """Start `thread` with our signal already blocked in it: a thread inherits its
        creator's mask, so there is no moment in which the kernel could hand the signal to
        it (where no Python handler would run until the main thread woke for another reason)."""
        mask = self.signum is not None and hasattr(_signal, "pthread_sigmask")
        old = None
        if mask:
            try:
                old = _signal.pthread_sigmask(_signal.SIG_BLOCK, {self.signum})
            except (ValueError, OSError, RuntimeError):
                old = None
        try:
            thread.start()
        finally:
            if old is not None and self.signum not in old:
                try:
                    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, {self.signum})
                except (ValueError, OSError, RuntimeError):
                    pass

    def _on_signal(self, signum, frame):
        if os.getpid() != self.pid or self.stopping:
            return
        self.requests += 1
        self.wake.set()
        prev = self.previous_handler
        if callable(prev) and prev is not self._on_signal:
            prev(signum, frame)

    def _on_term(self, signum, frame):
        """SIGTERM with no handler of the application's: the exit snapshot, then death by
        SIGTERM as before. A second SIGTERM meanwhile kills at once."""
        try:
            _signal.signal(signum, _signal.SIG_DFL)
        except BaseException:
            pass
        try:
            if os.getpid() == self.pid and not self.stopping:
                self._exit_snapshot("SIGTERM")
        except BaseException:
            pass
        finally:
            _die_of(signum)

    def _restore_handlers(self):
        for num, mine, old in ((self.signum, self._on_signal, self.previous_handler),
                               (_signal.SIGTERM, self._on_term, None)):
            if num is None:
                continue
            try:
                if _signal.getsignal(num) == mine:
                    _signal.signal(num, old or _signal.SIG_DFL)
            except (ValueError, TypeError, OSError, RuntimeError):
                pass

    def _forked(self):
        # a child of the application (or our own dump child): it records nothing, and the
        # signals mean in it what they meant before install()
        self.stopping = True
        self._restore_handlers()

    def _run(self):
        # The kernel may deliver a process signal to any thread that does not block it. If
        # this thread took it, a main thread blocked in a read() would never run the Python
        # handler (only the main thread runs handlers): it is blocked here from the start
        # (_start_masked), and again below for a thread started some other way. (SIGTERM is left alone: Linux gives a process's signals to its main thread first,
        # and the dump children forked from here keep the mask)
        if self.signum is not None and hasattr(_signal, "pthread_sigmask"):
            try:
                _signal.pthread_sigmask(_signal.SIG_BLOCK, {self.signum})
            except (ValueError, OSError, RuntimeError):
                pass
        deadline = time.monotonic() + self.every if self.every else None
        while not self.stopping:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            self.wake.wait(timeout)
            if self.stopping:
                return
            if self.wake.is_set():
                self.wake.clear()
                self.requests = 0
                reason = "signal"
            elif deadline is not None and time.monotonic() >= deadline:
                reason = "interval"
            else:
                continue
            if deadline is not None:
                deadline = time.monotonic() + self.every
            with self.lock:
                if not self.stopping:
                    self.snapshot(reason)

    def _on_exit(self):
        if os.getpid() != self.pid or self.stopping or not self.at_exit:
            return
        self._exit_snapshot(None)

    def _exit_snapshot(self, signame):
        self.stopping = True
        self.wake.set()
        if self.lock.acquire(timeout=EXIT_WAIT):
            try:
                self.snapshot("exit", signame)
            finally:
                self.lock.release()
        else:
            _say("a snapshot still in progress after %gs; no snapshot at exit" % EXIT_WAIT)

    def stop(self):
        """Stop the schedule (no more interval, signal or exit snapshots)."""
        self.stopping = True
        self.wake.set()
        if threading.current_thread() is threading.main_thread():
            self._restore_handlers()

    # -- one snapshot ----------------------------------------------------------------

    def snapshot(self, reason, exit_signal=None):
        """Take one snapshot now (the caller holds `self.lock`); returns its path or None.
        `reason`: "interval", "signal" or "exit" (META `reason`). Never raises
        (KeyboardInterrupt aside)."""
        try:
            return self._snapshot(reason, exit_signal)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            _say("snapshot failed: %s: %s" % (type(e).__name__, e))
            return None

    def _label(self, reason, seq, exit_signal):
        text = self.LABELS.get(reason, "%(reason)s") % {
            "every": self.every or 0, "reason": reason,
            "signal": _signal.Signals(self.signum).name if self.signum else "?"}
        if exit_signal:
            text = "at %s" % exit_signal
        return "%s (#%d)" % (text, seq)

    def _snapshot(self, reason, exit_signal=None):
        os.makedirs(self.out, exist_ok=True)
        if not self._room_for_one():
            return None
        if self.at_exit:
            _wrap_shutdown()        # 3.8: in case something replaced threading._shutdown
        seq, thinned = _next_seq(self.out)
        path = os.path.join(self.out, "%s%06d-%d%s" % (PREFIX, seq, int(time.time()), SUFFIX))
        label = self._label(reason, seq, exit_signal)
        meta = process_meta(reason, exit=reason == "exit")
        meta["thinned"] = thinned
        if exit_signal:
            meta["exit_signal"] = exit_signal
        here = not self.fork
        ok = False
        if not here:
            try:
                ok = self._forked_dump(path, seq, label, meta)
            except forkdump.ShuttingDown:
                # 3.12 refuses fork() once the exit has begun. An interval or signal
                # snapshot that began then is skipped: the exit snapshot is taken now,
                # in-process; so is the exit snapshot itself
                if reason != "exit":
                    return None
                here = True
        if here:
            ok = _dump(path, seq, label, False, self.values, False, meta) is not None
        if not ok:
            return None
        self.written += 1
        try:
            self.last_size = os.path.getsize(path)
        except OSError:
            pass
        _, used = rotate(self.out, self.keep, self.max_disk)
        if (self.max_disk is not None and used is not None and used > self.max_disk
                and not self.over_budget_said):
            self.over_budget_said = True
            _say("the snapshots in %s take %d MiB, over max_disk (%d MiB): the first and the "
                 "newest are never deleted" % (self.out, used >> 20, self.max_disk >> 20))
        return path

    def _room_for_one(self):
        """False (with a line) when the disk cannot hold another snapshot as big as the last:
        a full disk would hurt the application more than a missing snapshot."""
        if not self.last_size or not hasattr(os, "statvfs"):
            return True
        st = os.statvfs(self.out)
        free = st.f_bavail * st.f_frsize
        need = self.last_size + self.last_size // 4 + (16 << 20)
        if free >= need:
            return True
        _say("skipped a snapshot: %d MiB free in %s, the last snapshot took %d MiB"
             % (free >> 20, self.out, self.last_size >> 20))
        return False

    def _forked_dump(self, path, seq, label, meta):
        """Fork a child that writes `path`, wait for it here (this thread only), clean up
        after a child that died or hung. True when `path` was written."""
        result = forkdump.start_child(path, seq, label, self.values, meta)
        pid = result["pid"]
        limit = time.monotonic() + CHILD_TIMEOUT
        status = None
        while status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            elif time.monotonic() > limit:
                _say("snapshot %s took over %gs: stopping it" % (path, CHILD_TIMEOUT))
                try:
                    os.kill(pid, _signal.SIGKILL)
                except OSError:
                    pass
                _, status = os.waitpid(pid, 0)
            else:
                time.sleep(0.02)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return True
        if os.WIFSIGNALED(status):
            _say("the snapshot child for %s was killed by signal %d (out of memory?)"
                 % (path, os.WTERMSIG(status)))
        try:
            os.unlink("%s.tmp-%d" % (path, pid))
        except OSError:
            pass
        return False


def install(out="leakhunt-snaps", every=None, signal="SIGUSR2", tracemalloc=None,
            fork=True, keep=10, at_exit=True, values=False, max_disk=None, sigterm=True):
    """Take snapshots of this process into directory `out` from now on.

    every: seconds between snapshots (None: no timer). signal: a signal name or number
    that asks for one snapshot now (None: no handler; any existing Python handler is still
    called). tracemalloc: start tracemalloc with this many frames, so snapshots carry
    allocation sites. fork: walk in a forked child (POSIX), the process pauses only for
    fork(). keep: at most this many snapshots in `out` (0: no limit). max_disk: at most this
    many bytes of snapshots in `out` (None or 0: no limit). Beyond either, snapshots are
    thinned: the first (the baseline) and the newest always stay, and those between are
    deleted so that the rest stay evenly spread over the series (`choose_thinning`).
    at_exit: one more snapshot when the interpreter exits, before the application's own
    atexit handlers run. sigterm: with at_exit, and when SIGTERM has its default action,
    a SIGTERM takes the exit snapshot, then kills the process as SIGTERM would have.
    values: record short previews of str/bytes/int/float values.

    Returns the Recorder (its `stop()` ends the schedule), or None on failure; never
    raises. A second call replaces the first schedule."""
    global _current
    try:
        if _current is not None:
            _current.stop()
            _current = None
        rec = Recorder(out, every, signal, fork, keep, at_exit, values, max_disk, sigterm)
        if tracemalloc:
            import tracemalloc as _tm
            if not _tm.is_tracing():
                _tm.start(int(tracemalloc))
        rec.start()
        _current = rec
        return rec
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        _say("install failed: %s: %s" % (type(e).__name__, e))
        return None


def uninstall():
    """Stop the schedule started by `install()`, if any."""
    global _current
    if _current is not None:
        _current.stop()
        _current = None


def from_environ(environ=None):
    """Start `install()` from LEAKHUNT_* variables (what `leakhunt record` sets); returns
    the Recorder or None. LEAKHUNT_OUT (required), LEAKHUNT_EVERY (seconds, 0 = none),
    LEAKHUNT_SIGNAL (name or "none"), LEAKHUNT_TRACEMALLOC (frames), LEAKHUNT_FORK (0/1),
    LEAKHUNT_KEEP (count, 0 = no limit), LEAKHUNT_MAX_DISK (bytes, a plain integer; 0 or
    empty = no limit), LEAKHUNT_AT_EXIT (0/1), LEAKHUNT_SIGTERM (0/1: the exit snapshot
    on SIGTERM), LEAKHUNT_VALUES (0/1)."""
    env = os.environ if environ is None else environ
    try:
        out = env.get("LEAKHUNT_OUT")
        if not out:
            return None

        def number(name, default, kind=float):
            text = env.get(name, "").strip()
            return kind(text) if text else default

        def flag(name, default):
            text = env.get(name, "").strip().lower()
            return default if not text else text not in ("0", "no", "false", "off")

        sig = env.get("LEAKHUNT_SIGNAL", "SIGUSR2").strip() or None
        return install(out=out, every=number("LEAKHUNT_EVERY", None) or None,
                       signal=None if sig in (None, "none") else sig,
                       tracemalloc=number("LEAKHUNT_TRACEMALLOC", None, int),
                       fork=flag("LEAKHUNT_FORK", True),
                       keep=number("LEAKHUNT_KEEP", 10, int),
                       max_disk=number("LEAKHUNT_MAX_DISK", None, int) or None,
                       at_exit=flag("LEAKHUNT_AT_EXIT", True),
                       sigterm=flag("LEAKHUNT_SIGTERM", True),
                       values=flag("LEAKHUNT_VALUES", False))
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        _say("ignoring the LEAKHUNT_* settings: %s: %s" % (type(e).__name__, e))
        return None


def attach_dump(path, status_path, step, label, fork):
    """Run by `leakhunt attach` inside the target (through the debugger): write `path`
    (fork mode: start the child and return at once) and a one-line status file:
    `started PID`, `done OBJECTS` or `failed REASON`."""
    try:
        out = os.path.dirname(path)
        os.makedirs(out, exist_ok=True)
        meta = process_meta("attach")
        if fork and hasattr(os, "fork"):
            result = forkdump.dump_forked(path, step, label, False, False, meta)
            line = "started %d" % result["pid"]
        else:
            from .roots import thread_stacks
            import gc
            gc_was = gc.isenabled()
            gc.disable()
            try:
                from .dumper import take_snapshot
                meta.update(fork=False, pid=os.getpid(), gc_enabled=gc_was)
                res = take_snapshot(path, step, label, False, thread_stacks(), False, meta)
            finally:
                if gc_was:
                    gc.enable()
            line = "done %d" % res["objects"]
    except BaseException as e:
        line = "failed %s: %s" % (type(e).__name__, e)
    try:
        with open(status_path, "w") as f:
            f.write(line.replace("\n", " ") + "\n")
    except BaseException:
        pass
