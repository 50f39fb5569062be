"""One snapshot, taken in this process: walk, roots, tables, write (formats/snap.md)."""

import gc
import sys
import time
from array import array
from itertools import repeat

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
    if in_fork_child:
        _materialise(stacks)
    objs = gc.get_objects()
    _drop_own(objs, [stacks, meta_extra] + [x for row in stacks for x in (row, row[1])])
    started = time.time()
    clock = time.perf_counter()
    strings = StringTable()
    walker = Walker(strings, in_fork_child)
    walker.seed(objs)
    del objs
    root_list = R.RootList(strings)
    root_list.add_modules(walker)
    root_list.add_interpreter(walker)
    threads = root_list.add_threads(walker, stacks)
    del stacks[:]
    walker.walk()
    walker.finish()
    order, walker.order = walker.order, None
    n, m = len(order), walker.edge_count()
    types, type_addr = walker.take_types()
    cols = walker.columns()
    del walker
    type_rows = _type_table(types, strings)
    del types

    # refcounts first, while the only extra references are the object list's
    baseline = R.refcount_baseline()
    rc = _u32_column(R.refcounts(order))

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
            allocsites.record(order, strings)
        sections += [(F.SEC_FRAMES, frames), (F.SEC_TB_OFFSETS, tb_offsets),
                     (F.SEC_TB_FRAMES, tb_frames), (F.SEC_OBJ_TRACEBACK, obj_tb)]
    if values:
        sections.append((F.SEC_VALUES, _values(order, strings)))
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
    })
    meta.update(meta_extra)
    meta["duration"] = round(time.perf_counter() - clock, 6)
    sections = [(F.SEC_META, to_json(meta).encode("utf-8")),
                (F.SEC_STR_OFFSETS, strings.offsets),
                (F.SEC_STR_DATA, strings.data)] + sections
    size = write_snapshot(path, sections, n, m)
    return {"path": path, "objects": n, "edges": m, "bytes": size,
            "seconds": round(time.perf_counter() - clock, 6)}


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
