"""A variant the corpus runs live only (its dumps are not committed)."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
class Signal:
    def __init__(self):
        self._receivers = []
    def connect(self, fn):
        self._receivers.append(fn)
saved = Signal()
class Model:
    def __init__(self, n):
        self.n = n
        saved.connect(lambda sender: self.n)  # <- leak
def step(n):
    Model(n)
_harness.run(step, "live_lambda_callbacks")
