"""A variant the corpus runs live only (its dumps are not committed)."""
import gc
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
gc.disable()
class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        self.data = list(range(10))
        if parent: parent.children.append(self)
def step(n):
    r = Node(); Node(r); Node(r)  # <- leak
_harness.run(step, "live_gc_off_nodes")
