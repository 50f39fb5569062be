from collections import deque, OrderedDict
import weakref


class Tracker:
    def __init__(self):
        self.history = []

    def record(self, event):
        self.history.append(event)  # expect: unbounded_collection@9


class Trimmed:
    """Near miss: grown in one method, trimmed in another."""

    def __init__(self):
        self.history = []

    def record(self, event):
        self.history.append(event)

    def flush(self):
        del self.history[:100]


class Reset:
    """Near miss: reassigned in another method."""

    def __init__(self):
        self.items = []

    def add(self, x):
        self.items.append(x)

    def reset(self):
        self.items = []


class Bounded:
    """Near miss: deque(maxlen=...) bounds itself."""

    def __init__(self):
        self.history = deque(maxlen=1000)

    def record(self, event):
        self.history.append(event)


class Weak:
    """Near miss: WeakValueDictionary drops dead entries."""

    def __init__(self):
        self.live = weakref.WeakValueDictionary()

    def track(self, key, obj):
        self.live[key] = obj


class Queue:
    def __init__(self):
        self.pending = deque()

    def push(self, job):
        self.pending.append(job)  # expect: unbounded_collection@9


class Consumer:
    """Near miss: deque() drained with popleft()."""

    def __init__(self):
        self.pending = deque()

    def push(self, job):
        self.pending.append(job)

    def next(self):
        return self.pending.popleft()


class Other:
    """The same name in another class is another name: trimming here does not quiet Tracker."""

    def __init__(self):
        self.history = []

    def clear(self):
        self.history.clear()


_seen = set()


def remember(x):
    _seen.add(x)  # expect: unbounded_collection@5


__all__ = []
__all__.append("remember")  # near miss: module-level registration at import time


class Guarded:
    """Near miss: growth guarded by a size check."""

    def __init__(self):
        self.types = set()

    def note(self, obj):
        if len(self.types) < 100:
            self.types.add(type(obj))
