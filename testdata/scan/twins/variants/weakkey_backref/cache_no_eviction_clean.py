"""Request tracing for the search API.

Spans are attached to the request object they describe and looked up
again by the middleware layers that run later in the same request.
"""
import time
import weakref


class Request:
    def __init__(self, request_id, path, query):
        self.request_id = request_id
        self.path = path
        self.query = query
        self.headers = {"x-request-id": str(request_id)}


class Span:
    def __init__(self, request, name):
        self.request_id = request.request_id
        self.name = name
        self.started = time.perf_counter()
        self.events = []
        self.buffer = bytearray(4096)

    def event(self, label):
        self.events.append((label, time.perf_counter() - self.started))


class Tracer:
    def __init__(self):
        self._spans = weakref.WeakKeyDictionary()

    def span_for(self, request):
        span = self._spans.get(request)
        if span is None:
            span = Span(request, request.path)
            self._spans[request] = span
        return span

    def active(self):
        return len(self._spans)


class Middleware:
    def __init__(self, tracer, label):
        self.tracer = tracer
        self.label = label

    def __call__(self, request):
        self.tracer.span_for(request).event(self.label)


class SearchService:
    def __init__(self):
        self.tracer = Tracer()
        self.chain = [Middleware(self.tracer, name) for name in ("auth", "rate", "parse")]
        self.index = {f"term{i}": [i, i * 2, i * 3] for i in range(100)}

    def search(self, request):
        for middleware in self.chain:
            middleware(request)
        hits = self._lookup(request)
        self.tracer.span_for(request).event("lookup")
        return hits

    def _lookup(self, request):
        return self.index.get(request.query, [])


SERVICE = SearchService()


def handle_request(n):
    request = Request(n, "/search", f"term{n % 150}")
    hits = SERVICE.search(request)
    return {"id": n, "hits": len(hits)}


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
