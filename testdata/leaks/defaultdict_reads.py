"""Real-library leak: reading a defaultdict inserts a default for every key asked."""
from collections import defaultdict
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

PERMISSIONS = defaultdict(list)


def allowed(user):
    return "admin" in PERMISSIONS[user]  # <- leak


def step(n):
    allowed("user-%d" % n)


_harness.run(step, "defaultdict_reads")
