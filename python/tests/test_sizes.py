"""Object sizes: sys.getsizeof for C types (heap types of extensions included), never a
Python-level __sizeof__ (user code)."""

import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.helpers import run_program  # noqa: E402
from tests.snapread import Snapshot  # noqa: E402

PROGRAM = textwrap.dedent('''
    import array, sys
    import leakhunt

    class Sneaky:
        calls = 0
        def __sizeof__(self):
            Sneaky.calls += 1
            return 10 ** 9

    class SneakyInt(int):
        __slots__ = ()          # no dict, so not a GC object: found untracked, via an edge
        def __sizeof__(self):
            Sneaky.calls += 1
            return 10 ** 9

    BIG = array.array("d", [1.0] * 512)
    S = Sneaky()
    SI = [SneakyInt(7)]
    print(sys.getsizeof(BIG))
    leakhunt.dump(sys.argv[1])
    print(Sneaky.calls)
''')


class SizesTest(unittest.TestCase):
    def test_array_sized_by_getsizeof_and_python_sizeof_never_called(self):
        with tempfile.TemporaryDirectory() as tmp:
            prog = os.path.join(tmp, "sizes.py")
            with open(prog, "w") as f:
                f.write(PROGRAM)
            path = os.path.join(tmp, "s.snap")
            proc = run_program(prog, path)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            want, calls = (int(x) for x in proc.stdout.split())
            self.assertEqual(calls, 0)
            snap = Snapshot(path)
            sizes = [snap.size[i] for i in snap.objects_of_type("array")]
            self.assertIn(want, sizes)
            sneaky = [snap.size[i] for i in snap.objects_of_type("Sneaky")]
            self.assertEqual(len(sneaky), 1)
            self.assertLess(sneaky[0], 1000)
            sneaky_int = [snap.size[i] for i in snap.objects_of_type("SneakyInt")]
            self.assertEqual(len(sneaky_int), 1)
            self.assertLess(sneaky_int[0], 1000)


if __name__ == "__main__":
    unittest.main()
