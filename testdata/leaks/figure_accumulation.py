"""Matplotlib figures: a chart per report, shown with pyplot and never closed."""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


def plot(data):
    fig, ax = plt.subplots()  # <- leak
    ax.plot(data)


def step(n):
    plot([n, n + 1, n + 3])


_harness.run(step, "figure_accumulation", units=10)
