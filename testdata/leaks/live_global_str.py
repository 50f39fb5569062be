"""A variant the corpus runs live only (its dumps are not committed)."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
LOG = ""
def step(n):
    global LOG
    LOG += "event %d at t=%d\n" % (n, n * 7)  # <- leak
_harness.run(step, "live_global_str")
