"""Real-library leak: warnings with a varying message fill __warningregistry__."""
import warnings
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

# "default" shows each distinct message once per location, remembering every one it showed;
# showing is silenced here so the program stays quiet.
warnings.simplefilter("default")
warnings.showwarning = lambda *args, **kwargs: None


def check(n):
    warnings.warn("value %d is out of range" % n, UserWarning)  # <- leak


def step(n):
    check(n)


_harness.run(step, "warnings_registry")
