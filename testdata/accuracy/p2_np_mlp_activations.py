"""Tiny numpy MLP scoring service: a feed-forward model with a hand-written backward pass."""
# truth: kind=array_accumulation
# truth: type=numpy.ndarray
# truth: retainer=_saved (list)
import numpy as np
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Layer:
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


class Dense(Layer):
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)
        self._saved = []  # activations kept for backward()

    def forward(self, x):
        out = np.tanh(x @ self.W + self.b)  # <- alloc
        self._saved.append(out)
        return out

    def backward(self, grad):
        out = self._saved.pop()
        return (grad * (1.0 - out * out)) @ self.W.T


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


class Scorer:
    """Online scoring endpoint; training happens offline in a separate job."""

    def __init__(self, seed=7):
        rng = np.random.default_rng(seed)
        self.model = Sequential([Dense(24, 64, rng), Dense(64, 48, rng), Dense(48, 4, rng)])
        self._rng = rng

    def score(self, features):
        logits = self.model(features)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).argmax(axis=1)


SCORER = Scorer()
_feature_rng = np.random.default_rng(1234)


def step(n):
    batch = _feature_rng.standard_normal((4, 24))
    SCORER.score(batch)


_harness.run(step, "p2_np_mlp_activations")
