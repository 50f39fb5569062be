"""Roots of the heap: modules, thread stacks, interpreter objects, and objects held from
outside the heap (refcount larger than the references found)."""

import os
import sys
from array import array
from itertools import compress, repeat
from operator import sub

from . import snapformat as F

try:
    from _collections import _count_elements
except ImportError:  # pragma: no cover - CPython always has it
    def _count_elements(mapping, iterable):
        for x in iterable:
            mapping[x] = mapping.get(x, 0) + 1

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_dumper_frame(f):
    try:
        return os.path.abspath(f.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep)
    except Exception:
        return False


def _thread_names():
    """{ident: name as UTF-8 bytes} from `threading`, if the application imported it.
    Bytes, so the result holds no reference to the application's str objects."""
    threading = sys.modules.get("threading")
    out = {}
    if threading is None:
        return out
    read = object.__getattribute__
    try:
        threads = list(threading.enumerate())
    except Exception:
        return out
    for t in threads:
        try:
            ident, name = read(t, "_ident"), read(t, "_name")
        except Exception:
            continue
        if type(ident) is int and type(name) is str:
            out[ident] = name.encode("utf-8", "backslashreplace")
    return out


def thread_stacks():
    """[(thread name bytes, [frames, innermost first])] for every thread, without the
    dumper's own frames. Taken as lists so a fork child never needs `f_back`."""
    from _thread import get_ident
    names = _thread_names()
    own = get_ident()
    stacks = []
    for ident, frame in list(sys._current_frames().items()):
        frames = []
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        if ident == own:
            while frames and _is_dumper_frame(frames[0]):
                frames.pop(0)
        name = names.get(ident) or ("thread-%d" % ident).encode()
        stacks.append((name, frames))
    return stacks


class RootList:
    """The ROOTS section being built: object, kind, name string id, extra."""

    def __init__(self, strings):
        self.strings = strings
        self.rows = array("I")

    def add(self, index, kind, name_sid=0, extra=0):
        self.rows.extend((index, kind, name_sid, extra))

    def add_modules(self, walker):
        for name, module in list(dict.items(sys.modules)):
            text = name if type(name) is str else "?"
            self.add(walker.add(module), F.ROOT_MODULE, self.strings.intern(text))

    def add_interpreter(self, walker):
        builtins = sys.modules.get("builtins")
        for name, obj in (("sys", sys), ("builtins", builtins), ("sys.modules", sys.modules)):
            if obj is not None:
                self.add(walker.add(obj), F.ROOT_INTERPRETER, self.strings.intern(name))

    def add_threads(self, walker, stacks):
        for name, frames in stacks:
            sid = self.strings.intern(name.decode("utf-8", "backslashreplace"))
            for depth, frame in enumerate(frames):
                self.add(walker.add(frame), F.ROOT_THREAD, sid, depth)
        return len(stacks)

    def __len__(self):
        return len(self.rows) // 4


def refcount_baseline():
    """How many references `sys.getrefcount` sees beyond the real ones when it is mapped
    over the dumper's object list (the list itself and the iteration's temporary)."""
    probe = object()
    held = [probe]
    return list(map(sys.getrefcount, held))[0] - 1


def refcounts(objs):
    """`sys.getrefcount` of every object, measured while only `objs` holds extra refs."""
    return list(map(sys.getrefcount, objs))


def held_from_outside(rc, targets, kinds, skip_flags, flags, baseline, first_found=None):
    """[(index, extra)] for objects whose refcount exceeds their strong in-degree.

    `rc` from `refcounts`; `kinds` marks WEAK edges (not counted); objects with any of
    `skip_flags` in `flags` (frames, immortals) are skipped. Objects from index
    `first_found` on were found through an edge; only WEAK edges do not count, so one
    with at most one reference beyond the dumper's and no WEAK edge into it cannot be
    held from outside: in-degrees are counted only for the other objects."""
    n = len(rc)
    if first_found is None or first_found > n:
        first_found = n
    need = bytearray(map((baseline + 1).__lt__, rc))
    need[:first_found] = bytes(map(baseline.__lt__, rc[:first_found]))
    weak = []
    if F.WEAK in kinds:
        start = 0
        while True:
            e = kinds.find(F.WEAK, start)
            if e < 0:
                break
            t = targets[e]
            weak.append(t)
            if rc[t] > baseline:
                need[t] = 1
            start = e + 1
    indeg = {}
    _count_elements(indeg, compress(targets, map(need.__getitem__, targets)))
    for t in weak:
        if t in indeg:
            indeg[t] -= 1
    candidates = list(compress(range(n), need))
    extra = list(map(sub, map(rc.__getitem__, candidates), map(indeg.get, candidates, repeat(0))))
    held = compress(zip(candidates, extra), map(baseline.__lt__, extra))
    return [(i, x - baseline) for i, x in held if not flags[i] & skip_flags]
