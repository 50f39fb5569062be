"""Unclosed resource: a log handle is opened per job and kept, never closed."""
import os
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

OPEN_LOGS = {}


def step(n):
    f = open(os.devnull, "w")  # <- leak
    f.write("job %d\n" % n)
    OPEN_LOGS[n] = f


_harness.run(step, "unclosed_resource", units=50)
