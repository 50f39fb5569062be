"""Minimal in-process tracer: spans form a tree under the process-wide root span."""
# truth: kind=circular_reference
# truth: type=__main__.Span
# truth: retainer=children (list)
import itertools
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Span:
    _ids = itertools.count(1)

    def __init__(self, name, parent=None, **tags):
        self.span_id = next(self._ids)
        self.name = name
        self.parent = parent
        self.children = []
        self.tags = dict(tags, component=name.split(".")[0])  # <- alloc
        self.duration = 0
        if parent is not None:
            parent.children.append(self)

    def child(self, name, **tags):
        return Span(name, self, **tags)

    def finish(self, duration):
        self.duration = duration


class Tracer:
    def __init__(self, service):
        self.service = service
        self.root = Span("process.main", service=service)
        self._active = [self.root]

    def start(self, name, **tags):
        span = self._active[-1].child(name, **tags)
        self._active.append(span)
        return span

    def end(self, span, duration):
        span.finish(duration)
        self._active.pop()


TRACER = Tracer("checkout")


def charge_card(order_id, amount):
    span = TRACER.start("payments.charge", order=order_id, amount=amount, gateway="stripe-like")
    TRACER.end(span, amount % 13)


def handle_checkout(order_id):
    span = TRACER.start("http.request", route="/checkout", order=order_id, method="POST")
    db = TRACER.start("db.query", statement="SELECT * FROM carts WHERE order_id = ?", order=order_id)
    TRACER.end(db, 2)
    charge_card(order_id, 1000 + order_id % 500)
    TRACER.end(span, 7)


def step(n):
    handle_checkout(n)


_harness.run(step, "p1_cycle_span_tree")
