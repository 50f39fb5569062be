"""Roots of the heap: modules, thread stacks and interpreter objects; and the refcounts from
which the reader finds the objects held from outside the heap (formats/snap.md §5)."""

import os
import sys
from array import array

from . import snapformat as F

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
    """The ROOTS and ROOT_ADDR sections being built: (NONE, kind, name string id, extra)
    rows and the address of each root's object (the reader numbers them)."""

    def __init__(self, strings):
        self.strings = strings
        self.rows = array("I")
        self.addrs = array("Q")

    def add(self, addr, kind, name_sid=0, extra=0):
        self.rows.extend((F.NONE, kind, name_sid, extra))
        self.addrs.append(addr)

    def add_modules(self, walker):
        for name, module in list(dict.items(sys.modules)):
            text = name if type(name) is str else "?"
            self.add(walker.root(module), F.ROOT_MODULE, self.strings.intern(text))

    def add_interpreter(self, walker):
        builtins = sys.modules.get("builtins")
        for name, obj in (("sys", sys), ("builtins", builtins), ("sys.modules", sys.modules)):
            if obj is not None:
                self.add(walker.root(obj), F.ROOT_INTERPRETER, self.strings.intern(name))

    def add_threads(self, walker, stacks):
        for name, frames in stacks:
            sid = self.strings.intern(name.decode("utf-8", "backslashreplace"))
            for depth, frame in enumerate(frames):
                self.add(walker.root(frame), F.ROOT_THREAD, sid, depth)
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
