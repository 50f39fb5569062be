import weakref


class Widget:
    def __init__(self, event_bus):
        event_bus.subscribe("click", self.on_click)  # expect: event_handler@9

    def on_click(self, event):
        pass


class Unsubscribing:
    """Near miss: unsubscribe in close()."""

    def __init__(self, bus):
        self.bus = bus
        bus.subscribe("click", self.on_click)

    def on_click(self, event):
        pass

    def close(self):
        self.bus.unsubscribe("click", self.on_click)


class WeakWidget:
    """Near miss: a WeakMethod."""

    def __init__(self, bus):
        bus.subscribe("click", weakref.WeakMethod(self.on_click))

    def on_click(self, event):
        pass


class Connector:
    """Near miss: connect() with data, not a callback."""

    def __init__(self, sock, address):
        self.address = address
        sock.connect(self.address)


class Lambda:
    def start(self, emitter):
        emitter.on("data", lambda d: self.handle(d))  # expect: event_handler@9

    def handle(self, d):
        pass
