"""Objects gc.get_objects() does not list are still found through edges: after gc.freeze()
(the permanent generation, as pre-fork servers use it) and the GC-tracked tuples of static
types on 3.12 (formats/snap.md §8.1)."""

import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.helpers import attr, dump_of, item, one, run_program  # noqa: E402
from tests.snapread import Snapshot  # noqa: E402

PROGRAM = textwrap.dedent('''
    import gc, sys
    import leakhunt

    class Frozen:
        def __init__(self, i):
            self.payload = [i] * 3

    REGISTRY = {"k%d" % i: Frozen(i) for i in range(50)}
    gc.freeze()
    LATER = [Frozen(-1)]
    leakhunt.dump(sys.argv[1], fork=len(sys.argv) > 2, wait=True)
''')


class UnlistedTest(unittest.TestCase):
    def check(self, fork):
        s = dump_of(self, PROGRAM, fork)
        self.assertEqual(s.dangling, 0)
        self.assertEqual(len(s.objects_of_type("Frozen")), 51)
        main = one(o for o, name, _ in s.roots_of_kind(0) if name == "__main__")
        registry = one(attr(s, main, "REGISTRY"))
        frozen = one(item(s, registry, "'k7'"))
        self.assertEqual(len(attr(s, frozen, "payload")), 1)

    def test_frozen_objects_in_process(self):
        self.check(False)

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_frozen_objects_in_fork_child(self):
        self.check(True)

    def test_weakly_referenced_untracked_objects_once(self):
        # an untracked object with one strong reference is new when met through it, but
        # its weakrefs meet it too: it must still be recorded once
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "w.snap")
            prog = os.path.join(tmp, "w.py")
            with open(prog, "w") as f:
                f.write("import array, sys, weakref, leakhunt\n"
                        "ARRS = [array.array('b', b'x') for _ in range(20000)]\n"
                        "REFS = [weakref.ref(a) for a in ARRS]\n"
                        "leakhunt.dump(sys.argv[1])\n")
            proc = run_program(prog, path)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            s = Snapshot(path)
        self.assertEqual(s.duplicates, 0)
        self.assertGreaterEqual(len(s.objects_of_type("array")), 20000)

    def test_static_type_tuples(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.snap")
            prog = os.path.join(tmp, "p.py")
            with open(prog, "w") as f:
                f.write("import sys, leakhunt\nleakhunt.dump(sys.argv[1])\n")
            proc = run_program(prog, path)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            s = Snapshot(path)
        self.assertEqual(s.dangling, 0)


if __name__ == "__main__":
    unittest.main()
