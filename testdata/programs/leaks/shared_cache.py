"""A cache shared by two services: its entry list grows. The shortest chain runs through
one service, but neither service alone keeps the cache alive (both refer to it), so the
dominator path skips them."""
import _harness


class Cache:
    def __init__(self):
        self.entries = []


class Service:
    def __init__(self, cache):
        self.cache = cache


primary = Service(Cache())
backup = Service(primary.cache)


def step(n):
    primary.cache.entries.append(bytearray(512))


_harness.run(step, "shared_cache")
