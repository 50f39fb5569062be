"""Order matching service: each order's fill tracker listens to execution reports while it is open."""
# truth: clean
import contextlib
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class ExecutionBus:
    def __init__(self):
        self._listeners = {}

    def add_listener(self, topic, listener):
        self._listeners.setdefault(topic, []).append(listener)

    def remove_listener(self, topic, listener):
        listeners = self._listeners.get(topic, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(topic, None)

    def emit(self, topic, report):
        for listener in list(self._listeners.get(topic, ())):
            listener(report)

    @contextlib.contextmanager
    def listening(self, topic, listener):
        self.add_listener(topic, listener)
        try:
            yield listener
        finally:
            self.remove_listener(topic, listener)


class FillTracker:
    def __init__(self, order_id, quantity):
        self.order_id = order_id
        self.quantity = quantity
        self.fills = []
        self.audit = ["opened %s qty=%d" % (order_id, quantity)] * 8

    def on_execution(self, report):
        if report["order_id"] == self.order_id:
            self.fills.append((report["price"], report["qty"]))

    @property
    def filled(self):
        return sum(q for _, q in self.fills)


BUS = ExecutionBus()


class MatchingEngine:
    def __init__(self, bus):
        self.bus = bus
        self.closed = 0

    def execute(self, order_id, quantity, price):
        tracker = FillTracker(order_id, quantity)
        with self.bus.listening("executions", tracker.on_execution):
            remaining = quantity
            while remaining:
                lot = min(remaining, 25)
                self.bus.emit("executions", {"order_id": order_id, "price": price, "qty": lot})
                remaining -= lot
        self.closed += 1
        return tracker.filled


ENGINE = MatchingEngine(BUS)


def step(n):
    ENGINE.execute("ord-%d" % n, 50 + n % 60, 99.5 + (n % 10) / 100)


_harness.run(step, "p1_ok_scoped_listeners")
