"""A module-level registry dict that only grows: every request stays in _REGISTRY."""
import _harness


class Request:
    def __init__(self, n):
        self.rid = "req-%d" % n
        self.body = bytearray(256)


_REGISTRY = {}


def step(n):
    req = Request(n)
    _REGISTRY[req.rid] = req


_harness.run(step, "registry")
