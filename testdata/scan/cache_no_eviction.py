import functools
from collections import OrderedDict
from functools import lru_cache, cache

_cache = {}


def get_expensive(key):
    if key not in _cache:
        _cache[key] = compute(key)  # expect: cache_no_eviction@9
    return _cache[key]


_lru = OrderedDict()


def get_bounded(key):
    """Near miss: an OrderedDict LRU trimmed with popitem(last=False)."""
    if key in _lru:
        _lru.move_to_end(key)
        return _lru[key]
    _lru[key] = compute(key)
    if len(_lru) > 128:
        _lru.popitem(last=False)
    return _lru[key]


@lru_cache(maxsize=None)  # expect: cache_no_eviction@2
def unbounded(x):
    return x * 2


@functools.cache  # expect: cache_no_eviction@2
def also_unbounded(x):
    return x * 3


@lru_cache(maxsize=128)
def bounded(x):
    """Near miss: a bounded lru_cache on a function."""
    return x * 4


@cache
def constant():
    """Near miss: no arguments, one entry at most."""
    return 42


class Service:
    @lru_cache  # expect: cache_no_eviction@6
    def lookup(self, key):
        return key

    @staticmethod
    @lru_cache(maxsize=None)  # expect: cache_no_eviction@6
    def helper(key):
        return key


class Memo:
    def __init__(self):
        self._memo = {}

    def get(self, key):
        return self._memo.setdefault(key, compute(key))  # expect: cache_no_eviction@16


class Evicting:
    """Near miss: a dict cache that is cleared."""

    def __init__(self):
        self._cache = {}

    def get(self, key):
        if key not in self._cache:
            self._cache[key] = compute(key)
        return self._cache[key]

    def invalidate(self):
        self._cache.clear()


def compute(k):
    return k


class FastPath:
    """Near miss: a cached __new__ interns one instance per root, on purpose."""

    @functools.lru_cache()
    def __new__(cls, root):
        return super().__new__(cls)
