"""Closure capture: each callback keeps the whole request body alive in its cell."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

DONE = []


def process(large_data):
    total = sum(large_data[:10])
    return lambda: "processed %d items, %d" % (len(large_data), total)


def step(n):
    body = bytes(8000)  # <- leak
    DONE.append(process(body))


_harness.run(step, "closure_capture")
