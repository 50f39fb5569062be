"""Closures capturing a large bytearray, stored in a list that is never pruned."""
import _harness

HANDLERS = []


def make_handler(n):
    payload = bytearray(10_000)

    def handler():
        return len(payload) + n

    return handler


def step(n):
    HANDLERS.append(make_handler(n))


_harness.run(step, "closure")
