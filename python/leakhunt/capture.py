"""Snapshots without touching the application: on an interval, on a signal and at exit.

    import leakhunt
    leakhunt.install(out="snaps/", every=30, signal="SIGUSR2", tracemalloc=25)

Files are named `snap-<seq:06>-<unix time>.snap` with META step = seq, so `leakhunt diff DIR`
orders them; the sequence continues after the highest one already in the directory. Dumps are
taken by one daemon thread (the signal handler only wakes it), in fork mode by default, so
the application pauses only for `fork()`; the thread waits for the child, then deletes the
oldest snapshots beyond `keep`. Nothing here raises into the application: failures are one
line on stderr (`leakhunt: ...`) and the application carries on.
"""

import atexit
import os
import signal as _signal
import sys
import threading
import time

from . import dump as _dump_here_or_fork
from . import forkdump

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


def snap_seq(name):
    """The sequence number of a file named `snap-<seq>-<time>.snap`, else None."""
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    parts = name[len(PREFIX):-len(SUFFIX)].split("-")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0])


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


def rotate(out, keep):
    """Delete the oldest snapshots of `out` beyond the newest `keep` (0 keeps all)."""
    if not keep:
        return
    try:
        have = snapshots(out)
    except OSError:
        return
    for _, name in have[:max(0, len(have) - keep)]:
        try:
            os.unlink(os.path.join(out, name))
        except OSError:
            pass


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


class Recorder(object):
    """One process's snapshot schedule: the worker thread, the signal handler, the atexit
    hook. Make it with `install()`."""

    def __init__(self, out, every, sig, fork, keep, at_exit, values):
        self.out = os.path.abspath(os.fsdecode(os.fspath(out)))
        self.every = float(every) if every else None
        self.signum = _signal_number(sig)
        self.fork = bool(fork) and hasattr(os, "fork")
        self.keep = int(keep or 0)
        self.at_exit = at_exit
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

    # -- triggers --------------------------------------------------------------------

    def start(self):
        try:
            os.makedirs(self.out, exist_ok=True)
        except OSError as e:
            _say("cannot create %s: %s (snapshots will fail until it can be written)"
                 % (self.out, e.strerror or e))
        if self.signum is not None:
            if threading.current_thread() is threading.main_thread():
                self.previous_handler = _signal.signal(self.signum, self._on_signal)
            else:
                _say("install() outside the main thread: no %s handler"
                     % _signal.Signals(self.signum).name)
        if self.every or self.signum is not None:
            self.thread = threading.Thread(target=self._run, name="leakhunt-recorder")
            self.thread.daemon = True
            self.thread.start()
        if self.at_exit:
            atexit.register(self._on_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked)

    def _on_signal(self, signum, frame):
        if os.getpid() != self.pid or self.stopping:
            return
        self.requests += 1
        self.wake.set()
        prev = self.previous_handler
        if callable(prev) and prev is not self._on_signal:
            prev(signum, frame)

    def _forked(self):
        # a child of the application (or our own dump child): it records nothing, and the
        # signal means in it what it meant before install()
        self.stopping = True
        if self.signum is not None:
            try:
                if _signal.getsignal(self.signum) == self._on_signal:
                    _signal.signal(self.signum, self.previous_handler or _signal.SIG_DFL)
            except (ValueError, TypeError, OSError, RuntimeError):
                pass

    def _run(self):
        # The kernel may deliver a process signal to any thread that does not block it. If
        # this thread took it, a main thread blocked in a read() would never run the Python
        # handler (only the main thread runs handlers): block it here so it goes elsewhere.
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
                reason = "signal " + _signal.Signals(self.signum).name
            elif deadline is not None and time.monotonic() >= deadline:
                reason = "every %gs" % self.every
            else:
                continue
            if deadline is not None:
                deadline = time.monotonic() + self.every
            with self.lock:
                if not self.stopping:
                    self.snapshot(reason)

    def _on_exit(self):
        if os.getpid() != self.pid or self.stopping:
            return
        self.stopping = True
        self.wake.set()
        if self.lock.acquire(timeout=EXIT_WAIT):
            try:
                self.snapshot("at exit")
            finally:
                self.lock.release()
        else:
            _say("a snapshot still in progress after %gs; no snapshot at exit" % EXIT_WAIT)

    def stop(self):
        """Stop the schedule (no more interval, signal or exit snapshots)."""
        self.stopping = True
        self.wake.set()
        if self.signum is not None and threading.current_thread() is threading.main_thread():
            try:
                if _signal.getsignal(self.signum) == self._on_signal:
                    _signal.signal(self.signum, self.previous_handler or _signal.SIG_DFL)
            except (ValueError, TypeError, OSError):
                pass
        try:
            atexit.unregister(self._on_exit)
        except Exception:
            pass

    # -- one snapshot ----------------------------------------------------------------

    def snapshot(self, reason):
        """Take one snapshot now (the caller holds `self.lock`); returns its path or None.
        Never raises (KeyboardInterrupt aside)."""
        try:
            return self._snapshot(reason)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            _say("snapshot failed: %s: %s" % (type(e).__name__, e))
            return None

    def _snapshot(self, reason):
        os.makedirs(self.out, exist_ok=True)
        if not self._room_for_one():
            return None
        seq, path = next_path(self.out)
        label = "%s (#%d)" % (reason, seq)
        # 3.12+ refuses fork() once finalisation begins; at exit a pause costs nothing
        here = not self.fork or (reason == "at exit" and sys.version_info >= (3, 12))
        if not here:
            try:
                ok = self._forked_dump(path, seq, label)
            except forkdump.ShuttingDown:
                # an interval or signal snapshot that began as the process started to
                # exit: the exit hook takes the last snapshot, in-process, right after
                if reason != "at exit":
                    return None
                here = True
        if here:
            ok = _dump_here_or_fork(path, step=seq, label=label, values=self.values) is not None
        if not ok:
            return None
        self.written += 1
        try:
            self.last_size = os.path.getsize(path)
        except OSError:
            pass
        rotate(self.out, self.keep)
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

    def _forked_dump(self, path, seq, label):
        """Fork a child that writes `path`, wait for it here (this thread only), clean up
        after a child that died or hung. True when `path` was written."""
        result = forkdump.start_child(path, seq, label, self.values)
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
            fork=True, keep=10, at_exit=True, values=False):
    """Take snapshots of this process into directory `out` from now on.

    every: seconds between snapshots (None: no timer). signal: a signal name or number
    that asks for one snapshot now (None: no handler; any existing Python handler is still
    called). tracemalloc: start tracemalloc with this many frames, so snapshots carry
    allocation sites. fork: walk in a forked child (POSIX), the process pauses only for
    fork(). keep: delete the oldest snapshots beyond this many (0 keeps all). at_exit: one
    more snapshot when the interpreter exits normally. values: record short previews of
    str/bytes/int/float values.

    Returns the Recorder (its `stop()` ends the schedule), or None on failure; never
    raises. A second call replaces the first schedule."""
    global _current
    try:
        if _current is not None:
            _current.stop()
            _current = None
        if tracemalloc:
            import tracemalloc as _tm
            if not _tm.is_tracing():
                _tm.start(int(tracemalloc))
        rec = Recorder(out, every, signal, fork, keep, at_exit, values)
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
    LEAKHUNT_KEEP (count, 0 = all), LEAKHUNT_AT_EXIT (0/1), LEAKHUNT_VALUES (0/1)."""
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
                       at_exit=flag("LEAKHUNT_AT_EXIT", True),
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
        if fork and hasattr(os, "fork"):
            result = forkdump.dump_forked(path, step, label, False, False)
            line = "started %d" % result["pid"]
        else:
            from .roots import thread_stacks
            import gc
            gc_was = gc.isenabled()
            gc.disable()
            try:
                from .dumper import take_snapshot
                res = take_snapshot(path, step, label, False, thread_stacks(), False,
                                    {"fork": False, "pid": os.getpid(), "gc_enabled": gc_was})
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
