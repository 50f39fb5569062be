"""Voice pipeline: microphone capture feeding a chunked uploader for the transcription service."""
# truth: kind=array_accumulation
# truth: type=array.array
# truth: retainer=_chunks (collections.deque)
import array
import collections
import itertools
import math
import struct
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

RATE = 16000
FRAME_MS = 40
SAMPLES = RATE * FRAME_MS // 1000


class FakeMicrophone:
    """Deterministic tone generator standing in for the sound card."""

    def __init__(self, freq=440.0):
        self.freq = freq
        self.pos = 0

    def read_frame(self):
        start = self.pos
        self.pos += SAMPLES
        vals = [int(8000 * math.sin(2 * math.pi * self.freq * (start + i) / RATE)) for i in range(SAMPLES)]
        return struct.pack("<%dh" % SAMPLES, *vals)


class AudioCapture:
    def __init__(self, mic):
        self.mic = mic
        self._chunks = collections.deque()
        self.frames = 0

    def poll(self):
        raw = self.mic.read_frame()
        chunk = array.array("h", raw)  # <- alloc
        self._chunks.append(chunk)
        self.frames += 1
        return chunk

    def pending(self, start):
        return itertools.islice(self._chunks, start, None)


class ChunkUploader:
    def __init__(self, capture):
        self.capture = capture
        self._sent = 0
        self.bytes_sent = 0

    def flush(self):
        for chunk in self.capture.pending(self._sent):
            self.bytes_sent += chunk.itemsize * len(chunk)
            self._sent += 1


class VoicePipeline:
    def __init__(self):
        self.capture = AudioCapture(FakeMicrophone())
        self.uploader = ChunkUploader(self.capture)

    def tick(self, n):
        self.capture.poll()
        if n % 5 == 4:
            self.uploader.flush()


PIPELINE = VoicePipeline()


def step(n):
    PIPELINE.tick(n)


_harness.run(step, "p2_pcm_capture_chunks")
