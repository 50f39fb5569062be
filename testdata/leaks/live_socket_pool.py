"""A variant the corpus runs live only (its dumps are not committed)."""
import socket
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
class Pool:
    def __init__(self):
        self.conns = []
    def get(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # <- leak
        self.conns.append(s)
        return s
POOL = Pool()
def step(n):
    POOL.get()
_harness.run(step, "live_socket_pool", units=50)
