"""A variant the corpus runs live only (its dumps are not committed)."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
class Bus:
    def __init__(self):
        self.listeners = []
    def on(self, name, cb):
        self.listeners.append((name, cb))  # <- leak
bus = Bus()
class View:
    def __init__(self, n):
        self.label = "view %d" % n
        bus.on("update", self.refresh)
    def refresh(self):
        pass
def step(n):
    View(n)
_harness.run(step, "live_handler_tuples")
