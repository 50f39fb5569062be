"""The exit snapshot: taken before the application's own teardown (its atexit handlers, the
end of its non-daemon threads), and on a SIGTERM that has no handler, after which the process
still dies by SIGTERM. Each case runs a program in a subprocess, in-process and forked."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tests.helpers import PYTHON_DIR
from tests.snapread import Snapshot
from tests.test_capture import names

BOOT = os.path.join(PYTHON_DIR, "boot")

# Figures live in a global list that the application's teardown empties, as matplotlib's
# atexit handler empties its figure registry.
PROLOGUE = """
import atexit, os, signal, sys, threading, time
import leakhunt

class Figure:
    pass

FIGURES = [Figure() for _ in range(5)]
FORK = sys.argv[2] == "fork"
signal.signal(signal.SIGTERM, signal.SIG_DFL)   # whatever the test runner's was
"""


class ExitSnapshot(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.out = os.path.join(self.dir, "snaps")

    def start(self, body, fork, env=None):
        shutil.rmtree(self.out, ignore_errors=True)
        prog = os.path.join(self.dir, "program.py")
        with open(prog, "w") as f:
            f.write(PROLOGUE + "".join(textwrap.dedent(part) for part in body))
        full = dict(os.environ, PYTHONPATH=PYTHON_DIR)
        full.pop("LEAKHUNT_OWNER", None)
        full.update(env or {})
        return subprocess.Popen([sys.executable, prog, self.out, "fork" if fork else "here"],
                                env=full, cwd=self.dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)

    def run_to_end(self, fork, *body, env=None):
        with self.start(body, fork, env) as p:
            out, err = p.communicate(timeout=120)
        return p.returncode, out, err

    def terminated(self, fork, *body, env=None):
        """Run until it prints `ready`, send SIGTERM, wait for the end."""
        with self.start(body, fork, env) as p:
            try:
                line = p.stdout.readline()
                self.assertEqual(line, "ready\n", p.stderr.read() if not line else line)
                p.send_signal(signal.SIGTERM)
                out, err = p.communicate(timeout=120)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        return p.returncode, out, err

    def only_snapshot(self, err):
        have = names(self.out)
        self.assertEqual(len(have), 1, err)
        self.assertEqual([n for n in os.listdir(self.out) if ".tmp-" in n], [])
        return Snapshot(os.path.join(self.out, have[0]))

    def check_exit(self, snap, fork, exit_signal=None):
        meta = snap.meta
        self.assertEqual((meta["reason"], meta["exit"]), ("exit", True))
        self.assertEqual(meta.get("exit_signal"), exit_signal)
        # 3.12 refuses fork() from the start of finalisation; a SIGTERM comes before it
        forks = fork and (exit_signal is not None or sys.version_info[:2] != (3, 12))
        self.assertIs(meta["fork"], forks)
        self.assertEqual(len(snap.objects_of_type("Figure")), 5,
                         "the snapshot came after the application's teardown")

    def test_before_the_applications_atexit_handlers(self):
        for fork in (False, True):
            rc, out, err = self.run_to_end(fork, """
                leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
                atexit.register(FIGURES.clear)        # registered later: runs first
                import tracemalloc                    # an import after install, as usual
                print("done")
                """)
            self.assertEqual((rc, out, err), (0, "done\n", ""))
            self.check_exit(self.only_snapshot(err), fork)

    def test_before_the_non_daemon_threads_are_joined(self):
        for fork in (False, True):
            rc, out, err = self.run_to_end(fork, """
                def last_one_out():
                    # the interpreter marks the main thread stopped just before it joins
                    # the others; this thread then drops the figures
                    while threading.main_thread().is_alive():
                        time.sleep(0.005)
                    FIGURES.clear()
                leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
                threading.Thread(target=last_one_out).start()
                """)
            self.assertEqual((rc, out, err), (0, "", ""))
            self.check_exit(self.only_snapshot(err), fork)

    def test_sigterm_takes_the_exit_snapshot_and_still_kills(self):
        for fork in (False, True):
            rc, out, err = self.terminated(fork, """
                leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
                atexit.register(print, "atexit ran")   # SIGTERM's default runs none
                print("ready", flush=True)
                time.sleep(60)
                print("not killed")
                """)
            self.assertEqual((rc, out, err), (-signal.SIGTERM, "", ""))
            self.check_exit(self.only_snapshot(err), fork, "SIGTERM")

    def test_sigint_is_a_normal_exit(self):
        with self.start(["""
                # as in a terminal (a background job starts with SIGINT ignored)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
                atexit.register(FIGURES.clear)
                print("ready", flush=True)
                time.sleep(60)
                """], True) as p:
            self.assertEqual(p.stdout.readline(), "ready\n")
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=120)
        # KeyboardInterrupt, the exit (atexit handlers included), then death by SIGINT
        self.assertEqual(p.returncode, -signal.SIGINT, err)
        self.assertIn("KeyboardInterrupt", err)
        self.assertNotIn("leakhunt", err)
        self.check_exit(self.only_snapshot(err), True)

    def test_the_applications_sigterm_handler_wins(self):
        before = """
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
            leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
            """
        after = """
            leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
            """
        for setup in (before, after):
            for fork in (False, True):
                rc, out, err = self.terminated(fork, setup, """
                    atexit.register(FIGURES.clear)
                    print("ready", flush=True)
                    time.sleep(60)
                    """)
                self.assertEqual((rc, out, err), (3, "", ""))
                # the application's handler exits normally: the usual exit snapshot
                self.check_exit(self.only_snapshot(err), fork)

    def test_sigterm_snapshot_can_be_turned_off(self):
        rc, out, err = self.terminated(True, """
            print("ready", flush=True)
            time.sleep(60)
            """, env={"PYTHONPATH": os.pathsep.join([BOOT, PYTHON_DIR]),
                            "LEAKHUNT_OUT": self.out, "LEAKHUNT_SIGTERM": "0"})
        self.assertEqual((rc, out, err), (-signal.SIGTERM, "", ""))
        self.assertEqual(names(self.out), [])

    def test_a_forked_child_dies_of_sigterm_without_a_snapshot(self):
        rc, out, err = self.run_to_end(True, """
            leakhunt.install(out=sys.argv[1], signal=None, fork=FORK)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.write(w, b"x")
                time.sleep(60)
                os._exit(0)
            os.read(r, 1)
            os.kill(pid, signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
            print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
            """)
        self.assertEqual((rc, out, err), (0, "True\n", ""))
        self.check_exit(self.only_snapshot(err), True)


if __name__ == "__main__":
    unittest.main()
