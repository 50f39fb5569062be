"""No leak: every step allocates a batch of objects and frees it again."""
import _harness


class Item:
    def __init__(self, n):
        self.n = n
        self.data = bytearray(128)


def step(n):
    batch = [Item(n + i) for i in range(20)]
    return sum(i.n for i in batch)


_harness.run(step, "churn")
