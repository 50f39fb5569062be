"""String concatenation: a report string rebuilt with += on every request."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Session:
    def __init__(self):
        self.transcript = ""

    def log(self, n):
        self.transcript += "request %06d handled in 12 ms\n" % n  # <- leak


SESSION = Session()


def step(n):
    SESSION.log(n)


_harness.run(step, "string_concat")
