"""Untracked objects are recorded once however they are met: the walker's refcount
shortcuts (formats/snap.md §12) must not be fooled by references that one reference count
stands for several times (dict keys shared by instance dicts), and objects with two
references leave its lookup table only after both meetings; and `addresses` gives what
`id()` gives."""

import os
import sys
import textwrap
import unittest
from array import array

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from leakhunt import addresses  # noqa: E402
from leakhunt import snapformat as F  # noqa: E402
from tests.helpers import attr, dump_of, edges_of_kind, one  # noqa: E402

PROGRAM = textwrap.dedent('''
    import sys
    import leakhunt

    class Rec:
        def __init__(self, i):
            self.a = i
            self.b = [i]

    # an attribute name no code refers to: the instance dicts that share one key table
    # all report this str, whose refcount counts one reference for all of them
    name = "".join(["dyn", "amic"])
    RECS = [Rec(i) for i in range(300)]
    for r in RECS:
        setattr(r, name, None)
        r.__dict__
    del name, r

    # ints with two references: both met in one chunk (the two lists are neighbours) ...
    NEAR = [10 ** 6 + i for i in range(3000)]
    NEAR_TOO = list(NEAR)
    # ... and in chunks far apart (10,000 lists in between)
    FAR = [[10 ** 7 + i] for i in range(10000)]
    FAR_TOO = [[v[0]] for v in FAR]
    leakhunt.dump(sys.argv[1], fork=len(sys.argv) > 2, wait=True)
''')


class MetTwice(unittest.TestCase):
    def check(self, fork):
        s = dump_of(self, PROGRAM, fork)
        self.assertEqual(s.duplicates, 0)
        self.assertEqual(s.dangling, 0)
        self.assertEqual(s.meta["objects"], s.n)
        main = one(o for o, name, _ in s.roots_of_kind(0) if name == "__main__")
        recs = s.objects_of_type("Rec")
        self.assertEqual(len(recs), 300)
        if fork or sys.version_info < (3, 13):
            # (3.13 reports a value both in the instance and in its dict once that is
            # made; in-process it reports no dict, and names only the attributes its
            # class's code stores)
            dyn = {one(set(attr(s, r, "dynamic"))) for r in recs}
            self.assertEqual(len(dyn), 1, "every instance's 'dynamic' is the one None")
        near = [t for t, _ in edges_of_kind(s, one(attr(s, main, "NEAR")), F.INDEX)]
        near_too = [t for t, _ in edges_of_kind(s, one(attr(s, main, "NEAR_TOO")), F.INDEX)]
        self.assertEqual(len(set(near)), 3000)
        self.assertEqual(sorted(near), sorted(near_too))

        def firsts(listname):
            rows = [t for t, _ in edges_of_kind(s, one(attr(s, main, listname)), F.INDEX)]
            return sorted(one(t for t, _ in edges_of_kind(s, r, F.INDEX)) for r in rows)
        far = firsts("FAR")
        self.assertEqual(len(set(far)), 10000)
        self.assertEqual(far, firsts("FAR_TOO"))

    def test_in_process(self):
        self.check(False)

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_in_fork_child(self):
        self.check(True)


class Addresses(unittest.TestCase):
    def test_one_copy_equals_id(self):
        objs = [object(), None, "text", 10 ** 30, 3.5, (1, 2), [], {}, self]
        objs.append(objs)
        fast = array("Q")
        addresses.extend(fast, objs)
        self.assertEqual(fast.tolist(), [id(o) for o in objs])
        self.assertEqual(addresses.ids(objs), [id(o) for o in objs])
        self.assertEqual(addresses.ids([]), [])
        if sys.implementation.name == "cpython" and sys.maxsize > 2 ** 32:
            self.assertTrue(addresses.fast(), "CPython 64-bit takes the one-copy path")

    def test_without_ctypes_id_is_used(self):
        saved = addresses._copy
        addresses._copy = False
        try:
            out = array("Q")
            addresses.extend(out, [self, None])
            addresses.extend(out, [])
            self.assertEqual(out.tolist(), [id(self), id(None)])
        finally:
            addresses._copy = saved


if __name__ == "__main__":
    unittest.main()
