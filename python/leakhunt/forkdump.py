"""Fork mode: the child walks and writes the snapshot; the parent only pauses for `fork()`.

The thread stacks are taken in the parent, as lists, before forking: in the child only the
forking thread exists, and following `f_back` of another thread's frame there crashed
CPython 3.12.1. The child always leaves with `os._exit` (no atexit handlers, no flushing of
the parent's buffers) and reports errors with `os.write(2, ...)` (another thread may have
held the lock of `sys.stderr` when the process forked)."""

import gc
import os
import sys
import time

from . import roots as R
from . import snapformat as F
from .dumper import count_own_cpu, process_meta, take_snapshot, thread_cpu


def dump_forked(path, step, label, values, wait, meta=None):
    """Fork; the child writes `path`. Returns the parent's result dict, or None when the
    child failed (only known with `wait=True`)."""
    result = start_child(path, step, label, values, meta)
    pid = result["pid"]
    if not wait:
        import _thread
        _thread.start_new_thread(_reap, (pid,))
        result.pop("_clock", None)
        return result
    _, status = os.waitpid(pid, 0)
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        raise RuntimeError("dump child %d failed (status %d)" % (pid, status))
    return finish(result)


def start_child(path, step, label, values, meta=None):
    """Fork a child that writes `path` and leaves; returns the parent's result dict (with
    the child's pid). The caller must reap the child (`os.waitpid`). `meta`: the process's
    META fields (`dumper.process_meta`), taken here in the parent when None: the child's
    clocks are not the target's."""
    clock = time.perf_counter()
    if meta is None:
        meta = process_meta("dump")
    cpu = thread_cpu()
    try:
        stacks = R.thread_stacks()
        parent = os.getpid()
        gc_was = gc.isenabled()
        fork_clock = time.perf_counter()
        pid = _fork()
        if pid == 0:
            _child(path, step, label, values, stacks, parent, gc_was, meta)
    finally:
        count_own_cpu(cpu)
    pause = time.perf_counter() - clock
    fork_only = time.perf_counter() - fork_clock
    del stacks[:]
    return {"path": path, "pid": pid, "fork": True, "pause_ms": round(pause * 1e3, 3),
            "fork_ms": round(fork_only * 1e3, 3), "objects": None, "edges": None,
            "bytes": None, "seconds": None, "_clock": clock}


class ShuttingDown(RuntimeError):
    """os.fork() was refused because the interpreter has begun to exit (3.12+)."""


def _fork():
    """os.fork(), without the DeprecationWarning 3.12+ gives when the process has threads
    (the child only walks and writes, then leaves with os._exit): the warning would land in
    the application's stderr under -W default or -X dev, and in its __warningregistry__.
    Raises ShuttingDown once finalisation has begun: 3.12+ refuses fork() from the start
    of Py_FinalizeEx, before the atexit hooks run."""
    if sys.version_info < (3, 12):
        return os.fork()
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return os.fork()
    except RuntimeError as e:
        if "shutdown" in str(e):
            raise ShuttingDown(str(e))
        raise


def finish(result):
    """Fill in the counts of `result` from the file its child wrote (after a clean exit)."""
    path = result["path"]
    result["objects"], result["edges"] = read_trailer_counts(path)
    result["bytes"] = os.path.getsize(path)
    result["seconds"] = round(time.perf_counter() - result.pop("_clock"), 6)
    return result


def _reap(pid):
    """Wait for the child in a background thread, so it never lingers as a zombie."""
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


def _child(path, step, label, values, stacks, parent, gc_was, meta):
    code = 1
    try:
        gc.disable()
        # the child's copy of the parent's dict: dropped from the walk as the dumper's own
        meta.update(fork=True, pid=parent, gc_enabled=gc_was)
        take_snapshot(path, step, label, values, stacks, True, meta)
        code = 0
    except BaseException as e:
        try:
            os.write(2, ("leakhunt: dump to %r failed in the fork child: %s: %s\n"
                         % (path, type(e).__name__, e)).encode("utf-8", "replace"))
        except BaseException:
            pass
    finally:
        os._exit(code)


def read_trailer_counts(path):
    """(objects, edges) from the trailer of a written snapshot."""
    with open(path, "rb") as f:
        f.seek(-F.TRAILER_SIZE, os.SEEK_END)
        magic, objects, edges, _crc, _ = F.TRAILER_STRUCT.unpack(f.read(F.TRAILER_SIZE))
    if magic != F.TRAILER_MAGIC:
        raise ValueError("%s: no snapshot trailer" % path)
    return objects, edges
