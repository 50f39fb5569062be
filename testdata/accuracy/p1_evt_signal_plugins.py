"""Plugin-based request pipeline with Django-style signals."""
# truth: kind=event_handler
# truth: type=__main__.RequestProfiler
# truth: retainer=_receivers (list)
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Signal:
    def __init__(self, name):
        self.name = name
        self._receivers = []

    def connect(self, receiver):
        self._receivers.append(receiver)

    def disconnect(self, receiver):
        try:
            self._receivers.remove(receiver)
        except ValueError:
            pass

    def send(self, sender, **kwargs):
        return [(receiver, receiver(sender, **kwargs)) for receiver in self._receivers]


class signals:
    request_started = Signal("request_started")
    request_finished = Signal("request_finished")


class Plugin:
    name = "plugin"

    def __init__(self, request):
        self.request = request

    def setup(self):
        pass


class RequestProfiler(Plugin):
    name = "profiler"
    PHASES = ("routing", "auth", "handler", "render", "serialize", "middleware", "commit", "flush")

    def setup(self):
        self.samples = {phase: [0] * 12 for phase in self.PHASES}  # <- alloc
        signals.request_finished.connect(self.on_request_finished)

    def on_request_finished(self, sender, **kwargs):
        if sender is self.request:
            self.samples["handler"][0] += kwargs.get("elapsed", 0)


class CsrfGuard(Plugin):
    name = "csrf"

    def setup(self):
        self.token = "csrf-%08x" % (id(self.request) & 0xFFFFFFFF)


class PluginHost:
    plugin_classes = [RequestProfiler, CsrfGuard]

    def activate(self, request):
        plugins = [cls(request) for cls in self.plugin_classes]
        for plugin in plugins:
            plugin.setup()
        return plugins


class Request:
    def __init__(self, path):
        self.path = path


class Application:
    def __init__(self):
        self.host = PluginHost()

    def __call__(self, path):
        request = Request(path)
        self.host.activate(request)
        signals.request_started.send(request)
        body = "ok:" + path
        signals.request_finished.send(request, elapsed=len(body))
        return body


APP = Application()


def step(n):
    APP("/items/%d" % n)


_harness.run(step, "p1_evt_signal_plugins")
