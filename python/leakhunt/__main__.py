"""`python -m leakhunt ARGS...`: run the leakhunt binary with ARGS (found as `binary.find`
says: LEAKHUNT_BIN, the interpreter's scripts directory, PATH). On POSIX the binary replaces
this process (os.execv), so its exit code, signals and terminal are the program's own; where
execv is unavailable (or does not replace the process, as on Windows) it runs as a child and
its exit code is passed on. Without a binary: one line on stderr, exit 2."""

import os
import subprocess
import sys

from .binary import HOW_TO_GET, find


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    path, why = find()
    if path is None:
        sys.stderr.write("leakhunt: %s; %s\n" % (why, HOW_TO_GET))
        return 2
    argv0 = [path] + args
    if os.name == "posix" and hasattr(os, "execv"):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        try:
            os.execv(path, argv0)
        except OSError as e:
            sys.stderr.write("leakhunt: cannot run %s: %s\n" % (path, e))
            return 2
    try:
        proc = subprocess.Popen(argv0)
    except OSError as e:
        sys.stderr.write("leakhunt: cannot run %s: %s\n" % (path, e))
        return 2
    while True:
        try:
            rc = proc.wait()
            break
        except KeyboardInterrupt:
            continue   # the child has the Ctrl-C too; its exit code says what it did
    return 128 - rc if rc < 0 else rc


if __name__ == "__main__":
    sys.exit(main())
