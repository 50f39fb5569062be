"""Array accumulation: per-batch sample arrays kept for 'later' analysis."""
import array
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

SAMPLES = []


def step(n):
    batch = array.array("d", [float(n)] * 512)  # <- leak
    SAMPLES.append(batch)


_harness.run(step, "array_accumulation")
