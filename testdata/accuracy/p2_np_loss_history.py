"""Linear-regression trainer with mini-batch SGD and a metrics module for the dashboard."""
# truth: kind=array_accumulation
# truth: type=numpy.ndarray
# truth: retainer=loss_history (list)
import numpy as np
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

loss_history = []  # per-batch losses, read by the dashboard's sparkline


def log_batch_loss(per_sample):
    loss_history.append(per_sample)
    return float(per_sample.mean())


class LinearModel:
    def __init__(self, n_features, n_targets, rng):
        self.W = rng.standard_normal((n_features, n_targets)) * 0.01
        self.b = np.zeros(n_targets)

    def predict(self, X):
        return X @ self.W + self.b


class SGD:
    def __init__(self, model, lr=0.01):
        self.model = model
        self.lr = lr

    def update(self, X, err):
        n = X.shape[0]
        self.model.W -= self.lr * (X.T @ err) / n
        self.model.b -= self.lr * err.mean(axis=0)


class Trainer:
    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.true_W = rng.standard_normal((8, 2))
        self.model = LinearModel(8, 2, rng)
        self.opt = SGD(self.model)
        self.rng = rng

    def next_batch(self, size=256):
        X = self.rng.standard_normal((size, 8))
        y = X @ self.true_W + 0.1 * self.rng.standard_normal((size, 2))
        return X, y

    def train_step(self):
        X, y = self.next_batch()
        err = self.model.predict(X) - y
        per_sample = np.square(err).mean(axis=1)  # <- alloc
        self.opt.update(X, err)
        return log_batch_loss(per_sample)


TRAINER = Trainer()


def step(n):
    TRAINER.train_step()


_harness.run(step, "p2_np_loss_history")
