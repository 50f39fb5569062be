"""The dumper must not disturb the application: no references kept, GC state restored,
no user code run, no exception raised, no stray files; and it must survive awkward heaps
(huge containers, deep nesting, hostile classes, threads mutating dicts)."""

import gc
import os
import sys
import tempfile
import threading
import time
import unittest
import weakref

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import leakhunt  # noqa: E402
from leakhunt import snapformat as F  # noqa: E402
from tests.helpers import attr, one  # noqa: E402
from tests.snapread import Snapshot  # noqa: E402

CALLS = []  # user code that the dumper must never run appends here
ARMED = []  # the traps fire only while this is non-empty


def _record(what):
    if ARMED:
        CALLS.append(what)
        return True
    return False


class Hostile:
    """Every hook that could run user code records the call and raises."""

    def __init__(self):
        self.payload = ["hostile-payload"]

    def _trap(self, *args):
        if _record("called"):
            raise RuntimeError("user code ran")
        return object.__hash__(self) if not args else NotImplemented

    __repr__ = __str__ = __eq__ = __hash__ = __sizeof__ = __getattr__ = _trap
    __lt__ = __format__ = __dir__ = __reduce__ = __getstate__ = _trap

    @property
    def prop(self):
        _record("property")
        raise RuntimeError("property ran")


class Meta(type):
    def __eq__(cls, other):
        _record("meta eq")
        return cls is other

    def __hash__(cls):
        _record("meta hash")
        return id(cls)

    def __getattribute__(cls, name):
        _record("meta getattribute")
        return type.__getattribute__(cls, name)


class WithMeta(metaclass=Meta):
    def __init__(self):
        self.x = 1


class GetattributeTrap:
    def __init__(self):
        self.value = "trap-value"

    def __getattribute__(self, name):
        _record("getattribute")
        return object.__getattribute__(self, name)


class DumpTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "heap.snap")
        del CALLS[:]

    def tearDown(self):
        self.tmp.cleanup()

    def dump(self, **kw):
        result = leakhunt.dump(self.path, **kw)
        self.assertIsNotNone(result)
        return Snapshot(self.path)


class Harmless(DumpTestCase):
    def test_keeps_nothing_alive(self):
        class Probe:
            pass
        probe = Probe()
        probe.child = Probe()
        refs = [weakref.ref(probe), weakref.ref(probe.child)]
        self.dump()
        del probe
        self.assertEqual([r() for r in refs], [None, None])  # freed without gc.collect()

    def test_gc_state_restored(self):
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            try:
                self.dump()
                self.assertEqual(gc.isenabled(), enabled)
            finally:
                gc.enable()

    def test_never_collects(self):
        gc.disable()
        try:
            ref = weakref.ref(Cycle(None))   # garbage that only gc.collect() frees
            snap = self.dump()
            self.assertIsNotNone(ref())
            self.assertEqual(len(snap.objects_of_type("Cycle")), 1)  # garbage is in the heap
        finally:
            gc.enable()

    def test_unwritable_path_returns_none(self):
        result = leakhunt.dump("/nonexistent-dir/x/y.snap")
        self.assertIsNone(result)
        self.assertFalse(os.path.exists("/nonexistent-dir"))

    def test_no_temp_file_left(self):
        self.dump()
        self.assertEqual(os.listdir(self.tmp.name), ["heap.snap"])
        blocker = os.path.join(self.tmp.name, "dir.snap")
        os.mkdir(blocker)  # os.replace onto a directory fails after writing the temp file
        self.assertIsNone(leakhunt.dump(blocker))
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["dir.snap", "heap.snap"])

    def test_no_user_code_runs(self):
        keep = [Hostile(), {Hostile(): Hostile()}, WithMeta(), GetattributeTrap(), WithMeta]
        ARMED.append(1)
        try:
            snap = self.dump(values=True)
        finally:
            del ARMED[:]
        self.assertEqual(CALLS, [])
        hostile = snap.objects_of_type("Hostile")
        self.assertEqual(len(hostile), 3)
        key_labels = [label for i in range(snap.n) for _, k, label in snap.edges(i)
                      if k in (F.DICT_KEY, F.DICT_VALUE) and label and "Hostile object at 0x" in label]
        self.assertEqual(len(key_labels), 2)  # the dict's key edge and value edge
        for h in hostile:
            payload = one(attr(snap, h, "payload"))
            self.assertEqual(snap.type_name(payload), "list")
        del keep

    def test_huge_list_and_deep_nesting(self):
        huge = list(range(300000))
        deep = []
        for _ in range(100000):
            deep = [deep]
        chain = None
        for i in range(100000):
            chain = (i, chain)     # untracked-ish tuples reachable only through the chain
        snap = self.dump()
        lists = [i for i in range(snap.n) if snap.type_name(i) == "list"
                 and snap.edge_offsets[i + 1] - snap.edge_offsets[i] == 300000]
        self.assertEqual(len(lists), 1)
        self.assertGreaterEqual(snap.n, 500000)
        del huge, deep, chain

    def test_thread_mutating_dicts(self):
        shared = {}
        stop = threading.Event()

        def churn():
            i = 0
            while not stop.is_set():
                shared["k%d" % (i % 5000)] = [i]
                shared.pop("k%d" % ((i * 7) % 5000), None)
                i += 1

        t = threading.Thread(target=churn, name="churner")
        t.start()
        try:
            for _ in range(3):
                snap = self.dump()
                self.assertTrue(snap.n > 0)
        finally:
            stop.set()
            t.join()
        names = {name for _, name, _ in snap.roots_of_kind(F.ROOT_THREAD)}
        self.assertIn("churner", names)

    def test_values_off_by_default(self):
        secret = "s3cr3t-token-%d" % os.getpid()
        self.holder = [secret]  # on 3.11/3.12 in-process, frame locals are not read
        snap = self.dump()
        self.assertEqual(snap.values, {})
        self.assertNotIn(secret.encode(), snap.raw)
        snap = self.dump(values=True)
        self.assertIn(repr(secret), snap.values.values())


class Cycle:
    def __init__(self, other):
        self.other = other
        self.me = self


class Fork(DumpTestCase):
    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_fork_wait(self):
        res = leakhunt.dump(self.path, fork=True, wait=True, step=3)
        self.assertIsNotNone(res)
        self.assertLess(res["pause_ms"], 1000)
        snap = Snapshot(self.path)
        self.assertEqual(snap.meta["pid"], os.getpid())
        self.assertTrue(snap.meta["fork"])
        self.assertEqual(res["objects"], snap.n)

    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_fork_no_wait_reaps_child(self):
        res = leakhunt.dump(self.path, fork=True)
        self.assertIsNotNone(res)
        deadline = time.time() + 60
        while not os.path.exists(self.path) and time.time() < deadline:
            time.sleep(0.05)
        Snapshot(self.path)
        time.sleep(0.3)
        with self.assertRaises(ChildProcessError):  # already reaped: no zombie left
            os.waitpid(res["pid"], os.WNOHANG)

    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_fork_with_threads(self):
        stop = threading.Event()
        threads = [threading.Thread(target=stop.wait, name="sleeper-%d" % i) for i in range(3)]
        for t in threads:
            t.start()
        try:
            snap = self.dump(fork=True, wait=True)
        finally:
            stop.set()
            for t in threads:
                t.join()
        names = {name for _, name, _ in snap.roots_of_kind(F.ROOT_THREAD)}
        self.assertTrue({"sleeper-0", "sleeper-1", "sleeper-2"} <= names)


class UnreadyTypes(unittest.TestCase):
    def test_a_type_never_readied_is_not_read(self):
        # 3.9: _socket holds a static type PyType_Ready never ran on until `socket` is
        # imported; reading its __bases__ dereferenced NULL and killed the process
        from tests.helpers import dump_of
        snap = dump_of(self, "import _socket, sys\nimport leakhunt\nleakhunt.dump(sys.argv[1])\n")
        self.assertGreater(len(snap.addr), 1000)


class AllocationSites(unittest.TestCase):
    def test_tracemalloc_sites(self):
        # in a program of its own: a traced dump of this runner's heap takes half a minute
        from tests.helpers import dump_of
        snap = dump_of(self, """
import sys, tracemalloc
tracemalloc.start(5)
import leakhunt
made = [bytearray(1000 + i) for i in range(3)]
leakhunt.dump(sys.argv[1], label=str(id(made[0])))
""")
        self.assertTrue(snap.meta["tracemalloc"])
        index = list(snap.addr).index(int(snap.meta["label"]))   # OBJ_ADDR is id()
        tb = snap.traceback(index)
        self.assertIsNotNone(tb)
        self.assertTrue(tb[-1][0].endswith("program.py"))  # allocating line last
        self.assertEqual(tb[-1][1], 5)


if __name__ == "__main__":
    unittest.main()
