"""Chart rendering service: Flask + matplotlib (Agg), one PNG per request.

Leak (figure_accumulation): each chart is drawn on a figure made with
plt.subplots() and saved to PNG, but the figure is never plt.close()d, so
pyplot's figure manager registry (Gcf) keeps every figure ever drawn.

    python plot_service.py PORT
"""
import io
import logging
import math
import sys
import threading
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from flask import Flask, Response, abort, jsonify, request  # noqa: E402

app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log
warnings.filterwarnings("ignore", "More than 20 figures")  # "we know"
_pyplot_lock = threading.Lock()  # pyplot is not thread-safe

METRICS = ("latency", "throughput", "errors", "cpu")


def series(metric, points, seed):
    phase = (seed % 97) / 97 * math.tau
    scale = 1 + METRICS.index(metric)
    return [scale * (1.5 + math.sin(phase + i / 6) + 0.3 * math.cos(i / 2.5 + seed))
            for i in range(points)]


def render_chart(metric, points, seed):
    values = series(metric, points, seed)
    fig, ax = plt.subplots(figsize=(3.2, 2.0), dpi=50)
    ax.plot(range(points), values, color="tab:blue", linewidth=1)
    ax.set_title(f"{metric} #{seed}", fontsize=8)
    ax.set_xlabel("minute", fontsize=7)
    ax.grid(True, alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/chart.png")
def chart():
    metric = request.args.get("metric", "latency")
    if metric not in METRICS:
        abort(400)
    try:
        points = max(2, min(int(request.args.get("points", "60")), 500))
        seed = int(request.args.get("seed", "0"))
    except ValueError:
        abort(400)
    with _pyplot_lock:
        png = render_chart(metric, points, seed)
    return Response(png, mimetype="image/png")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
