"""Ingest API front end: routes each request to a handler and runs it on a worker thread."""
# truth: kind=thread_task
# truth: type=threading.Thread
# truth: retainer=_workers (list)
import hashlib
import json
import threading
from dataclasses import dataclass
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@dataclass
class Request:
    rid: int
    path: str
    body: bytes


@dataclass
class Response:
    status: int
    payload: dict


class Handler:
    def handle(self, req):
        raise NotImplementedError


class MetricsHandler(Handler):
    def handle(self, req):
        doc = json.loads(req.body)
        return Response(202, {"accepted": len(doc["points"])})


class EventsHandler(Handler):
    def handle(self, req):
        digest = hashlib.sha1(req.body).hexdigest()
        return Response(200, {"id": digest[:12]})


class RouteTable:
    def __init__(self):
        self._routes = []

    def add(self, prefix, handler):
        self._routes.append((prefix, handler))
        self._routes.sort(key=lambda r: -len(r[0]))

    def resolve(self, path):
        for prefix, handler in self._routes:
            if path.startswith(prefix):
                return handler
        raise LookupError(path)


class Dispatcher:
    """Runs each request on its own thread so slow handlers do not block the accept loop."""

    def __init__(self, routes):
        self._routes = routes
        self._lock = threading.Lock()
        self._workers = []
        self._responses = {}

    def submit(self, req):
        handler = self._routes.resolve(req.path)
        worker = threading.Thread(target=self._run, args=(handler, req), name="ingest-%d" % req.rid, daemon=True)  # <- alloc
        with self._lock:
            self._workers.append(worker)
        worker.start()
        return worker

    def _run(self, handler, req):
        try:
            resp = handler.handle(req)
        except Exception as exc:  # pragma: no cover - handlers are simple
            resp = Response(500, {"error": str(exc)})
        with self._lock:
            self._responses[req.rid] = resp

    def result(self, worker, rid):
        worker.join()
        with self._lock:
            return self._responses.pop(rid)

    def active_count(self):
        with self._lock:
            return sum(1 for w in self._workers if w.is_alive())


class IngestService:
    def __init__(self):
        routes = RouteTable()
        routes.add("/v1/metrics", MetricsHandler())
        routes.add("/v1/events", EventsHandler())
        self.dispatcher = Dispatcher(routes)
        self.served = 0

    def handle(self, rid, path, body):
        worker = self.dispatcher.submit(Request(rid, path, body))
        resp = self.dispatcher.result(worker, rid)
        self.served += 1
        return resp


APP = IngestService()


def step(n):
    if n % 2:
        body = json.dumps({"points": [[n, i * 0.5] for i in range(4)]}).encode()
        APP.handle(n, "/v1/metrics", body)
    else:
        APP.handle(n, "/v1/events", b"user=%d&action=view" % n)


_harness.run(step, "p2_thread_ingest_workers")
