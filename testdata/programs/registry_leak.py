"""A leaking service in miniature: three snapshots of a registry that only grows.

usage: python registry_leak.py OUTDIR    (writes OUTDIR/registry-{1,2,3}.snap)

Each step handles 200 requests. Every request is registered in the module-level
`_REGISTRY` dict under 'req-N' and never removed (the leak: 200 Request objects, each with
a 1 KiB bytes body and a headers dict, per step); a per-step scratch list is built and
dropped (churn that must not show up as growth); `_CACHE` is bounded to 50 entries (growth
that stops). Expected diff between snapshots: +200 Request per step, reachable as
`registry_leak._REGISTRY['req-N']`."""

import os
import sys

sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/python")
import leakhunt  # noqa: E402


class Request:
    def __init__(self, n):
        self.id = "req-%d" % n
        self.body = b"x" * 1024
        self.headers = {"content-length": 1024, "x-request-id": self.id}


_REGISTRY = {}
_CACHE = {}
_counter = [0]


def handle(n):
    req = Request(n)
    _REGISTRY[req.id] = req          # the leak
    _CACHE[n % 50] = req.id          # bounded
    return len(req.body)


def step():
    scratch = [handle(_counter[0] + i) for i in range(200)]
    _counter[0] += 200
    return sum(scratch)


if __name__ == "__main__":
    out = sys.argv[1]
    for k in (1, 2, 3):
        step()
        if not leakhunt.dump(os.path.join(out, "registry-%d.snap" % k), step=k,
                             label="after step %d" % k):
            sys.exit(1)
