"""Parent/child reference cycles that are retained: each tree is kept in _TREES, and every
child points back to its parent."""
import _harness


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


_TREES = []


def step(n):
    root = Node()
    for _ in range(3):
        Node(root)
    _TREES.append(root)


_harness.run(step, "cycle_retained")
