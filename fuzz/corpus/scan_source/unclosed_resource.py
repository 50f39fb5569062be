import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor


def read_file(path):
    f = open(path)  # expect: unclosed_resource@5
    return f.read()


def read_with(path):
    """Near miss: with open."""
    with open(path) as f:
        return f.read()


def read_finally(path):
    """Near miss: closed in finally."""
    f = open(path)
    try:
        return f.read()
    finally:
        f.close()


def opener(path):
    """Near miss: handed to the caller."""
    f = open(path, "rb")
    return f


def run(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)  # expect: unclosed_resource@5
    print(p.pid)


def run_waited(cmd):
    """Near miss: the process is reaped."""
    p = subprocess.Popen(cmd)
    p.wait()


def pool(jobs):
    ex = ThreadPoolExecutor(4)  # expect: unclosed_resource@5
    for j in jobs:
        ex.submit(j)


def slurp(path):
    return open(path).read()  # expect: unclosed_resource@12


class Client:
    def __init__(self, host):
        self.sock = socket.create_connection((host, 80))  # expect: unclosed_resource@9


class ClosingClient:
    """Near miss: closed in close()."""

    def __init__(self, host):
        self.sock = socket.create_connection((host, 80))

    def close(self):
        self.sock.close()
