"""A recorded series: which snapshots thinning keeps (as a pure function and in a directory),
the disk budget, and the META fields that say when, in what process and after how much work
each snapshot was taken (formats/snap.md §3.1)."""

import io
import os
import random
import shutil
import sys
import tempfile
import time
import unittest

import leakhunt
from leakhunt import capture, dumper

from tests.snapread import Snapshot
from tests.test_capture import names, wait_for

thin = capture.choose_thinning


def survivors(entries, keep=0, max_disk=None):
    gone = set(thin(entries, keep, max_disk))
    return [e[0] for e in sorted(entries) if e[0] not in gone]


def burn_cpu(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


class Thinning(unittest.TestCase):
    def test_nothing_to_do_within_the_limits(self):
        entries = [(q, 10 * q, 100) for q in range(1, 6)]
        self.assertEqual(thin(entries, 5), [])
        self.assertEqual(thin(entries, 0), [])
        self.assertEqual(thin(entries, 0, 500), [])
        self.assertEqual(thin([], 1, 0), [])
        self.assertEqual(thin([(1, 0, 9), (2, 0, 9)], 1, 0), [], "the first and the newest stay")

    def test_even_spacing_ties_go_to_the_older(self):
        # all neighbours 20 s apart: 2 goes first (oldest), then 4 (3's neighbours would be
        # 1 and 4, 30 s apart; 4's are 3 and 5, 20 s)
        entries = [(q, 10 * (q - 1), 1) for q in range(1, 7)]
        self.assertEqual(thin(entries, 4), [2, 4])

    def test_a_burst_is_thinned_before_the_spread(self):
        entries = [(1, 0, 1), (2, 100, 1), (3, 101, 1), (4, 102, 1), (5, 200, 1)]
        self.assertEqual(thin(entries, 3), [3, 4])
        self.assertEqual(survivors(entries, 3), [1, 2, 5])

    def test_same_second_falls_back_to_the_sequence(self):
        entries = [(q, 1000, 1) for q in (1, 3, 4, 5)]
        self.assertEqual(thin(entries, 3), [4])       # 3: neighbours 1..4, 4: 3..5

    def test_keep_below_two_keeps_the_first_and_the_newest(self):
        entries = [(q, q, 1) for q in range(1, 6)]
        self.assertEqual(survivors(entries, 1), [1, 5])

    def test_disk_budget(self):
        entries = [(q, 10 * q, 10) for q in range(1, 6)]
        self.assertEqual(thin(entries, 0, 25), [2, 4, 3])
        self.assertEqual(thin(entries, 0, 30), [2, 4])
        self.assertEqual(thin(entries, 0, 1), [2, 4, 3], "never the first or the newest")
        # the count limit first, then the budget
        self.assertEqual(survivors(entries, 4, 30), [1, 3, 5])

    def test_never_the_first_or_the_newest_whatever_the_input(self):
        rng = random.Random(15)
        for _ in range(300):
            n = rng.randrange(0, 30)
            seqs = rng.sample(range(1, 100), n)
            entries = [(q, rng.randrange(0, 50), rng.randrange(0, 1000)) for q in seqs]
            keep = rng.choice([0, 1, 2, 3, 10])
            budget = rng.choice([None, 0, 500, 5000])
            gone = thin(entries, keep, budget)
            self.assertEqual(len(gone), len(set(gone)))
            left = [e for e in sorted(entries) if e[0] not in set(gone)]
            if entries:
                self.assertEqual(left[0], min(entries))
                self.assertEqual(left[-1], max(entries))
            if keep and len(left) > 2:
                self.assertLessEqual(len(left), keep)
            if budget is not None and len(left) > 2:
                self.assertLessEqual(sum(e[2] for e in left), budget)

    def test_a_long_series_still_spans_from_the_start_evenly(self):
        have = []
        for q in range(1, 301):                 # a snapshot every 30 s for 2.5 hours
            have.append((q, 30 * q, 1))
            gone = set(thin(have, 10))
            have = [e for e in have if e[0] not in gone]
            self.assertLessEqual(len(have), 10)
        seqs = [e[0] for e in have]
        self.assertEqual((seqs[0], seqs[-1]), (1, 300))
        ideal = 299 / 9
        gaps = [b - a for a, b in zip(seqs, seqs[1:])]
        self.assertLess(max(gaps), 2.5 * ideal, seqs)
        self.assertGreater(sorted(gaps)[1], ideal / 4, seqs)

    def test_thinned_so_far(self):
        self.assertEqual(capture.thinned_so_far([], 1), 0)
        self.assertEqual(capture.thinned_so_far([5], 6), 0)
        self.assertEqual(capture.thinned_so_far([1, 3, 7], 8), 4)
        self.assertEqual(capture.thinned_so_far([3, 4], 5), 0, "the series starts at 3")


class Directory(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.addCleanup(capture.uninstall)

    def snap(self, rec, reason="interval"):
        with rec.lock:
            path = rec.snapshot(reason)
        self.assertTrue(path and os.path.isfile(path))
        return path

    def test_keep_thins_and_records_how_many(self):
        rec = leakhunt.install(out=self.dir, signal=None, fork=False, at_exit=False, keep=3)
        metas = []
        for k in range(1, 7):
            metas.append(Snapshot(self.snap(rec)).meta)
            have = [capture.snap_seq(n) for n in names(self.dir)]
            self.assertEqual(len(have), min(k, 3))
            self.assertEqual((have[0], have[-1]), (1, k))
        self.assertEqual([m["thinned"] for m in metas], [0, 0, 0, 0, 1, 2])
        self.assertEqual([m["step"] for m in metas], [1, 2, 3, 4, 5, 6])
        self.assertEqual({m["reason"] for m in metas}, {"interval"})
        self.assertEqual({m["process_start"] for m in metas}, {metas[0]["process_start"]})
        for key in ("cpu_seconds", "monotonic", "gc_collections", "dumper_cpu_seconds"):
            values = [m[key] for m in metas]
            self.assertEqual(values, sorted(values), key)
        self.assertGreater(metas[-1]["dumper_cpu_seconds"], metas[0]["dumper_cpu_seconds"],
                           "in-process walks count as leakhunt's CPU")

    def test_disk_budget(self):
        first = self.snap(leakhunt.install(out=self.dir, signal=None, fork=False,
                                           at_exit=False))
        size = os.path.getsize(first)
        rec = leakhunt.install(out=self.dir, signal=None, fork=False, at_exit=False, keep=0,
                               max_disk=int(size * 2.5))
        for _ in range(4):
            self.snap(rec)
        self.assertEqual([capture.snap_seq(n) for n in names(self.dir)], [1, 5])
        self.assertEqual(Snapshot(os.path.join(self.dir, names(self.dir)[-1])).meta["thinned"],
                         2)

    def test_a_budget_too_small_is_said_once(self):
        rec = leakhunt.install(out=self.dir, signal=None, fork=False, at_exit=False,
                               max_disk=1)
        err, sys.stderr = sys.stderr, io.StringIO()
        try:
            for _ in range(3):
                self.snap(rec)
            said = sys.stderr.getvalue()
        finally:
            sys.stderr = err
        self.assertEqual(said.count("over max_disk"), 1, said)
        self.assertEqual([capture.snap_seq(n) for n in names(self.dir)], [1, 3])

    def test_from_environ(self):
        env = {"LEAKHUNT_OUT": self.dir, "LEAKHUNT_SIGNAL": "none",
               "LEAKHUNT_MAX_DISK": "123456789", "LEAKHUNT_SIGTERM": "0",
               "LEAKHUNT_AT_EXIT": "0"}
        rec = capture.from_environ(env)
        self.assertEqual((rec.max_disk, rec.sigterm, rec.keep), (123456789, False, 10))
        rec = capture.from_environ(dict(env, LEAKHUNT_MAX_DISK="0", LEAKHUNT_SIGTERM=""))
        self.assertEqual((rec.max_disk, rec.sigterm), (None, False), "no exit snapshot")
        rec = capture.from_environ(dict(env, LEAKHUNT_AT_EXIT="1", LEAKHUNT_SIGTERM=""))
        self.assertTrue(rec.sigterm)
        err, sys.stderr = sys.stderr, io.StringIO()
        try:
            self.assertIsNone(capture.from_environ(dict(env, LEAKHUNT_MAX_DISK="10G")))
        finally:
            sys.stderr = err


class ProcessMeta(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)

    def check(self, meta, reason, cpu_before, mono_before):
        self.assertEqual(meta["reason"], reason)
        self.assertIs(meta["exit"], False)
        self.assertEqual(meta["pid"], os.getpid())
        self.assertGreaterEqual(meta["cpu_seconds"], round(cpu_before, 6))
        self.assertLessEqual(meta["cpu_seconds"], time.process_time())
        self.assertGreaterEqual(meta["monotonic"], mono_before)
        self.assertLessEqual(meta["monotonic"], time.monotonic())
        self.assertIsInstance(meta["gc_collections"], int)
        start, source = dumper.process_start()
        self.assertEqual((meta["process_start"], meta["process_start_source"]),
                         (start, source))
        self.assertLess(meta["process_start"], time.time())
        if sys.platform.startswith("linux"):
            self.assertEqual(source, "proc")
            # no later than the import of leakhunt, and not long before it
            self.assertLessEqual(start, dumper._IMPORTED[1] + 0.02)
            self.assertGreater(start, dumper._IMPORTED[1] - 600)
        self.assertNotIn("thinned", meta)

    def test_plain_dump_in_process_and_forked(self):
        burn_cpu(0.2)       # the parent's CPU time, clearly more than a fresh child's
        for fork in (False, True):
            path = os.path.join(self.dir, "%s.snap" % fork)
            cpu, mono = time.process_time(), time.monotonic()
            self.assertIsNotNone(leakhunt.dump(path, fork=fork, wait=True))
            meta = Snapshot(path).meta
            self.check(meta, "dump", cpu, mono)
            self.assertIs(meta["fork"], fork)

    def test_attach(self):
        for fork in (False, True):
            path = os.path.join(self.dir, "attach-%s.snap" % fork)
            status = path + ".status"
            cpu, mono = time.process_time(), time.monotonic()
            capture.attach_dump(path, status, 7, "attached", fork)
            wait_for("the attach snapshot", lambda: os.path.exists(path))
            with open(status) as f:
                self.assertRegex(f.read(), "^(started|done) ")
            meta = Snapshot(path).meta
            self.check(meta, "attach", cpu, mono)
            self.assertEqual((meta["step"], meta["label"]), (7, "attached"))

    def test_fields_are_taken_in_the_parent(self):
        from leakhunt import forkdump
        path = os.path.join(self.dir, "given.snap")
        meta = {"reason": "interval", "exit": False, "pid": os.getpid(), "cpu_seconds": 12.5,
                "monotonic": 3.25, "gc_collections": 9}
        result = forkdump.start_child(path, 1, None, False, meta)
        os.waitpid(result["pid"], 0)
        got = Snapshot(path).meta
        self.assertEqual({k: got[k] for k in meta}, meta)
        self.assertIs(got["fork"], True)
        self.assertEqual(meta["cpu_seconds"], 12.5, "the parent's dict is left as it was")
        self.assertNotIn("fork", meta)


if __name__ == "__main__":
    unittest.main()
