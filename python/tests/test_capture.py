"""leakhunt.install() and the record sitecustomize: names, rotation, a full disk, signals,
the exit snapshot, children that are not recorded, chaining to an existing sitecustomize."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import leakhunt
from leakhunt import capture, writer

from .helpers import PYTHON_DIR

BOOT = os.path.join(PYTHON_DIR, "boot")


def wait_for(what, done, limit=120):
    """Poll `done()`; fail after `limit` seconds (a hang guard, not a timing assertion)."""
    end = time.monotonic() + limit
    while not done():
        if time.monotonic() > end:
            raise AssertionError("gave up waiting for " + what)
        time.sleep(0.02)


def names(d):
    return sorted(n for n in os.listdir(d) if capture.snap_seq(n) is not None)


class FullDisk(object):
    """A file whose writes fail with ENOSPC after `room` bytes, like a full filesystem."""

    def __init__(self, path, mode, room=4096):
        self.f = open(path, mode)
        self.room = room

    def write(self, data):
        n = len(memoryview(data).cast("B"))
        if n > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= n
        return self.f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


class Names(unittest.TestCase):
    def test_sequence_continues_and_rotation_keeps_first_and_newest(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        for seq in (3, 1, 7):
            open(os.path.join(d, "snap-%06d-100.snap" % seq), "w").close()
        open(os.path.join(d, "snap-000009-100.snap.tmp-55"), "w").close()
        open(os.path.join(d, "notes.txt"), "w").close()
        seq, path = capture.next_path(d, now=1234)
        self.assertEqual(seq, 8)
        self.assertEqual(os.path.basename(path), "snap-000008-1234.snap")
        capture.rotate(d, 2)
        self.assertEqual(names(d), ["snap-000001-100.snap", "snap-000007-100.snap"])
        self.assertTrue(os.path.exists(os.path.join(d, "notes.txt")))
        capture.rotate(d, 0)
        self.assertEqual(len(names(d)), 2)


class Install(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.addCleanup(capture.uninstall)

    def test_bad_arguments_do_not_raise(self):
        self.assertIsNone(leakhunt.install(out=self.dir, signal="SIGNOPE"))

    def test_snapshot_in_process_and_forked(self):
        for fork in (False, True):
            rec = leakhunt.install(out=self.dir, signal=None, fork=fork, at_exit=False)
            with rec.lock:
                path = rec.snapshot("test")
            self.assertTrue(path and os.path.isfile(path), fork)
        self.assertEqual([capture.snap_seq(n) for n in names(self.dir)], [1, 2])

    def test_unwritable_directory_is_a_line_not_an_exception(self):
        target = os.path.join(self.dir, "a-file")
        open(target, "w").close()
        rec = leakhunt.install(out=os.path.join(target, "sub"), signal=None, at_exit=False)
        self.assertIsNotNone(rec)
        with rec.lock:
            self.assertIsNone(rec.snapshot("test"))

    def test_full_disk_leaves_no_file(self):
        real = getattr(writer, "open", None)
        writer.open = FullDisk
        try:
            for fork in (False, True):
                rec = leakhunt.install(out=self.dir, signal=None, fork=fork, at_exit=False)
                with rec.lock:
                    self.assertIsNone(rec.snapshot("full disk"), fork)
        finally:
            if real is None:
                del writer.open
            else:
                writer.open = real
        self.assertEqual(os.listdir(self.dir), [], "no snapshot, no temporary file")

    def test_signal_asks_for_one_snapshot_and_calls_the_old_handler(self):
        seen = []
        old = signal.signal(signal.SIGUSR2, lambda s, f: seen.append(s))
        self.addCleanup(signal.signal, signal.SIGUSR2, old)
        rec = leakhunt.install(out=self.dir, signal="SIGUSR2", at_exit=False)
        os.kill(os.getpid(), signal.SIGUSR2)
        wait_for("the signalled snapshot", lambda: names(self.dir))
        self.assertEqual(seen, [signal.SIGUSR2])
        rec.stop()
        with rec.lock:      # the snapshot's rotation may still be running
            pass
        self.assertEqual(len(seen), 1)


def run(code, env_extra, cwd):
    env = dict(os.environ)
    env.pop("LEAKHUNT_OWNER", None)
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


class Processes(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.out = os.path.join(self.dir, "snaps")

    def test_exit_snapshot_and_forked_children_are_not_recorded(self):
        p = run("""
            import os, sys, leakhunt
            leakhunt.install(out=%r, signal=None)
            pid = os.fork()
            if pid == 0:
                sys.exit(0)          # runs atexit in the child: must not snapshot
            os.waitpid(pid, 0)
            print("parent done")
            """ % self.out, {"PYTHONPATH": PYTHON_DIR}, self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "parent done\n")
        self.assertEqual(len(names(self.out)), 1, p.stderr)

    def test_a_snapshot_that_meets_the_exit_is_skipped_quietly(self):
        # An interval snapshot that starts once the interpreter has begun to exit: 3.12
        # refuses fork() from then on. This atexit hook runs after the exit snapshot (taken
        # before all atexit handlers) and asks for one, as the worker thread would.
        p = run("""
            import atexit, leakhunt
            rec = leakhunt.install(out=%r, signal=None)
            def late():
                with rec.lock:
                    rec.snapshot("interval")
            atexit.register(late)
            print("done")
            """ % self.out, {"PYTHONPATH": PYTHON_DIR}, self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "done\n")
        self.assertNotIn("failed", p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        have = names(self.out)
        # 3.12 refuses the fork; 3.8-3.11 and 3.13 allow it in atexit handlers
        self.assertEqual(len(have), 1 if sys.version_info[:2] == (3, 12) else 2, p.stderr)
        self.assertEqual([n for n in os.listdir(self.out) if ".tmp-" in n], [])

    def test_sitecustomize_starts_recording_and_chains(self):
        other = os.path.join(self.dir, "other")
        os.mkdir(other)
        with open(os.path.join(other, "sitecustomize.py"), "w") as f:
            f.write("import sys\nsys.user_site_ran = True\n")
        p = run("""
            import os, subprocess, sys
            print(getattr(sys, "user_site_ran", False), %r in sys.path)
            print(subprocess.run([sys.executable, "-c", "import sitecustomize, sys;"
                                  "print(getattr(sys, 'user_site_ran', False))"],
                                 stdout=subprocess.PIPE, universal_newlines=True).stdout.strip())
            """ % BOOT,
                {"PYTHONPATH": os.pathsep.join([BOOT, PYTHON_DIR, other]),
                 "LEAKHUNT_OUT": self.out, "LEAKHUNT_EVERY": "0"}, self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "True False\nTrue\n", p.stderr)
        self.assertEqual(len(names(self.out)), 1, "the parent's exit snapshot only: " + p.stderr)

    def test_sitecustomize_without_settings_is_inert(self):
        p = run("import sys; print('leakhunt.capture' in sys.modules)",
                {"PYTHONPATH": os.pathsep.join([BOOT, PYTHON_DIR])}, self.dir)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "False\n", ""))


if __name__ == "__main__":
    unittest.main()
