"""No leak: a WeakValueDictionary cache whose entries vanish with their values."""
import weakref
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Blob:
    def __init__(self, n):
        self.data = bytearray(256)


_CACHE = weakref.WeakValueDictionary()


def get(n):
    b = _CACHE.get(n)
    if b is None:
        b = Blob(n)
        _CACHE[n] = b
    return b


def step(n):
    return len(get(n).data)


_harness.run(step, "ok_weakvalue_cache")
