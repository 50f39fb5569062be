import weakref


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent:
            parent.children.append(self)  # expect: circular_reference@13


class WeakNode:
    """Near miss: the back-pointer is a weakref."""

    def __init__(self, parent=None):
        self._parent = weakref.ref(parent) if parent else None
        self.children = []
        if parent:
            parent.children.append(self)


class Owner:
    """Near miss: only one direction."""

    def __init__(self, child):
        self.child = child
        child.owner_name = "owner"
