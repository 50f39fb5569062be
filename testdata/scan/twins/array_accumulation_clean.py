"""Online scoring service with feature drift monitoring."""
from collections import deque

import numpy as np


class Reference:
    """Training-time feature statistics shipped with the model."""

    def __init__(self, n_features=32, seed=0):
        rng = np.random.default_rng(seed)
        self.mean = rng.normal(0.0, 1.0, n_features)
        self.std = np.abs(rng.normal(1.0, 0.1, n_features))
        self.weights = rng.normal(0.0, 0.5, n_features)


class BaseMonitor:
    def __init__(self, reference, window_batches=64):
        self.reference = reference
        self._batches = deque(maxlen=window_batches)

    def window(self):
        if not self._batches:
            return np.empty((0, self.reference.mean.shape[0]))
        return np.concatenate(list(self._batches), axis=0)


class DriftMonitor(BaseMonitor):
    threshold = 0.25

    def observe(self, features):
        standardised = (features - self.reference.mean) / self.reference.std
        self._batches.append(standardised)

    def drift(self):
        data = self.window()
        if data.shape[0] == 0:
            return np.zeros_like(self.reference.mean)
        return np.abs(data.mean(axis=0))

    def alarms(self):
        return np.flatnonzero(self.drift() > self.threshold).tolist()


class ScoringService:
    def __init__(self, monitor=None):
        self.reference = Reference()
        self.monitor = monitor or DriftMonitor(self.reference)
        self.scored = 0

    def score(self, features):
        self._track(features)
        logits = features @ self.reference.weights
        self.scored += features.shape[0]
        return 1.0 / (1.0 + np.exp(-logits))

    def _track(self, features):
        self.monitor.observe(features)

    def health(self):
        return {"scored": self.scored, "drifting_features": self.monitor.alarms()}


SERVICE = ScoringService()
_RNG = np.random.default_rng(42)


def decode_batch(n, rows=256):
    shift = 0.001 * n
    return _RNG.normal(shift, 1.0, size=(rows, SERVICE.reference.mean.shape[0]))


def handle_request(n):
    batch = decode_batch(n)
    scores = SERVICE.score(batch)
    if n % 200 == 0:
        return SERVICE.health()
    return float(scores.mean())


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
