"""Thumbnail renderer for sensor traces, using the object-oriented matplotlib API (no pyplot)."""
# truth: kind=figure_accumulation
# truth: type=matplotlib.figure.Figure
# truth: retainer=_recent (list)
import io
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class ThumbnailRenderer:
    def __init__(self, width=3.0, height=1.5, dpi=50):
        self.size = (width, height)
        self.dpi = dpi
        self._recent = []  # figures kept so a re-export at another dpi skips re-plotting

    def render(self, sensor_id, trace):
        fig = Figure(figsize=self.size, dpi=self.dpi)  # <- alloc
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(trace, linewidth=0.8)
        ax.set_axis_off()
        fig.subplots_adjust(0, 0, 1, 1)
        self._recent.append((sensor_id, fig))
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def reexport(self, sensor_id, dpi):
        for sid, fig in reversed(self._recent):
            if sid == sensor_id:
                buf = io.BytesIO()
                fig.savefig(buf, format="png", dpi=dpi)
                return buf.getvalue()
        return None


class SensorFeed:
    def __init__(self, seed=5):
        self.rng = np.random.default_rng(seed)

    def trace(self, n):
        return np.cumsum(self.rng.standard_normal(120))


class ThumbnailService:
    def __init__(self):
        self.renderer = ThumbnailRenderer()
        self.feed = SensorFeed()

    def handle(self, n):
        sensor = "sensor-%02d" % (n % 12)
        return len(self.renderer.render(sensor, self.feed.trace(n)))


SERVICE = ThumbnailService()


def step(n):
    SERVICE.handle(n)


_harness.run(step, "p2_fig_thumbnail_service", units=5)
