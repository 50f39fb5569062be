"""Chart rendering endpoint for the metrics dashboard."""
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


class Theme:
    def __init__(self):
        self.line_color = "#1f77b4"
        self.grid_color = "#dddddd"
        self.size = (3.0, 2.0)
        self.dpi = 40


class ChartRenderer:
    def __init__(self, theme):
        self.theme = theme
        self.rendered = 0

    def render_png(self, title, xs, ys):
        fig = self._plot(title, xs, ys)
        try:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=self.theme.dpi)
        finally:
            plt.close(fig)
        self.rendered += 1
        return buf.getvalue()

    def _plot(self, title, xs, ys):
        fig, ax = plt.subplots(figsize=self.theme.size)
        ax.plot(xs, ys, color=self.theme.line_color, linewidth=1)
        ax.set_title(title, fontsize=8)
        ax.grid(True, color=self.theme.grid_color)
        return fig


class MetricsStore:
    def series(self, metric, points=60, offset=0):
        xs = list(range(points))
        ys = [math.sin((x + offset) / 7.0) * 10 + (hash(metric) % 5) for x in xs]
        return xs, ys


class ChartService:
    def __init__(self):
        self.store = MetricsStore()
        self.renderer = ChartRenderer(Theme())

    def chart(self, metric, offset):
        xs, ys = self.store.series(metric, offset=offset)
        return self._render(metric, xs, ys)

    def _render(self, metric, xs, ys):
        return self.renderer.render_png(f"{metric} (last hour)", xs, ys)


SERVICE = ChartService()
METRICS = ("cpu", "memory", "latency_p99", "requests")


def handle_request(n):
    metric = METRICS[n % len(METRICS)]
    png = SERVICE.chart(metric, offset=n)
    return {"metric": metric, "bytes": len(png)}


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
