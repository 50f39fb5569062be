"""A dump never calls an extension module's own traverse: _asyncio's (3.12, 3.13) can loop
forever over its future-iterator free list after tasks have been awaited, growing the
referents list until the process is killed for memory. The dump must finish and be small."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)

PROGRAM = r'''
import asyncio, os, resource, sys
sys.path.insert(0, %(pkg)r)
import leakhunt

async def job():
    await asyncio.sleep(0)

async def fan_out(loop):
    tasks = [loop.create_task(job()) for _ in range(20)]
    for t in tasks:
        await t          # each await makes a future iterator that goes to the free list

loop = asyncio.new_event_loop()
for _ in range(50):
    loop.run_until_complete(fan_out(loop))
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
sys.exit(0 if leakhunt.dump(%(out)r, step=1) is not None else 3)
'''


class ExtensionModules(unittest.TestCase):
    def test_dump_after_awaited_tasks_finishes(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "a.snap")
            src = PROGRAM % {"pkg": PKG, "out": out}
            try:
                proc = subprocess.run([sys.executable, "-c", src], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=120)
            except subprocess.TimeoutExpired:
                self.fail("the dump did not finish in 120 s (a traverse looping?)")
            self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-800:])
            self.assertTrue(os.path.getsize(out) > 0)


if __name__ == "__main__":
    unittest.main()
