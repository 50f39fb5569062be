"""Order processing with live configuration updates."""
from collections import defaultdict


class EventBus:
    def __init__(self):
        self._subscribers = defaultdict(list)

    def subscribe(self, topic, callback):
        self._subscribers[topic].append(callback)

    def unsubscribe(self, topic, callback):
        callbacks = self._subscribers.get(topic)
        if callbacks and callback in callbacks:
            callbacks.remove(callback)
            if not callbacks:
                del self._subscribers[topic]

    def publish(self, topic, payload):
        for callback in list(self._subscribers.get(topic, ())):
            callback(payload)

    def count(self, topic):
        return len(self._subscribers.get(topic, ()))


BUS = EventBus()


class RequestContext:
    topic = "config.changed"

    def __init__(self, bus, request_id):
        self.bus = bus
        self.request_id = request_id
        self.settings = {"currency": "EUR", "tax_rate": 0.2}
        self.scratch = bytearray(8192)
        self.attach()

    def attach(self):
        self.bus.subscribe(self.topic, self.on_config_changed)

    def close(self):
        self.bus.unsubscribe(self.topic, self.on_config_changed)

    def on_config_changed(self, changes):
        self.settings.update(changes)


class OrderContext(RequestContext):
    def __init__(self, bus, request_id, lines):
        super().__init__(bus, request_id)
        self.lines = lines

    def total(self):
        net = sum(qty * price for qty, price in self.lines)
        return round(net * (1 + self.settings["tax_rate"]), 2)


class OrderService:
    def __init__(self, bus):
        self.bus = bus
        self.processed = 0

    def process(self, request_id, lines):
        ctx = self._open_context(request_id, lines)
        try:
            self.processed += 1
            return {"id": request_id, "total": ctx.total(), "currency": ctx.settings["currency"]}
        finally:
            ctx.close()

    def _open_context(self, request_id, lines):
        return OrderContext(self.bus, request_id, lines)


SERVICE = OrderService(BUS)


def push_config(n):
    BUS.publish(RequestContext.topic, {"tax_rate": 0.2 + (n % 3) / 100})


def handle_request(n):
    lines = [(i + 1, 2.5 * (i + 1)) for i in range(n % 5 + 1)]
    result = SERVICE.process(n, lines)
    if n % 250 == 0:
        push_config(n)
    return result


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
