"""leakhunt's sitecustomize, put first on PYTHONPATH by `leakhunt record`.

When LEAKHUNT_OUT is set it starts `leakhunt.install()` from the LEAKHUNT_* variables
(see leakhunt/capture.py `from_environ`) before any of the application's code runs, in the
first Python process only: it marks the environment with LEAKHUNT_OWNER=<pid>, so the
application's Python subprocesses are not recorded (an exec() keeps the pid and is). Then
it takes itself off sys.path (when recording) and runs the sitecustomize it shadows, if there is one, so the
application sees the interpreter it would see without leakhunt. Never raises on its own
account."""

import os
import sys


def _start():
    env = os.environ
    if not env.get("LEAKHUNT_OUT"):
        return
    me = str(os.getpid())
    owner = env.get("LEAKHUNT_OWNER")
    if owner and owner != me:
        return
    env["LEAKHUNT_OWNER"] = me
    try:
        from leakhunt import capture
        capture.from_environ(env)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        try:
            sys.stderr.write("leakhunt: could not start recording: %s: %s\n"
                             % (type(e).__name__, e))
        except BaseException:
            pass


def _chain(hide):
    here = os.path.dirname(os.path.abspath(__file__))

    def ours(entry):
        try:
            return os.path.abspath(entry or os.curdir) == here
        except (TypeError, ValueError):
            return False

    at = [i for i, p in enumerate(sys.path) if ours(p)]
    entry = sys.path[at[0]] if at else None
    sys.path[:] = [p for p in sys.path if not ours(p)]
    mine = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  the one this file shadows, if any
    except ImportError as e:
        if getattr(e, "name", None) != "sitecustomize":
            raise
        if mine is not None:
            sys.modules["sitecustomize"] = mine
    finally:
        if not hide and at:
            # `leakhunt python-path` users keep `import leakhunt` (what the shadowed
            # sitecustomize did to sys.path stays)
            sys.path.insert(min(at[0], len(sys.path)), entry)


_start()
_chain(bool(os.environ.get("LEAKHUNT_OUT")))
