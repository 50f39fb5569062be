"""Real-library leak: functools.lru_cache on a method keeps every instance alive."""
import functools
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class PriceService:
    def __init__(self, region):
        self.region = region
        self.table = list(range(40))  # <- leak

    @functools.lru_cache(maxsize=None)
    def price(self, item):
        return item * 2


def step(n):
    PriceService("eu-%d" % n).price(n)


_harness.run(step, "lru_method")
