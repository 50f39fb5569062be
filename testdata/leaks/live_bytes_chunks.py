"""A variant the corpus runs live only (its dumps are not committed)."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
FRAMES = []
def step(n):
    FRAMES.append(bytes(4096))  # <- leak
_harness.run(step, "live_bytes_chunks")
