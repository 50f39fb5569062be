"""A variant the corpus runs live only (its dumps are not committed)."""
import functools
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
@functools.lru_cache(maxsize=None)
def render(page):
    return "<html>%s</html>" % ("x" * 200) + page  # <- leak
def step(n):
    render("page-%d" % n)
_harness.run(step, "live_lru_function")
