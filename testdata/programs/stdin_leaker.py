"""A service that leaks on request, driven line by line from stdin (for tests of `record`
and `attach`). It knows nothing of leakhunt.

  leak    register 100 more Request objects in the module-level _REGISTRY (never removed)
  echo X  print X
  break   replace the directory named by argv[1] with a file (dumps into it must fail)
  spin    start a daemon thread that runs Python code forever (it holds the GIL)
  exit N  leave with status N

Every command is answered on stdout ("ok ..."), flushed, so a test knows when it is done.
"""

import os
import sys
import threading


class Request:
    def __init__(self, n):
        self.id = "req-%d" % n
        self.body = bytearray(1000)


_REGISTRY = {}


def _spin():
    while True:
        sum(range(1000))


def main():
    n = 0
    print("pid %d" % os.getpid(), flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "leak":
            for _ in range(100):
                r = Request(n)
                _REGISTRY[r.id] = r
                n += 1
            print("ok %d" % len(_REGISTRY), flush=True)
        elif cmd == "echo":
            print("ok %s" % arg, flush=True)
        elif cmd == "break":
            for name in os.listdir(sys.argv[1]):
                os.unlink(os.path.join(sys.argv[1], name))
            os.rmdir(sys.argv[1])
            with open(sys.argv[1], "w") as f:
                f.write("not a directory\n")
            print("ok broken", flush=True)
        elif cmd == "spin":
            threading.Thread(target=_spin, daemon=True).start()
            print("ok spinning", flush=True)
        elif cmd == "exit":
            sys.exit(int(arg))
    print("ok eof", flush=True)


if __name__ == "__main__":
    main()
