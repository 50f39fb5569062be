"""The dumper on testdata/programs/known_graph.py: exact labelled edges and roots."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from leakhunt import snapformat as F  # noqa: E402
from tests.helpers import PROGRAMS, attr, edges_of_kind, item, one, run_program  # noqa: E402
from tests.snapread import Snapshot  # noqa: E402


class KnownGraphMixin:
    """Assertions shared by the in-process and the fork-mode dump."""

    fork = False

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "known.snap")
        args = [path] + (["--fork"] if cls.fork else [])
        proc = run_program(os.path.join(PROGRAMS, "known_graph.py"), *args)
        if proc.returncode != 0:
            raise AssertionError("known_graph.py failed: %s" % proc.stderr)
        cls.snap = Snapshot(path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def main_module(self):
        mods = [o for o, name, _ in self.snap.roots_of_kind(F.ROOT_MODULE) if name == "__main__"]
        return one(mods)

    def global_(self, name):
        return one(attr(self.snap, self.main_module(), name))

    def test_meta(self):
        meta = self.snap.meta
        self.assertEqual(meta["step"], 1)
        self.assertEqual(meta["label"], "known graph")
        self.assertEqual(meta["python_version"], "%d.%d.%d" % sys.version_info[:3])
        self.assertEqual(meta["fork"], self.fork)
        self.assertLess(os.path.getsize(os.path.join(self.tmp.name, "known.snap")), 4 << 20)

    def test_nodes_and_parent_cycle(self):
        s = self.snap
        nodes = s.objects_of_type("Node")
        self.assertEqual(len(nodes), 4)
        root = self.global_("root")
        self.assertIn(root, nodes)
        children = one(attr(s, root, "children"))
        self.assertEqual(s.type_name(children), "list")
        kids = [t for t, label in edges_of_kind(s, children, F.INDEX)]
        self.assertEqual([label for _, label in edges_of_kind(s, children, F.INDEX)], [0, 1, 2])
        for kid in kids:
            self.assertEqual(s.type_name(kid), "__main__.Node")
            self.assertEqual(attr(s, kid, "parent"), [root])
            name = one(attr(s, kid, "name"))
            self.assertEqual(s.type_name(name), "str")

    def test_registry_chain(self):
        s = self.snap
        registry = self.global_("_REGISTRY")
        self.assertEqual(s.type_name(registry), "dict")
        root = self.global_("root")
        kids = [t for t, _ in edges_of_kind(s, one(attr(s, root, "children")), F.INDEX)]
        for i in range(3):
            self.assertEqual(item(s, registry, "'req-%d'" % i), [kids[i]])
        keys = [label for _, label in edges_of_kind(s, registry, F.DICT_KEY)]
        self.assertEqual(sorted(keys), ["'req-0'", "'req-1'", "'req-2'"])

    def test_closure(self):
        s = self.snap
        handlers = self.global_("HANDLERS")
        inner = one(t for t, label in edges_of_kind(s, handlers, F.INDEX) if label == 0)
        self.assertEqual(s.type_name(inner), "function")
        closure = one(attr(s, inner, "__closure__"))
        cell, label = one(edges_of_kind(s, closure, F.CLOSURE))
        self.assertEqual(label, "payload")
        self.assertEqual(s.type_name(cell), "cell")
        payload, label = one(edges_of_kind(s, cell, F.CELL_CONTENTS))
        self.assertEqual(label, "payload")
        self.assertEqual(s.type_name(payload), "bytearray")
        self.assertGreaterEqual(s.size[payload], 4096)

    def test_bound_method(self):
        s = self.snap
        callbacks = self.global_("CALLBACKS")
        method = one(t for t, label in edges_of_kind(s, callbacks, F.INDEX) if label == 0)
        self.assertEqual(s.type_name(method), "method")
        self.assertEqual(edges_of_kind(s, method, F.METHOD_SELF), [(self.global_("root"), "__self__")])
        func, label = one(edges_of_kind(s, method, F.METHOD_FUNC))
        self.assertEqual(label, "__func__")
        self.assertEqual(s.type_name(func), "function")

    def test_slots(self):
        s = self.snap
        obj = self.global_("SLOTTED")
        value = one(attr(s, obj, "value"))
        self.assertEqual(s.type_name(value), "list")
        secret = one(attr(s, obj, "_Slotted__secret"))
        self.assertEqual(s.type_name(secret), "str")
        cls, label = one(edges_of_kind(s, obj, F.CLASS))
        self.assertIsNone(label)
        type_record = s.types[s.obj_type[obj]]
        self.assertEqual(type_record[2], cls)  # TYPES.object is the class object
        self.assertEqual(s.strings[type_record[0]], "Slotted")

    def test_roots(self):
        s = self.snap
        names = {name for _, name, _ in s.roots_of_kind(F.ROOT_MODULE)}
        self.assertTrue({"__main__", "sys", "builtins", "leakhunt"} <= names)
        interp = {name for _, name, _ in s.roots_of_kind(F.ROOT_INTERPRETER)}
        self.assertEqual(interp, {"sys", "builtins", "sys.modules"})
        threads = s.roots_of_kind(F.ROOT_THREAD)
        self.assertTrue(threads)
        self.assertTrue(all(s.flags[o] & F.F_IS_FRAME for o, _, _ in threads))
        self.assertTrue(all(name for _, name, _ in threads))
        # the module-level frame of known_graph.py is the outermost frame of the main thread
        depth0 = [o for o, _, depth in threads if depth == 0]
        self.assertEqual(len(depth0), 1)

    def test_no_dumper_internals(self):
        s = self.snap
        # the walker's object list would be a list as long as the heap
        big = [i for i in range(s.n) if s.type_name(i) == "list"
               and s.edge_offsets[i + 1] - s.edge_offsets[i] > s.n // 2]
        self.assertEqual(big, [])
        self.assertEqual(s.objects_of_type("Walker"), [])
        self.assertEqual(s.objects_of_type("StringTable"), [])

    def test_every_edge_target_and_type_consistent(self):
        s = self.snap
        self.assertEqual(len(set(s.addr)), s.n)  # every object once
        self.assertEqual(s.meta["objects"], s.n)
        self.assertEqual(s.dangling, 0)          # every edge to an object of the file


class KnownGraphInProcess(KnownGraphMixin, unittest.TestCase):
    fork = False


@unittest.skipUnless(hasattr(os, "fork"), "fork mode needs os.fork")
class KnownGraphForked(KnownGraphMixin, unittest.TestCase):
    fork = True

    def test_attribute_names_exact(self):
        self.assertEqual(self.snap.meta["attr_names"], "vars" if sys.version_info >= (3, 11) else "dict")


if __name__ == "__main__":
    unittest.main()
