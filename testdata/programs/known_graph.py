"""A program with a known heap graph that dumps itself.

usage: python known_graph.py OUT.snap [--fork]

The graph (asserted by python/tests/test_known_graph.py):
- `root` is a Node with 3 children; each child's `parent` is `root` (a cycle);
- module global `_REGISTRY` maps 'req-0'..'req-2' to the children;
- `HANDLERS` holds a closure `inner` over a bytearray `payload` of 4096 bytes;
- `CALLBACKS` is a list whose item 0 is the bound method `root.visit`;
- `Slotted` instances keep `value` in a slot and `__secret` (mangled) in another.
Only sys and leakhunt are imported, so the snapshot stays small."""

import sys

sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/python")
import leakhunt  # noqa: E402


class Node:
    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.children = []

    def visit(self):
        return self.name


class Slotted:
    __slots__ = ("value", "__secret")

    def __init__(self, value):
        self.value = value
        self.__secret = "hidden"


def make_handler():
    payload = bytearray(4096)

    def inner():
        return len(payload)
    return inner


root = Node("root")
_REGISTRY = {}
for i in range(3):
    child = Node("child-%d" % i, root)
    root.children.append(child)
    _REGISTRY["req-%d" % i] = child
del child, i
HANDLERS = [make_handler()]
CALLBACKS = [root.visit]
SLOTTED = Slotted(["slot-list"])

if __name__ == "__main__":
    fork = "--fork" in sys.argv
    result = leakhunt.dump(sys.argv[1], step=1, label="known graph", fork=fork, wait=True)
    sys.exit(0 if result else 1)
