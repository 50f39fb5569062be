"""A program that `leakhunt attach` must not disturb (for tests of attach). Its output is the
same whether or not anything attached to it, and it fails loudly if a blocking call it sits
in came back wrong.

  attach_target.py sleep    the main thread sleeps in short time.sleep() calls, each checked
                            to have lasted as long as asked
  attach_target.py select   the main thread blocks in select() on a socket
  attach_target.py recv     the main thread blocks in recv() on a socket
  attach_target.py busy     the main thread hashes in C with the GIL released
                            (hashlib.pbkdf2_hmac), each digest checked against the first

A reader thread (blocked in read() on stdin) passes each input line to the main thread,
which answers "ok LINE"; "exit" is answered "bye" and ends the program with status 0. It
knows nothing of leakhunt.
"""

import hashlib
import os
import queue
import select
import socket
import sys
import threading
import time


def main():
    mode = sys.argv[1]
    r, w = socket.socketpair()
    lines = queue.Queue()

    def reader():
        for line in sys.stdin:
            lines.put(line.strip())
            w.send(b"x")
            if line.strip() == "exit":
                return
        lines.put("exit")
        w.send(b"x")

    reading = threading.Thread(target=reader)
    reading.start()
    print("pid %d" % os.getpid(), flush=True)
    expected = hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 20000)
    print("ready", flush=True)
    while True:
        if mode == "sleep":
            t0 = time.monotonic()
            time.sleep(0.05)
            if time.monotonic() - t0 < 0.05:
                print("a sleep was cut short", flush=True)
        elif mode == "select":
            ready = select.select([r], [], [], 60)[0]
            if not ready:
                print("select timed out", flush=True)
                continue
            r.recv(1)
        elif mode == "recv":
            if r.recv(1) != b"x":
                print("recv returned the wrong bytes", flush=True)
        elif mode == "busy":
            if hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 20000) != expected:
                print("a digest came out wrong", flush=True)
        while not lines.empty():
            line = lines.get()
            if line == "exit":
                reading.join()
                print("bye", flush=True)
                return
            print("ok %s" % line, flush=True)


if __name__ == "__main__":
    main()
