"""WSGI-style app with a timing middleware feeding an in-process metrics registry."""
# truth: kind=unbounded_collection
# truth: type=__main__.Sample
# truth: retainer=_series (collections.defaultdict)
import collections
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

Sample = collections.namedtuple("Sample", "ts value labels")


class MetricsRegistry:
    """Process-wide registry; the exporter renders `_series` as Prometheus text."""

    _series = collections.defaultdict(list)
    _ticks = 0

    @classmethod
    def _clock(cls):
        cls._ticks += 1
        return cls._ticks / 1000.0

    @classmethod
    def observe(cls, name, value, **labels):
        cls._series[name].append(Sample(cls._clock(), float(value), tuple(sorted(labels.items()))))  # <- alloc

    @classmethod
    def render(cls):
        return "\n".join("%s %d" % (name, len(points)) for name, points in sorted(cls._series.items()))


class Request:
    def __init__(self, method, path, body=b""):
        self.method = method
        self.path = path
        self.body = body


class Response:
    def __init__(self, status, body):
        self.status = status
        self.body = body


class Middleware:
    def __init__(self, app):
        self.app = app


class TimingMiddleware(Middleware):
    def __call__(self, request):
        started = MetricsRegistry._ticks
        response = self.app(request)
        route = request.path.rsplit("/", 1)[0]
        MetricsRegistry.observe("http_request_duration_ms", MetricsRegistry._ticks - started + 0.5,
                                route=route, method=request.method, status=str(response.status))
        return response


class SizeMiddleware(Middleware):
    def __call__(self, request):
        response = self.app(request)
        MetricsRegistry.observe("http_response_bytes", len(response.body), route=request.path.rsplit("/", 1)[0])
        return response


def orders_app(request):
    order_id = request.path.rsplit("/", 1)[1]
    return Response(200, ('{"order": "%s", "state": "shipped"}' % order_id).encode())


APP = TimingMiddleware(SizeMiddleware(orders_app))


def step(n):
    for k in range(3):
        APP(Request("GET", "/api/v2/orders/%d" % (n * 3 + k)))


_harness.run(step, "p1_uc_metric_series")
