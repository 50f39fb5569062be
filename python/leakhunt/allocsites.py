"""Allocation sites from tracemalloc (sections FRAMES, TB_OFFSETS, TB_FRAMES, OBJ_TRACEBACK).

Each object's traceback is read with the private `_tracemalloc._get_object_traceback(obj)`
when it returns what `tracemalloc.get_object_traceback` is built from (3.8-3.13: a tuple of
(filename, lineno) tuples, the allocating frame first, that `tracemalloc.Traceback`
reverses): no Traceback and Frame objects per object. This is checked on a probe object
against the public API the first time; when the private function is missing or its
answer is not that, the public API is used (same result, slower)."""

import sys
from array import array

from . import snapformat as F

_raw = [None]        # the checked private reader, False to use the public API, None: unchecked


def is_tracing():
    tm = sys.modules.get("tracemalloc")
    try:
        return tm is not None and tm.is_tracing()
    except Exception:
        return False


def _public_key(tb):
    """The traceback key, oldest frame first, from `tracemalloc.get_object_traceback`."""
    return tuple((fr.filename, fr.lineno) for fr in tb)


def _raw_reader():
    """`_tracemalloc._get_object_traceback` when it checks out against the public API on
    a probe allocated now (tracing on), else False."""
    try:
        import tracemalloc
        get = getattr(sys.modules.get("_tracemalloc"), "_get_object_traceback", None)
        if get is None:
            return False
        # (objects that never come from a free list: their memory is allocated now)
        probe = object()
        raw = get(probe)
        tb = tracemalloc.get_object_traceback(probe)
        if type(raw) is not tuple or not raw or tb is None:
            return False
        for site in raw:
            if (type(site) is not tuple or len(site) != 2 or type(site[0]) is not str
                    or type(site[1]) is not int):
                return False
        if raw[::-1] != _public_key(tb):
            return False
        return get
    except Exception:
        return False


_MANAGED_DICT = 1 << 4   # Py_TPFLAGS_MANAGED_DICT (3.11)
_UNSET = object()
_managed = [_UNSET]      # the 3.11 pre-header reader, made once (None: not needed here)


def _managed_dict_reader():
    """On CPython 3.11 only: obj -> raw traceback (allocating frame first) or None, for
    instances whose class keeps its `__dict__` in the two-word pre-header 3.11 puts before
    the GC header. 3.11's get_object_traceback looks up the block at the GC header, misses
    the pre-header and finds nothing for every such instance (user classes: most of what a
    leak is made of); the block starts two words earlier. `_PyTraceMalloc_GetTraceback`
    only looks that address up in tracemalloc's table (nothing is dereferenced). None when
    not 3.11 or the function is absent."""
    if sys.version_info[:2] != (3, 11):
        return None
    try:
        import ctypes
        fn = ctypes.pythonapi._PyTraceMalloc_GetTraceback
        fn.argtypes = (ctypes.c_uint, ctypes.c_size_t)
        fn.restype = ctypes.py_object
        back = 4 * ctypes.sizeof(ctypes.c_void_p)   # GC header + pre-header

        def raw(o):
            if not type(o).__flags__ & _MANAGED_DICT:
                return None
            tb = fn(0, id(o) - back)
            return tb if type(tb) is tuple and tb else None
        return raw
    except Exception:
        return None


def reader(public=False):
    """obj -> its traceback key (tuple of (filename, lineno), oldest first) or None."""
    key = _reader(public)
    if not public and _managed[0] is _UNSET:
        _managed[0] = _managed_dict_reader()
    managed = None if public else _managed[0]
    if managed is None:
        return key

    def either(o):
        k = key(o)
        if k is None:
            raw = managed(o)
            if raw is not None:
                k = raw[::-1]
        return k
    return either


def _reader(public):
    """obj -> its traceback key through tracemalloc's own lookup (see `reader`)."""
    import tracemalloc
    if not public:
        if _raw[0] is None:
            _raw[0] = _raw_reader()
        get = _raw[0]
        if get:
            def key(o):
                raw = get(o)
                return None if raw is None else raw[::-1]
            return key
    get_tb = tracemalloc.get_object_traceback

    def key(o):
        tb = get_tb(o)
        return None if tb is None else _public_key(tb)
    return key


def record(objs, strings, public=False):
    """(frames, tb_offsets, tb_frames, obj_traceback, traceback_limit) for `objs`.
    `public`: read the tracebacks with the public API only (tests)."""
    import tracemalloc
    get_key = reader(public)
    frame_ids = {}
    frames = array("I")
    tb_ids = {}
    tb_offsets = array("I", [0])
    tb_frames = array("I")
    obj_tb = array("I")
    append = obj_tb.append
    NONE = F.NONE
    for o in objs:
        try:
            key = get_key(o)
        except Exception:
            key = None
        if key is None:
            append(NONE)
            continue
        j = tb_ids.get(key)
        if j is None:
            try:
                _new_traceback(key, frame_ids, frames, tb_frames, strings)
            except Exception:
                append(NONE)
                continue
            j = tb_ids[key] = len(tb_offsets) - 1
            tb_offsets.append(len(tb_frames))
        append(j)
    return frames, tb_offsets, tb_frames, obj_tb, tracemalloc.get_traceback_limit()


def _new_traceback(key, frame_ids, frames, tb_frames, strings):
    """Append the frame ids of traceback `key` to `tb_frames` (new frames to `frames`);
    nothing is appended when it fails."""
    fids = []
    for site in key:
        fid = frame_ids.get(site)
        if fid is None:
            name = site[0] if type(site[0]) is str else "?"
            row = (strings.intern(name), max(0, min(site[1] or 0, F.NONE)))
            fid = frame_ids[site] = len(frames) // 2
            frames.extend(row)
        fids.append(fid)
    tb_frames.extend(fids)
