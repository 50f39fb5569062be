"""No leak: each request allocates a working set and drops it."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Request:
    def __init__(self, n):
        self.n = n
        self.body = bytearray(512)


def step(n):
    batch = [Request(n + i) for i in range(10)]
    return sum(r.n for r in batch)


_harness.run(step, "ok_alloc_free")
