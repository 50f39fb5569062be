"""leakhunt: dump a CPython heap to a `.snap` file for offline leak analysis.

    import leakhunt
    leakhunt.dump("/tmp/app-1.snap", step=1, label="after warm-up")

The format is specified in formats/snap.md. The dumper uses the standard library only,
never runs application code (no repr, __eq__, __hash__, __getattr__, properties), never
calls gc.collect(), keeps no reference to what it inspected, and never raises into the
application: on failure it prints one line to stderr and returns None. KeyboardInterrupt is
the one exception that propagates (after the temporary file is removed and the GC state
restored), so Ctrl-C still stops a long dump.
"""

import gc
import os
import sys

from . import addresses
from .dumper import DUMPER_VERSION as __version__
from .dumper import count_own_cpu, process_meta, take_snapshot, thread_cpu

# ctypes (see `addresses`) is imported now, not at the first dump: on some versions its
# import leaves a few garbage cycles, which the GC frees long before a snapshot is taken
addresses.fast()

__all__ = ["dump", "install", "__version__"]


def dump(path, step=None, label=None, fork=False, values=False, wait=False):
    """Write a snapshot of the heap to `path`.

    step, label: recorded in the snapshot's META (ordering and naming snapshots).
    fork: walk and write in a forked child (POSIX); the application pauses only for
        `fork()`. The child's memory grows to about the heap's size while it walks.
    values: also record short previews of str/bytes/int/float values (off by default,
        so secrets do not end up in bug reports).
    wait: with fork=True, wait for the child and report its counts.

    Returns a dict {path, objects, edges, bytes, seconds, ...} (fork mode without wait:
    objects/edges/bytes/seconds are None, plus pid, pause_ms, fork_ms), or None on failure.
    """
    return _dump(path, step, label, fork, values, wait, None)


def _dump(path, step, label, fork, values, wait, meta):
    """dump(), with `meta`: the process's META fields (`dumper.process_meta`) taken by the
    caller, or None for a plain dump (reason "dump", taken now)."""
    try:
        path = os.fsdecode(os.fspath(path))
        if meta is None:
            meta = process_meta("dump")
        if fork:
            if not hasattr(os, "fork"):
                raise OSError("fork=True needs os.fork (POSIX)")
            from .forkdump import dump_forked
            return dump_forked(path, step, label, values, wait, meta)
        return _dump_here(path, step, label, values, meta)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        try:
            sys.stderr.write("leakhunt: dump to %r failed: %s: %s\n" % (path, type(e).__name__, e))
        except BaseException:
            pass
        return None


def install(out="leakhunt-snaps", every=None, signal="SIGUSR2", tracemalloc=None, fork=True,
            keep=10, at_exit=True, values=False, max_disk=None, sigterm=True):
    """Snapshots from now on into directory `out`: every `every` seconds, on `signal`, at
    exit and on SIGTERM, named `snap-<seq>-<time>.snap` (step = seq); beyond `keep` files or
    `max_disk` bytes the series is thinned, keeping the first, the newest and an even
    spread between. Returns a Recorder (`.stop()`), or None on failure; never raises. See
    capture.py."""
    from .capture import install as _install
    return _install(out=out, every=every, signal=signal, tracemalloc=tracemalloc, fork=fork,
                    keep=keep, at_exit=at_exit, values=values, max_disk=max_disk,
                    sigterm=sigterm)


def _dump_here(path, step, label, values, meta):
    from .roots import thread_stacks
    cpu = thread_cpu()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        # one dict, dropped from the walk as the dumper's own
        meta.update(fork=False, pid=os.getpid(), gc_enabled=gc_was)
        return take_snapshot(path, step, label, values, thread_stacks(), False, meta)
    finally:
        if gc_was:
            gc.enable()
        count_own_cpu(cpu)
