"""Cache without eviction: results memoised by a key that never repeats."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

_results = {}


def compute(key):
    return [key] * 50  # <- leak


def get_expensive(key):
    if key not in _results:
        _results[key] = compute(key)
    return _results[key]


def step(n):
    return len(get_expensive("user-%d" % n))


_harness.run(step, "cache_no_eviction")
