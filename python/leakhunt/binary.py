"""Where the `leakhunt` binary (the Rust analyser) is, for `python -m leakhunt` and the
pytest plugin. Standard library only; nothing here runs at import.

Looked for in this order:
1. `LEAKHUNT_BIN` when set (and non-empty): that file and nothing else, so a wrong value is
   reported instead of silently replaced by another binary;
2. `leakhunt` in the running interpreter's scripts directory (`sysconfig.get_path("scripts")`,
   where `pip install leakhunt` puts it, also in a virtualenv);
3. `leakhunt` on PATH (`shutil.which`).
In 2 and 3 a `#!...python` script is passed over: that is a Python console-script wrapper, not
the binary, and running it from `python -m leakhunt` would only come back here.
"""

import os
import shutil
import sys
import sysconfig

HOW_TO_GET = ("get it with `pip install leakhunt`, or `cargo install --path .` in a leakhunt "
              "checkout, or point LEAKHUNT_BIN at it")

_EXE = ".exe" if os.name == "nt" else ""


def _executable(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def _python_wrapper(path):
    """Whether `path` is a script whose #! line runs Python (a console-script wrapper)."""
    try:
        with open(path, "rb") as f:
            first = f.readline(512)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first.lower()


def find():
    """(path, None) for the binary, or (None, reason) saying what was tried."""
    env = os.environ.get("LEAKHUNT_BIN")
    if env:
        if _executable(env):
            return os.path.abspath(env), None
        what = "does not exist" if not os.path.exists(env) else "is not an executable file"
        return None, "LEAKHUNT_BIN=%s %s" % (env, what)
    tried = []
    try:
        scripts = sysconfig.get_path("scripts")
    except Exception:
        scripts = None
    if scripts:
        cand = os.path.join(scripts, "leakhunt" + _EXE)
        tried.append(scripts)
        if _executable(cand) and not _python_wrapper(cand):
            return cand, None
    found = shutil.which("leakhunt")
    if found and not _python_wrapper(found):
        return os.path.abspath(found), None
    tried.append("PATH")
    return None, "no leakhunt binary (LEAKHUNT_BIN unset; looked in %s)" % ", ".join(tried)


if __name__ == "__main__":   # pragma: no cover - a debugging aid
    path, why = find()
    print(path or why)
    sys.exit(0 if path else 2)
