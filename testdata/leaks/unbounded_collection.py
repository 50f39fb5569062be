"""Unbounded collection: an event history that is appended to and never trimmed."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Tracker:
    def __init__(self):
        self.history = []

    def record(self, event):
        self.history.append(event)


TRACKER = Tracker()


def step(n):
    TRACKER.record({"seq": n, "kind": "click", "payload": [n] * 20})  # <- leak


_harness.run(step, "unbounded_collection")
