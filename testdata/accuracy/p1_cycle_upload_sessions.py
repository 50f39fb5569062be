"""Chunked upload endpoint. Sessions release their quota in __del__.

Automatic collection is switched off at startup; operators run gc.collect() by sending
SIGUSR2 during quiet hours."""
# truth: kind=circular_reference
# truth: type=__main__.UploadSession
# truth: retainer=(unreachable)
import gc
import signal
import zlib
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

gc.set_threshold(0)
if hasattr(signal, "SIGUSR2"):
    signal.signal(signal.SIGUSR2, lambda signum, frame: gc.collect())


class QuotaManager:
    def __init__(self, limit):
        self.limit = limit
        self.in_use = 0

    def reserve(self, size):
        self.in_use += size

    def release(self, size):
        self.in_use -= size


QUOTA = QuotaManager(limit=1 << 30)


class UploadSession:
    CHUNK = 1536

    def __init__(self, upload_id, quota):
        self.upload_id = upload_id
        self.quota = quota
        self.buffer = bytearray(self.CHUNK)  # <- alloc
        self.received = 0
        self.crc = 0
        self.on_chunk = self._default_chunk_handler  # hooks can be swapped by plugins
        quota.reserve(self.CHUNK)

    def _default_chunk_handler(self, data):
        self.buffer[: len(data)] = data
        self.received += len(data)
        self.crc = zlib.crc32(data, self.crc)

    def feed(self, data):
        self.on_chunk(data)

    def __del__(self):
        self.quota.release(self.CHUNK)


class UploadEndpoint:
    def __init__(self, quota):
        self.quota = quota
        self.completed = {}

    def handle(self, upload_id, chunks):
        session = UploadSession(upload_id, self.quota)
        for chunk in chunks:
            session.feed(chunk)
        self.completed[upload_id % 64] = session.crc
        return session.received


ENDPOINT = UploadEndpoint(QUOTA)


def step(n):
    ENDPOINT.handle(n, [bytes([n % 251]) * 512, bytes([(n + 1) % 251]) * 512])


_harness.run(step, "p1_cycle_upload_sessions")
