"""Nightly dashboard builder: plugin panels render charts that are written into the report folder."""
# truth: kind=figure_accumulation
# truth: type=matplotlib.figure.Figure
# truth: retainer=figs (collections.OrderedDict)
import tempfile
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

PANELS = {}


def panel(name):
    def register(cls):
        PANELS[name] = cls
        return cls
    return register


class Panel:
    figsize = (4, 3)

    def __init__(self, outdir):
        self.outdir = outdir

    def render(self, day, data):
        fig = plt.figure(figsize=self.figsize, dpi=60)  # <- alloc
        ax = fig.add_subplot(1, 1, 1)
        self.draw(ax, data)
        ax.set_title("%s - day %d" % (self.title, day))
        path = os.path.join(self.outdir, "%s-%04d.png" % (type(self).__name__.lower(), day))
        fig.savefig(path)
        return path

    def draw(self, ax, data):
        raise NotImplementedError


@panel("signups")
class SignupsPanel(Panel):
    title = "Signups"

    def draw(self, ax, data):
        ax.plot(np.cumsum(data), color="#228833")


@panel("errors")
class ErrorsPanel(Panel):
    title = "Errors by hour"
    figsize = (5, 3)

    def draw(self, ax, data):
        ax.bar(np.arange(24), data[:24], color="#ee6677")


class DashboardBuilder:
    def __init__(self, outdir):
        self.panels = [cls(outdir) for cls in PANELS.values()]
        self.rng = np.random.default_rng(11)
        self.written = []

    def build(self, day):
        p = self.panels[day % len(self.panels)]
        data = self.rng.poisson(5, size=48).astype(float)
        self.written.append(os.path.basename(p.render(day, data)))
        del self.written[:-20]


BUILDER = DashboardBuilder(tempfile.mkdtemp(prefix="dashboard-"))


def step(n):
    BUILDER.build(n)


_harness.run(step, "p2_fig_dashboard_panels", units=5)
