"""Adaptive load shedder: keeps recent latencies per backend and sheds when p99 is high."""
# truth: clean
import collections
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

LatencySample = collections.namedtuple("LatencySample", "seq backend millis route")


class LatencyWindow:
    def __init__(self, size):
        self.samples = collections.deque(maxlen=size)

    def add(self, sample):
        self.samples.append(sample)

    def percentile(self, q):
        ordered = sorted(s.millis for s in self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class LoadShedder:
    BACKENDS = ("api-a", "api-b", "api-c", "api-d")

    def __init__(self, window):
        self.windows = {b: LatencyWindow(window) for b in self.BACKENDS}
        self.shed = 0

    def observe(self, seq, backend, millis, route):
        self.windows[backend].add(LatencySample(seq, backend, millis, route))

    def should_shed(self, backend):
        return self.windows[backend].percentile(0.99) > 180.0


SHEDDER = LoadShedder(window=128)


def step(n):
    for k in range(8):
        seq = n * 8 + k
        backend = LoadShedder.BACKENDS[seq % 4]
        SHEDDER.observe(seq, backend, 20.0 + (seq * 37) % 190, "/v1/search?page=%d" % (seq % 97))
    if SHEDDER.should_shed(LoadShedder.BACKENDS[n % 4]):
        SHEDDER.shed += 1


_harness.run(step, "p1_ok_latency_window")
