"""No leak: a bounded LRU cache (maxsize=64) with keys that never repeat."""
import functools
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@functools.lru_cache(maxsize=64)
def lookup(key):
    return [key] * 20


def step(n):
    lookup("k-%d" % n)


_harness.run(step, "ok_bounded_lru")
