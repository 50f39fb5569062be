"""Addresses (`id()`) of the items of a list, appended to an array("Q") in one copy.

In CPython a list's item array holds the items' addresses, which is what `id()` returns.
The walker's lists of objects are its own, so their item arrays can be copied as they are
(ctypes.string_at, with the GIL held) instead of making one int per item with `id()` and
converting it back. The list layout is checked on a probe list the first time; when the
check fails, or ctypes cannot be imported, `id()` is used (same result, slower)."""

import sys
from array import array

_copy = None         # list -> bytes of its item array, once checked; False: use id()


def _checked_copier():
    """The copier when this interpreter's list layout is the expected one, else False."""
    try:
        if sys.implementation.name != "cpython" or array("Q").itemsize != 8:
            return False
        import ctypes
        if ctypes.sizeof(ctypes.c_void_p) != 8:
            return False
        # PyListObject: PyVarObject header (PyObject + ob_size), then the item pointer
        offset = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)
        pointer_at = ctypes.c_void_p.from_address
        string_at = ctypes.string_at

        def copy(lst):
            return string_at(pointer_at(id(lst) + offset).value, 8 * len(lst))

        # (no cycle: the probe must be freed before the heap is listed, not left to the GC)
        probe = [object(), None, "probe", 1 << 70, object()]
        if array("Q", copy(probe)).tolist() != list(map(id, probe)):
            return False
        return copy
    except Exception:
        return False


def _copier():
    """The one-copy function, checked the first time; False when `id()` must be used."""
    global _copy
    if _copy is None:
        _copy = _checked_copier()
    return _copy


def extend(out, objs):
    """Append the addresses of the items of list `objs` (owned by the caller: no other
    thread may change it meanwhile) to array("Q") `out`."""
    if not objs:
        return
    copy = _copier()
    if copy:
        out.frombytes(copy(objs))
    else:
        out.fromlist(list(map(id, objs)))


def ids(objs):
    """`list(map(id, objs))` for a list `objs` owned by the caller."""
    copy = _copier()
    if copy and objs:
        return array("Q", copy(objs)).tolist()
    return list(map(id, objs))


def fast():
    """Whether the one-copy path is in use (checking it, and importing ctypes, the first
    time)."""
    return bool(_copier())
