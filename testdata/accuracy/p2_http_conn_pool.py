"""Minimal HTTP/1.1 client with a per-host connection pool, talking to a local status service."""
# truth: kind=unclosed_resource
# truth: type=socket.socket
# truth: retainer=_active (dict)
import socket
import threading
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class StatusServer:
    """A tiny loopback server answering every request with a short JSON body."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="status-server", daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            conn, _ = self.sock.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                body = b'{"ok": true}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(body), body))


class ConnectionPool:
    def __init__(self, max_idle=4):
        self.max_idle = max_idle
        self._idle = {}
        self._active = {}  # fd -> checked-out socket

    def acquire(self, host, port):
        idle = self._idle.get((host, port))
        if idle:
            sock = idle.pop()
        else:
            sock = socket.create_connection((host, port), timeout=5.0)  # <- alloc
        self._active[sock.fileno()] = sock
        return sock

    def release(self, host, port, sock):
        del self._active[sock.fileno()]
        idle = self._idle.setdefault((host, port), [])
        if len(idle) < self.max_idle:
            idle.append(sock)
        else:
            sock.close()


class HttpClient:
    def __init__(self, pool):
        self.pool = pool

    def get(self, host, port, path):
        sock = self.pool.acquire(host, port)
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n"
                     % (path.encode(), host.encode()))
        raw = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            raw += chunk
            if b"\r\n\r\n" in raw:
                head, _, body = raw.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    break
        head, _, body = raw.partition(b"\r\n\r\n")
        if b"connection: close" not in head.lower():
            self.pool.release(host, port, sock)
        return head.split(b"\r\n", 1)[0], body


class HealthChecker:
    def __init__(self, client, port):
        self.client = client
        self.port = port
        self.failures = 0

    def probe(self, n):
        status, body = self.client.get("127.0.0.1", self.port, "/health?probe=%d" % n)
        if not status.endswith(b"200 OK"):
            self.failures += 1


SERVER = StatusServer()
CHECKER = HealthChecker(HttpClient(ConnectionPool()), SERVER.port)


def step(n):
    CHECKER.probe(n)
    CHECKER.probe(n + 1000000)


_harness.run(step, "p2_http_conn_pool")
