"""Allocation sites: the fast reader (`_tracemalloc._get_object_traceback`) and the public
API give the same sections; failures degrade to "no site"; a traced dump pads its stack
without changing what it records."""

import gc
import os
import sys
import tempfile
import tracemalloc
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import leakhunt  # noqa: E402
from leakhunt import allocsites, dumper  # noqa: E402
from leakhunt import snapformat as F  # noqa: E402
from leakhunt.strings import StringTable  # noqa: E402
from tests.snapread import Snapshot  # noqa: E402


class Thing:
    __slots__ = ("x",)     # (3.11+: no pre-header, which tracemalloc cannot map)


def _make(depth, out):
    """Objects allocated under tracebacks of different depths and lines (of kinds that
    never come from a free list, so each has its own site)."""
    if depth:
        return _make(depth - 1, out)
    out.append(Thing())
    out.append(object())
    out.append(bytearray(100))
    return out


def _sections(result, strings):
    frames, tb_offsets, tb_frames, obj_tb, limit = result
    names = [strings.data[a:b] for a, b in zip(strings.offsets, strings.offsets[1:])]
    return (list(frames), list(tb_offsets), list(tb_frames), list(obj_tb), limit, names)


class Readers(unittest.TestCase):
    def setUp(self):
        self.saved = allocsites._raw[0]
        tracemalloc.start(7)
        self.objs = []
        for d in (0, 1, 2, 3, 0, 1):
            _make(d, self.objs)
        self.objs += ["untraced literal", 12, None]   # made before tracing: no site

    def tearDown(self):
        tracemalloc.stop()
        allocsites._raw[0] = self.saved

    def record(self, public):
        strings = StringTable()
        return _sections(allocsites.record(self.objs, strings, public=public), strings)

    def test_private_reader_available(self):
        allocsites._raw[0] = None
        allocsites.reader()
        # present with the expected shape on every supported CPython (3.8-3.13)
        self.assertTrue(allocsites._raw[0], "the private reader did not check out")

    def test_same_sections_both_ways(self):
        fast = self.record(public=False)
        public = self.record(public=True)
        self.assertEqual(fast, public)
        frames, offsets, tb_frames, obj_tb, limit, _ = fast
        self.assertEqual(limit, 7)
        self.assertEqual(obj_tb[-3:], [F.NONE] * 3)
        self.assertTrue(all(j != F.NONE for j in obj_tb[:-3]))
        # identical tracebacks share one id: the objects of the second _make(0) and
        # _make(1) calls were made under the same frames as the first ones'
        self.assertEqual(len(set(obj_tb[:-3])), len(offsets) - 1)
        self.assertEqual(obj_tb[:3], obj_tb[12:15])

    def test_instances_with_a_managed_dict_have_their_site(self):
        class Record:                      # a plain class: 3.11 keeps its dict in a pre-header
            def __init__(self):
                self.payload = 1

        rec = Record()                     # the line that made it
        line = sys._getframe().f_lineno - 1
        key = allocsites.reader()(rec)
        self.assertIsNotNone(key, "no site for a plain class instance")
        self.assertEqual(key[-1], (__file__.replace(".pyc", ".py"), line))
        if sys.version_info[:2] == (3, 11):
            # what 3.11's own lookup misses, and the public path still does
            self.assertIsNone(tracemalloc.get_object_traceback(rec))
            self.assertIsNone(allocsites.reader(public=True)(rec))

    def test_order_innermost_last(self):
        strings = StringTable()
        frames, offsets, tb_frames, obj_tb, _ = allocsites.record(self.objs[:1], strings)
        names = [strings.data[a:b].decode() for a, b in zip(strings.offsets, strings.offsets[1:])]
        fids = tb_frames[offsets[obj_tb[0]]:offsets[obj_tb[0] + 1]]
        sites = [(names[frames[2 * f]], frames[2 * f + 1]) for f in fids]
        expected = [(fr.filename, fr.lineno) for fr in tracemalloc.get_object_traceback(self.objs[0])]
        self.assertEqual(sites, expected)
        self.assertEqual(sites[-1][0], __file__.replace(".pyc", ".py"))

    def test_fallback_when_private_reader_missing(self):
        allocsites._raw[0] = None
        import _tracemalloc
        original = _tracemalloc._get_object_traceback
        try:
            del _tracemalloc._get_object_traceback
            allocsites.reader()
            self.assertIs(allocsites._raw[0], False)
            got = self.record(public=False)
        finally:
            _tracemalloc._get_object_traceback = original
        self.assertEqual(got, self.record(public=True))

    def test_fallback_when_shape_differs(self):
        allocsites._raw[0] = None
        import _tracemalloc
        original = _tracemalloc._get_object_traceback
        try:
            # e.g. a version that returns the frames oldest first, or as lists
            _tracemalloc._get_object_traceback = lambda o: (
                None if original(o) is None else tuple(reversed(original(o))))
            allocsites.reader()
            self.assertIs(allocsites._raw[0], False)
            _tracemalloc._get_object_traceback = lambda o: [list(x) for x in original(o) or ()]
            allocsites._raw[0] = None
            allocsites.reader()
            self.assertIs(allocsites._raw[0], False)
            got = self.record(public=False)
        finally:
            _tracemalloc._get_object_traceback = original
        self.assertEqual(got, self.record(public=True))

    def test_failures_degrade_to_no_site(self):
        def broken(o):
            raise RuntimeError("no traceback for you")
        allocsites._raw[0] = broken          # "checked" reader that fails on every object
        strings = StringTable()
        frames, offsets, tb_frames, obj_tb, _ = allocsites.record(self.objs, strings)
        self.assertEqual(list(obj_tb), [F.NONE] * len(self.objs))
        self.assertEqual((list(offsets), list(tb_frames), list(frames)), ([0], [], []))

        class BadStrings(StringTable):
            def intern(self, text):
                raise MemoryError("full")
        allocsites._raw[0] = None
        frames, offsets, tb_frames, obj_tb, _ = allocsites.record(self.objs, BadStrings())
        self.assertEqual(list(obj_tb), [F.NONE] * len(self.objs))
        self.assertEqual(list(offsets), [0])


class TracedDump(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakhunt-test-")
        self.saved = allocsites._raw[0]

    def tearDown(self):
        allocsites._raw[0] = self.saved
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def dump(self, name, **kw):
        """The path of a new snapshot (read it once tracing has stopped: the pure-Python
        reader is slow while tracemalloc traces its many allocations)."""
        path = os.path.join(self.dir, name)
        res = leakhunt.dump(path, **kw)
        self.assertIsNotNone(res)
        return path

    def test_public_and_fast_dumps_agree(self):
        tracemalloc.start(10)
        try:
            held = []
            for d in (0, 2, 4):
                _make(d, held)
            self.held = held
            allocsites._raw[0] = False          # the public API
            a = self.dump("public.snap")
            allocsites._raw[0] = None           # the private reader, checked again
            b = self.dump("fast.snap")
        finally:
            tracemalloc.stop()
        a, b = Snapshot(a), Snapshot(b)
        self.assertTrue(allocsites._raw[0])
        for snap in (a, b):
            self.assertEqual(snap.meta["traceback_limit"], 10)
        ia = {snap_addr: i for i, snap_addr in enumerate(a.addr)}
        ib = {snap_addr: i for i, snap_addr in enumerate(b.addr)}
        for o in held:
            self.assertEqual(a.traceback(ia[id(o)]), b.traceback(ib[id(o)]))
        # every object of both that was allocated before the first dump has one site
        common = [x for x in ia if x in ib]
        same = sum(a.traceback(ia[x]) == b.traceback(ib[x]) for x in common)
        self.assertGreater(same, 0.99 * len(common))

    def test_deep_stack_does_not_hit_recursion_limit(self):
        limit = sys.getrecursionlimit()

        def nest(k, then):
            if k:
                return nest(k - 1, then)
            return then()
        tracemalloc.start(1000)
        try:
            sys.setrecursionlimit(max(limit, 600))
            frame = nest(sys.getrecursionlimit() - 300, lambda: dumper._deep_caller()(sys._getframe))
        finally:
            tracemalloc.stop()
        pads = 0
        while frame is not None and frame.f_code.co_name == "_padded":
            pads += 1
            frame = frame.f_back
        depth = 0
        while frame is not None:
            depth += 1
            frame = frame.f_back
        try:
            self.assertLessEqual(pads + depth, sys.getrecursionlimit() - 150)
            self.assertGreater(pads, 10)
            tracemalloc.start(3)
            try:
                snap = nest(sys.getrecursionlimit() - 300, lambda: self.dump("deep.snap"))
            finally:
                tracemalloc.stop()
        finally:
            sys.setrecursionlimit(limit)
        snap = Snapshot(snap)
        self.assertTrue(snap.meta["tracemalloc"])
        self.assertEqual(snap.meta["traceback_limit"], 3)

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_traced_dump_keeps_the_programs_tracebacks_and_limit(self):
        # the fork child records its own allocations with one frame (tracelimit): the
        # objects' tracebacks and the recorded limit are the program's
        tracemalloc.start(6)
        try:
            held = []
            for d in (0, 3):
                _make(d, held)
            self.held = held
            a = self.dump("forked.snap", fork=True, wait=True)
            self.assertEqual(tracemalloc.get_traceback_limit(), 6)
            want = {id(o): [(f.filename, f.lineno) for f in tracemalloc.get_object_traceback(o)]
                    for o in held}
        finally:
            tracemalloc.stop()
        a = Snapshot(a)
        self.assertEqual(a.meta["traceback_limit"], 6)
        ia = {x: i for i, x in enumerate(a.addr)}
        for o in held:
            got = [tuple(f) for f in a.traceback(ia[id(o)])]
            self.assertEqual(sorted(got), sorted(tuple(f) for f in want[id(o)]))
            self.assertTrue(got[-1][0].endswith("test_allocsites.py"))

    def test_the_limit_is_found_on_this_version(self):
        from leakhunt import tracelimit
        self.assertIsNone(tracelimit.lower())          # not tracing: nothing to do
        tracemalloc.start(5)
        try:
            restore = tracelimit.lower()
            if sys.version_info >= (3, 12):     # no exported config: left alone
                self.assertIsNone(restore)
                self.assertEqual(tracemalloc.get_traceback_limit(), 5)
                return
            self.assertIsNotNone(restore, "tracemalloc's limit not found on this CPython")
            self.assertEqual(tracemalloc.get_traceback_limit(), 1)
            restore()
            self.assertEqual(tracemalloc.get_traceback_limit(), 5)
        finally:
            tracemalloc.stop()

    def test_padding_depth(self):
        self.assertEqual(dumper._padded(3, lambda *a: sum(a), (1, 2, 3)), 6)

        def names(frame):
            out = []
            while frame is not None and len(out) < 8:
                out.append(frame.f_code.co_name)
                frame = frame.f_back
            return out
        # not tracing: no padding
        self.assertEqual(names(dumper._deep_caller()(sys._getframe))[:3],
                         ["_padded", "call", "test_padding_depth"])
        tracemalloc.start(4)
        try:
            frame = dumper._deep_caller()(sys._getframe)
        finally:
            tracemalloc.stop()
        self.assertEqual(names(frame)[:7], ["_padded"] * 5 + ["call", "test_padding_depth"])

if __name__ == "__main__":
    unittest.main()
