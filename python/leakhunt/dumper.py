"""One snapshot, taken in this process: walk, roots, tables, write (formats/snap.md)."""

import gc
import os
import sys
import time
from array import array
from itertools import repeat

from . import allocsites
from . import roots as R
from . import snapformat as F
from . import tracelimit
from . import typeplans as P
from .metajson import to_json
from .strings import StringTable, preview_text, type_module, type_qualname
from .walk import Walker
from .writer import write_snapshot

DUMPER_VERSION = "0.1.0"

# when the package was imported: the process start time where /proc cannot tell it
_IMPORTED = (os.getpid(), time.time())
_START = [None, None, None]     # pid, process start (epoch seconds), source
_OWN_CPU = [0.0]                # CPU seconds this process spent in leakhunt's own dumps

def process_meta(reason, exit=False):
    """The META fields that describe the target process at the moment of the snapshot
    (formats/snap.md §3.1); `reason`: "interval", "signal", "exit", "attach" or "dump".
    Called in the target itself: in fork mode in the parent before forking, because the
    child's clocks are not the target's."""
    meta = {
        "reason": reason,
        "exit": bool(exit),
        "pid": os.getpid(),
        "cpu_seconds": round(_process_cpu(), 6),
        "dumper_cpu_seconds": round(_OWN_CPU[0], 6),
        "monotonic": time.monotonic(),
        "gc_collections": _gc_collections(),
    }
    start, source = process_start()
    if start is not None:
        meta["process_start"] = start
        meta["process_start_source"] = source
    return meta


def _process_cpu():
    """User + system CPU seconds of the whole process: os.times() at the resolution of
    CLOCK_PROCESS_CPUTIME_ID where there is one."""
    try:
        return time.process_time()
    except Exception:
        t = os.times()
        return t[0] + t[1]


def _gc_collections():
    try:
        return sum(int(g.get("collections", 0)) for g in gc.get_stats())
    except Exception:
        return None


def process_start():
    """(epoch seconds, "proc") from /proc/self/stat, else (import time, "import") in the
    process that imported leakhunt, else (None, None). Computed once per process, so every
    snapshot of one process carries the same value."""
    pid = os.getpid()
    if _START[0] != pid:
        start, source = _proc_start(), "proc"
        if start is None:
            start, source = (_IMPORTED[1], "import") if _IMPORTED[0] == pid else (None, None)
        _START[:] = [pid, start, source]
    return _START[1], _START[2]


def _proc_start():
    """Linux: boot time + field 22 (starttime, clock ticks after boot) of /proc/self/stat.
    Read with os calls (no `open`, which the application may have wrapped)."""
    try:
        fd = os.open("/proc/self/stat", os.O_RDONLY)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
        # the command name (field 2) is in parentheses and may hold spaces and ')'
        ticks = int(data[data.rindex(b")") + 2:].split()[19])
        hz = os.sysconf("SC_CLK_TCK")
        boot = _boot_time()
        if boot is None or hz <= 0:
            return None
        return round(boot + ticks / hz, 3)
    except Exception:
        return None


def _boot_time():
    """Epoch seconds of the boot: CLOCK_REALTIME - CLOCK_BOOTTIME (the clock starttime is
    counted in), else /proc/stat `btime` (whole seconds)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        try:
            return time.time() - time.clock_gettime(boottime)
        except OSError:
            pass
    fd = os.open("/proc/stat", os.O_RDONLY)
    try:
        data = b""
        while len(data) < (4 << 20):
            more = os.read(fd, 1 << 16)
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    for line in data.splitlines():
        if line.startswith(b"btime "):
            return float(line.split()[1])
    return None


thread_cpu = getattr(time, "thread_time", time.process_time)


def count_own_cpu(since):
    """Count the calling thread's CPU time since `thread_cpu()` was `since` as leakhunt's
    own (META `dumper_cpu_seconds`), so a reader can tell the application's work from the
    dumps'."""
    try:
        _OWN_CPU[0] += max(0.0, thread_cpu() - since)
    except Exception:
        pass


def take_snapshot(path, step, label, values, stacks, in_fork_child, meta_extra):
    """Walk the heap and write `path`. `stacks` is `roots.thread_stacks()` (taken by the
    caller: in fork mode, before forking). Returns the result dict.

    The cyclic GC must already be disabled by the caller."""
    limit = None
    if in_fork_child:
        # the child's own allocations record one frame (the objects keep theirs)
        if allocsites.is_tracing():
            import tracemalloc
            limit = tracemalloc.get_traceback_limit()
            if tracelimit.lower() is None:
                limit = None
        _materialise(stacks)
    objs = gc.get_objects()
    _drop_own(objs, [stacks, meta_extra] + [x for row in stacks for x in (row, row[1])])
    started = time.time()
    clock = time.perf_counter()
    strings = StringTable()
    walker = Walker(strings, in_fork_child)
    deep = _deep_caller()
    deep(walker.seed, objs)
    del objs
    root_list = R.RootList(strings)
    deep(root_list.add_modules, walker)
    deep(root_list.add_interpreter, walker)
    threads = deep(root_list.add_threads, walker, stacks)
    del stacks[:]
    deep(walker.walk)
    deep(walker.finish)
    order, walker.order = walker.order, None
    n, m = len(order), walker.edge_count()
    types, type_addr = walker.take_types()
    cols = walker.columns()
    del walker
    type_rows = _type_table(types, strings)
    del types

    # refcounts first, while the only extra references are the object list's
    baseline = R.refcount_baseline()
    rc = _u32_column(deep(R.refcounts, order))

    tracing = allocsites.is_tracing()
    sections = [
        (F.SEC_TYPES, type_rows),
        (F.SEC_TYPE_ADDR, type_addr),
        (F.SEC_OBJ_ADDR, cols["addrs"]),
        (F.SEC_OBJ_TYPE, cols["obj_type"]),
        (F.SEC_OBJ_SIZE, cols["sizes"]),
        (F.SEC_OBJ_FLAGS, cols["tracked"]),
        (F.SEC_OBJ_REFCOUNT, rc),
        (F.SEC_EDGE_COUNTS, cols["counts"]),
        (F.SEC_EDGE_TARGET_ADDR, cols["edge_addr"]),
        (F.SEC_EDGE_KIND, cols["kinds"]),
        (F.SEC_EDGE_LABEL, cols["labels"]),
        (F.SEC_ROOTS, root_list.rows),
        (F.SEC_ROOT_ADDR, root_list.addrs),
    ]
    meta = {"tracemalloc": tracing, "traceback_limit": None}
    if tracing:
        frames, tb_offsets, tb_frames, obj_tb, meta["traceback_limit"] = \
            deep(allocsites.record, order, strings)
        if limit is not None:
            meta["traceback_limit"] = limit     # the program's, not the child's own
        sections += [(F.SEC_FRAMES, frames), (F.SEC_TB_OFFSETS, tb_offsets),
                     (F.SEC_TB_FRAMES, tb_frames), (F.SEC_OBJ_TRACEBACK, obj_tb)]
    if values:
        sections.append((F.SEC_VALUES, deep(_values, order, strings)))
    del order

    meta.update({
        "format": "leakhunt-snap",
        "format_version": F.VERSION,
        "dumper_version": DUMPER_VERSION,
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "pointer_size": F.POINTER_SIZE,
        "time": started,
        "step": step,
        "label": label,
        "objects": n,
        "edges": m,
        "refcount_baseline": baseline,
        "platform": sys.platform,
        "argv": [a if type(a) is str else "?" for a in sys.argv],
        "threads": threads,
        "attr_names": ("dict" if not P.PY311 else "vars" if in_fork_child else "match"),
        "gc_counts": list(gc.get_count()),
        "gc_threshold": list(gc.get_threshold()),
    })
    meta.update(meta_extra)
    meta["duration"] = round(time.perf_counter() - clock, 6)
    sections = [(F.SEC_META, to_json(meta).encode("utf-8")),
                (F.SEC_STR_OFFSETS, strings.offsets),
                (F.SEC_STR_DATA, strings.data)] + sections
    size = deep(write_snapshot, path, sections, n, m)
    return {"path": path, "objects": n, "edges": m, "bytes": size,
            "seconds": round(time.perf_counter() - clock, 6)}


# How many frames `_deep_caller` puts between `take_snapshot` and its heavy calls, at most.
MAX_PAD = 256


def _deep_caller():
    """`call(f, *args)`: `f(*args)`, with, while tracemalloc traces, as many small frames
    below it as tracebacks hold frames (`tracemalloc.get_traceback_limit()`).

    tracemalloc records the innermost frames of every allocation, and for each it finds
    the line by scanning the code's line table up to the current instruction (linear in
    the instruction's position; on 3.11+ one entry per instruction). The dump allocates
    about ten objects per edge, each under the frames of `take_snapshot`, its callers and
    the application's, all at the far end of their code: that scanning was most of the
    dump's time. Below this padding those frames are beyond the traceback limit, and each
    pad frame is at the start of a tiny code object. What the snapshot records is not
    changed: the allocation sites of the application's objects were made before."""
    depth = 0
    try:
        tm = sys.modules.get("tracemalloc")
        if tm is not None and tm.is_tracing():
            f = sys._getframe()
            used = 0
            while f is not None:
                used += 1
                f = f.f_back
            # headroom for the walk's own calls, and for what the application's
            # recursion limit must still allow
            room = sys.getrecursionlimit() - used - 200
            depth = max(0, min(int(tm.get_traceback_limit()), MAX_PAD, room))
    except Exception:
        depth = 0

    def call(f, *args):
        return _padded(depth, f, args)
    return call


def _padded(depth, f, args):
    if depth:
        return _padded(depth - 1, f, args)
    return f(*args)


def _materialise(stacks):
    """Fork child: create now, before `gc.get_objects()`, the objects that reading names
    would create during the walk: the `__dict__` of 3.11+ inline-values instances and the
    `f_locals` of the recorded frames (≤3.12). The parent never sees them. (On 3.13 the
    values stay inline when the dict is made, and the walk reads names from a dict made
    on the fly, so nothing needs making first.)"""
    if not P.PY313:
        for _, frames in stacks:
            for f in frames:
                try:
                    f.f_locals
                except Exception:
                    pass
    if not P.PY311 or P.PY313:
        return
    getters = {}
    for o in gc.get_objects():
        t = type(o)
        get = getters.get(id(t), _UNSET)
        if get is _UNSET:
            get = getters[id(t)] = P.dict_getter(t)
        if get is not None:
            try:
                get(o)
            except Exception:
                pass


_UNSET = object()


def _drop_own(objs, own):
    """Remove the dumper's containers that existed before `gc.get_objects()` from `objs`.
    They are young, so they sit near the front (generation 0 is listed first)."""
    wanted = {id(x) for x in own if gc.is_tracked(x)}
    found = []
    for i, o in enumerate(objs):
        if id(o) in wanted:
            found.append(i)
            if len(found) == len(wanted):
                break
    for i in reversed(found):
        del objs[i]


def _type_table(types, strings):
    """TYPES rows: the names, NONE for the type object's number (the reader resolves it from
    TYPE_ADDR) and the OBJ_FLAGS bits every object of the type has (the reader ORs them in)."""
    rows = array("I")
    for t in types:
        rows.extend((strings.intern(type_qualname(t)), strings.intern(type_module(t)),
                     F.NONE, _type_flags(t)))
    return rows


def _u32_column(rc):
    """OBJ_REFCOUNT: refcounts as u32, saturated."""
    try:
        return array("I", rc)
    except OverflowError:
        return array("I", map(min, rc, repeat(F.NONE)))


def _type_flags(t):
    mro = P.type_mro(t)
    bits = 0
    if P.has_in_mro(mro, P.ReferenceType) or any(t is p for p in P.ProxyTypes):
        bits |= F.F_IS_WEAKREF
    if P.has_in_mro(mro, P.ModuleType):
        bits |= F.F_IS_MODULE
    if t is P.FrameType:
        bits |= F.F_IS_FRAME
    if P.has_in_mro(mro, type):
        bits |= F.F_IS_CLASS
    if P.PY311 and P.is_heap_type(t) and P._tflags(t) & P.MANAGED_DICT:
        bits |= F.F_SIZE_UNDERREPORTED
    return bits


def _values(objs, strings):
    """VALUES rows for str/bytes/int/float objects."""
    rows = array("I")
    for i, o in enumerate(objs):
        t = type(o)
        if t is str or t is bytes or t is int or t is float or t is bool:
            text = preview_text(o)
            if text is not None:
                rows.extend((i, strings.intern(text)))
    return rows
