"""Array accumulation with numpy: every batch's activations are kept in a list."""
import numpy as np
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

ACTIVATIONS = []


def step(n):
    out = np.full(1024, n, dtype=np.float64)
    ACTIVATIONS.append(out * 2)  # <- leak


_harness.run(step, "array_numpy")
