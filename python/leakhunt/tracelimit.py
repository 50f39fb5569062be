"""A traced dump's own allocations, cheaper: in a forked dump child only, tracemalloc records
one frame for each new allocation instead of the program's traceback limit.

While tracemalloc traces, every allocation the walk makes (lists, ints, tuples: tens per
object) captures the limit's frames; at 10 frames a traced dump costs about ten times an
untraced one, at 1 frame about three. The objects being dumped keep the tracebacks they were
born with (a limit only applies to new allocations), and what the child allocates dies with
it, so lowering the limit there changes nothing the snapshot records, and nothing in the
program. CPython offers no call for it while tracing; the limit is an int in the
interpreter's tracemalloc config, exported as `_Py_tracemalloc_config` on 3.8-3.11 (checked
against its known neighbours, initialized 1 and tracing 1, and proved by
`tracemalloc.get_traceback_limit()` reading the new value; anything unexpected leaves it
alone). 3.12+ keeps it inside `_PyRuntime` with no symbol: nothing is changed there. Never
used in the program's own process.
"""

import sys


def _config_ints(ctypes, limit):
    """The c_int array whose third int is the traceback limit, or None. Only where the
    interpreter exports its tracemalloc config (3.8-3.11): on 3.12+ it sits inside
    `_PyRuntime` at an offset no header gives, and a search by value could hit a live
    counter."""
    if sys.version_info >= (3, 12):
        return None
    try:
        cfg = (ctypes.c_int * 3).in_dll(ctypes.pythonapi, "_Py_tracemalloc_config")
    except (ValueError, AttributeError):
        return None
    return cfg if list(cfg) == [1, 1, limit] else None


def lower():
    """In a fork child that traces: make new allocations record one frame. Returns a
    callable that puts the limit back, or None when nothing was changed."""
    try:
        import ctypes
        import tracemalloc
        limit = tracemalloc.get_traceback_limit()
        if not tracemalloc.is_tracing() or limit <= 1:
            return None
        cfg = _config_ints(ctypes, limit)
        if cfg is None:
            return None
        cfg[2] = 1
        if tracemalloc.get_traceback_limit() != 1:
            cfg[2] = limit
            return None

        def restore():
            cfg[2] = limit
        return restore
    except Exception:
        return None
