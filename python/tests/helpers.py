"""Test helpers: paths to the repository, running a Python program, and reading labelled
edges the way reports render them (formats/snap.md §4.2)."""

import os
import subprocess
import sys

from leakhunt import snapformat as F

TESTS = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(TESTS)
REPO = os.path.dirname(PYTHON_DIR)
PROGRAMS = os.path.join(REPO, "testdata", "programs")


def run_program(path, *args, timeout=120):
    """Run a Python program with this interpreter and leakhunt importable."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, path] + list(args), env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def dump_of(test, source, fork=False):
    """Run the program `source` (which dumps to sys.argv[1], in a fork child when a second
    argument is given) and read its snapshot; `test` asserts that it ran cleanly."""
    import tempfile
    from tests.snapread import Snapshot
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "program.py")
        with open(prog, "w") as f:
            f.write(source)
        path = os.path.join(tmp, "program.snap")
        proc = run_program(prog, path, *(["fork"] if fork else []))
        test.assertEqual(proc.returncode, 0, proc.stderr)
        test.assertEqual(proc.stderr, "")
        return Snapshot(path)


def attr(snap, i, name):
    """Targets of `i.name`: an ATTRIBUTE edge, or INSTANCE_DICT then DICT_VALUE['name']."""
    out = []
    for t, kind, label in snap.edges(i):
        if kind == F.ATTRIBUTE and label == name:
            out.append(t)
        elif kind == F.INSTANCE_DICT:
            out += item(snap, t, repr(name))
    return out


def item(snap, i, key_label):
    """Targets of `i[key]` for a dict (DICT_VALUE with that key label)."""
    return [t for t, kind, label in snap.edges(i) if kind == F.DICT_VALUE and label == key_label]


def edges_of_kind(snap, i, kind):
    return [(t, label) for t, k, label in snap.edges(i) if k == kind]


def one(seq):
    """The single element of `seq` (fails clearly otherwise)."""
    seq = list(seq)
    if len(seq) != 1:
        raise AssertionError("expected exactly one element, got %r" % (seq,))
    return seq[0]
