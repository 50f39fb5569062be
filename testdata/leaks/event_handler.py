"""Event handler: widgets subscribe a bound method and never unsubscribe."""
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class EventBus:
    def __init__(self):
        self.subscribers = {}

    def subscribe(self, event, callback):
        self.subscribers.setdefault(event, []).append(callback)


class Widget:
    def __init__(self, bus, n):
        self.n = n
        self.title = "widget %d" % n
        bus.subscribe("click", self.on_click)  # <- leak

    def on_click(self, event):
        return self.n


BUS = EventBus()


def step(n):
    Widget(BUS, n)


_harness.run(step, "event_handler")
