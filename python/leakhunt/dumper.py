"""One snapshot, taken in this process: walk, roots, tables, write (formats/snap.md)."""

import gc
import sys
import time
from array import array
from itertools import compress, count, islice

from . import allocsites
from . import roots as R
from . import snapformat as F
from . import typeplans as P
from .metajson import to_json
from .strings import StringTable, preview_text, type_module, type_qualname
from .walk import Walker
from .writer import write_snapshot

DUMPER_VERSION = "0.1.0"


def take_snapshot(path, step, label, values, stacks, in_fork_child, meta_extra):
    """Walk the heap and write `path`. `stacks` is `roots.thread_stacks()` (taken by the
    caller: in fork mode, before forking). Returns the result dict.

    The cyclic GC must already be disabled by the caller."""
    objs = gc.get_objects()
    _drop_own(objs, [stacks, meta_extra] + [x for row in stacks for x in (row, row[1])])
    started = time.time()
    clock = time.perf_counter()
    strings = StringTable()
    walker = Walker(strings, in_fork_child)
    walker.seed(objs)
    root_list = R.RootList(strings)
    root_list.add_modules(walker)
    root_list.add_interpreter(walker)
    threads = root_list.add_threads(walker, stacks)
    del stacks[:]
    walker.walk()
    targets = walker.finish()
    objs = walker.objs
    n, m = len(objs), len(targets)
    types, type_objects = walker.take_types()
    type_table = _type_table(types, type_objects, strings)
    del types

    # refcounts first, while the only extra references are the object list's
    baseline = R.refcount_baseline()
    rc = R.refcounts(objs)
    tables = _object_tables(objs, walker.obj_type, type_table, walker.n_seed)
    flags = tables["flags"]
    for i in compress(count(), map(F.IMMORTAL_REFCOUNT.__le__, rc)):
        flags[i] |= F.F_IMMORTAL
    for index, extra in R.held_from_outside(rc, targets, walker.kinds,
                                            F.F_IMMORTAL | F.F_IS_FRAME, flags, baseline,
                                            walker.n0):
        root_list.add(index, F.ROOT_HELD_FROM_OUTSIDE, 0, min(extra, F.NONE - 1))
    del rc

    tracing = allocsites.is_tracing()
    sections = [
        (F.SEC_TYPES, tables["types"]),
        (F.SEC_OBJ_ADDR, array("Q", map(id, objs))),
        (F.SEC_OBJ_TYPE, tables["obj_type"]),
        (F.SEC_OBJ_SIZE, tables["sizes"]),
        (F.SEC_OBJ_FLAGS, flags),
        (F.SEC_EDGE_OFFSETS, walker.offsets),
        (F.SEC_EDGE_TARGET, targets),
        (F.SEC_EDGE_KIND, walker.kinds),
        (F.SEC_EDGE_LABEL, walker.labels),
        (F.SEC_ROOTS, root_list.rows),
    ]
    meta = {"tracemalloc": tracing, "traceback_limit": None}
    if tracing:
        frames, tb_offsets, tb_frames, obj_tb, meta["traceback_limit"] = \
            allocsites.record(objs, strings)
        sections += [(F.SEC_FRAMES, frames), (F.SEC_TB_OFFSETS, tb_offsets),
                     (F.SEC_TB_FRAMES, tb_frames), (F.SEC_OBJ_TRACEBACK, obj_tb)]
    if values:
        sections.append((F.SEC_VALUES, _values(objs, strings)))
    del objs
    walker.objs = None
    walker.seen = None

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
        "platform": sys.platform,
        "argv": [a if type(a) is str else "?" for a in sys.argv],
        "threads": threads,
        "attr_names": ("dict" if not P.PY311 else "vars" if in_fork_child else "match"),
        "gc_counts": list(gc.get_count()),
    })
    meta.update(meta_extra)
    meta["duration"] = round(time.perf_counter() - clock, 6)
    sections = [(F.SEC_META, to_json(meta).encode("utf-8")),
                (F.SEC_STR_OFFSETS, strings.offsets),
                (F.SEC_STR_DATA, strings.data)] + sections
    size = write_snapshot(path, sections, n, m)
    return {"path": path, "objects": n, "edges": m, "bytes": size,
            "seconds": round(time.perf_counter() - clock, 6)}


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


def _type_table(types, type_objects, strings):
    """TYPES rows, per-type OBJ_FLAGS bits and the numbers of the types whose instances
    must not be sized with sys.getsizeof, for the walker's type list."""
    rows = array("I")
    type_flags = []
    overridden = set()
    for j, t in enumerate(types):
        rows.extend((strings.intern(type_qualname(t)), strings.intern(type_module(t)),
                     type_objects[j], 0))
        type_flags.append(_type_flags(t))
        if P.is_heap_type(t) and P.sizeof_overridden(P.type_mro(t)):
            overridden.add(j)
    return rows, type_flags, overridden


def _object_tables(objs, obj_type, type_table, n_seed):
    """TYPES, OBJ_TYPE, OBJ_SIZE and OBJ_FLAGS (without IMMORTAL) for `objs`."""
    types, type_flags, overridden = type_table
    # OR of two byte columns, done on two big ints (the type bits never include bit 0)
    n = len(objs)
    # the seed (gc.get_objects()) is tracked: ask only about the objects found later
    seeded = min(n_seed, n)
    later = bytes(map(gc.is_tracked, islice(objs, seeded, None)))
    tracked = int.from_bytes(b"\x01" * seeded + later, "little")
    by_type = int.from_bytes(bytes(map(type_flags.__getitem__, obj_type)), "little")
    flags = bytearray((tracked | by_type).to_bytes(n, "little"))
    return {"types": types, "obj_type": obj_type, "flags": flags,
            "sizes": _sizes(objs, obj_type, overridden)}


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


def _sizes(objs, obj_type, overridden):
    """sys.getsizeof per object; `object.__sizeof__` for classes with a Python __sizeof__
    (those objects are swapped for None while mapping, so their __sizeof__ never runs)."""
    bad = []
    if overridden:
        bad = [i for i, j in enumerate(obj_type) if j in overridden]
    safe = objs
    if bad:
        safe = list(objs)
        for i in bad:
            safe[i] = None
    try:
        sizes = array("Q", map(sys.getsizeof, safe))
    except Exception:
        sizes = array("Q", map(_size_or_zero, safe))
    for i in bad:
        sizes[i] = object.__sizeof__(objs[i])
    return sizes


def _size_or_zero(o):
    try:
        return sys.getsizeof(o)
    except Exception:
        return 0


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
