"""Reference cycles that are garbage: the cyclic GC is off, so pairs that point at each
other are never freed although nothing reaches them."""
import gc

import _harness


class Pair:
    def __init__(self):
        self.other = None
        self.payload = bytearray(512)


def step(n):
    a, b = Pair(), Pair()
    a.other, b.other = b, a


gc.disable()
_harness.run(step, "cycle_garbage")
