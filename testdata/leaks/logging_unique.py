"""Real-library leak: logging.getLogger with a name that is unique per request."""
import logging
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


def step(n):
    log = logging.getLogger("app.request.%d" % n)  # <- leak
    log.debug("handled")


_harness.run(step, "logging_unique")
