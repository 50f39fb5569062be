"""A variant the corpus runs live only (its dumps are not committed)."""
from collections import deque
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
AUDIT = deque()
def step(n):
    AUDIT.append("user %d logged in from 10.0.0.%d" % (n, n % 255))  # <- leak
_harness.run(step, "live_deque_history")
