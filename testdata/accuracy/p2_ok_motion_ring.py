"""Motion detector for a camera feed: compares each frame against a rolling background model."""
# truth: clean
import collections
import numpy as np
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class FrameSource:
    def __init__(self, shape=(24, 32), seed=21):
        self.rng = np.random.default_rng(seed)
        self.shape = shape

    def read(self, n):
        frame = self.rng.integers(0, 255, size=self.shape).astype(np.float32)
        if n % 17 == 0:
            frame[4:12, 6:14] += 120.0
        return frame


class BackgroundModel:
    def __init__(self, depth=8):
        self._history = collections.deque(maxlen=depth)

    def update(self, frame):
        self._history.append(frame)

    def background(self):
        return np.mean(np.stack(self._history), axis=0)


class MotionDetector:
    def __init__(self, threshold=40.0):
        self.model = BackgroundModel()
        self.threshold = threshold
        self.events = collections.Counter()

    def process(self, frame):
        if len(self.model._history) >= 4:
            diff = np.abs(frame - self.model.background())
            moving = int((diff > self.threshold).sum())
            self.events["motion" if moving > 20 else "still"] += 1
        self.model.update(frame)


SOURCE = FrameSource()
DETECTOR = MotionDetector()


def step(n):
    DETECTOR.process(SOURCE.read(n))


_harness.run(step, "p2_ok_motion_ring")
