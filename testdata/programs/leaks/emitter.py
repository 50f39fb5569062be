"""An event emitter whose handler list grows: each widget subscribes a bound method and
never unsubscribes, so the bus keeps every widget alive."""
import _harness


class EventBus:
    def __init__(self):
        self.handlers = []

    def subscribe(self, fn):
        self.handlers.append(fn)


class Widget:
    def __init__(self, n):
        self.n = n
        self.state = [n] * 16

    def on_click(self, event):
        return self.n


bus = EventBus()


def step(n):
    w = Widget(n)
    bus.subscribe(w.on_click)


_harness.run(step, "emitter")
