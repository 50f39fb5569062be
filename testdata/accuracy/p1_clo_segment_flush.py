"""Write-ahead log writer: fills fixed-size segments in a temp dir and reports completions."""
# truth: kind=closure_capture
# truth: type=bytearray
# truth: retainer=_completions (list)
import atexit
import functools
import logging
import shutil
import tempfile
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

log = logging.getLogger("wal")


class SegmentWriter:
    SEGMENT = 2048

    def __init__(self, directory):
        self.directory = directory
        self._completions = []
        self._segment_no = 0

    def _log_flush(self, path, segment):
        log.debug("flushed %s (%d bytes)", path, len(segment))

    def write_segment(self, records):
        segment = bytearray(self.SEGMENT)  # <- alloc
        pos = 0
        for rec in records:
            segment[pos:pos + len(rec)] = rec
            pos += len(rec)
        self._segment_no += 1
        path = os.path.join(self.directory, "seg-%d.wal" % (self._segment_no % 4))
        with open(path, "wb") as fh:
            fh.write(segment)
        self._completions.append(functools.partial(self._log_flush, path, segment))

    def run_completions(self):
        for fn in self._completions:
            fn()
        self._completions.clear()


class WriteAheadLog:
    def __init__(self, writer):
        self.writer = writer
        self.pending = []

    def append(self, record):
        self.pending.append(record)
        if sum(map(len, self.pending)) >= 1024:
            self.writer.write_segment(self.pending)
            self.pending = []


_WAL_DIR = tempfile.mkdtemp(prefix="wal-")
atexit.register(shutil.rmtree, _WAL_DIR, True)
WAL = WriteAheadLog(SegmentWriter(_WAL_DIR))


def step(n):
    for k in range(4):
        WAL.append(b"%08d:%04d:" % (n, k) + b"x" * 240)


_harness.run(step, "p1_clo_segment_flush")
