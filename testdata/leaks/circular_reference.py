"""Circular reference: children keep a strong back-pointer to a long-lived parent."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


ROOT = Node()


def step(n):
    Node(ROOT)  # <- leak


_harness.run(step, "circular_reference")
