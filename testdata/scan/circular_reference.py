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


class Manager:
    """Near miss: loggers point back at a manager made once at import time."""

    def __init__(self):
        self.by_name = {}

    def getLogger(self, name):
        rv = Logger(name)
        rv.manager = self
        self.by_name[name] = rv
        return rv


class Logger:
    manager = Manager()

    def __init__(self, name):
        self.name = name


class DomNode:
    """Still a cycle, at low confidence: unlink() is there to break it."""

    def __init__(self):
        self.childNodes = []
        self.parentNode = None

    def appendChild(self, node):
        self.childNodes.append(node)
        node.parentNode = self  # expect: circular_reference@9

    def unlink(self):
        for c in self.childNodes:
            c.unlink()
        self.childNodes = []
        self.parentNode = None


class DndHandler:
    """Still a cycle, at low confidence: finish() deletes the back-link."""

    def __init__(self, root):
        root.dnd = self  # expect: circular_reference@9
        self.root = root

    def finish(self):
        root = self.root
        del root.dnd
