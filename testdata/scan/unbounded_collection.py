from collections import deque, OrderedDict
import bisect, weakref


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


_platform_cache = {}


def platform(aliased=False, terse=False):
    """Near miss: the key is a pair of flags, four entries at most."""
    result = _platform_cache.get((aliased, terse), None)
    if result is not None:
        return result
    result = "linux" if terse else "linux-x86_64"
    _platform_cache[(aliased, terse)] = result
    return result


class DirCompare:
    """Near miss: a result list rebuilt by the method that fills it."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def phase2(self):
        self.common_dirs = []
        for x in self.a:
            if x in self.b:
                self.common_dirs.append(x)


class Director:
    """Near miss: configuration added while the object is built, kept in order."""

    def __init__(self):
        self.handlers = []

    def add_handler(self, handler):
        bisect.insort(self.handlers, handler)


class Future:
    """Near miss: a short-lived object's callbacks (the owner is not known to live long)."""

    def __init__(self):
        self._done_callbacks = []

    def add_done_callback(self, fn):
        self._done_callbacks.append(fn)

    def _invoke_callbacks(self):
        for cb in self._done_callbacks:
            cb(self)


class Finder:
    """Near miss: a debug-only, duplicate-free record."""

    def __init__(self, debug=0):
        self.debug = debug
        self.processed_paths = []

    def replace_paths(self, filename):
        if self.debug and filename not in self.processed_paths:
            self.processed_paths.append(filename)


class ParsingError(Exception):
    """Near miss: an exception's data lives as long as the error is handled."""

    def __init__(self, source):
        super().__init__(source)
        self.errors = []

    def append(self, lineno, line):
        self.errors.append((lineno, line))


class NFAState:
    """Near miss: a graph built once; nothing says the state lives long."""

    def __init__(self):
        self.arcs = []

    def addarc(self, nxt, label=None):
        self.arcs.append((label, nxt))


_type_reprs = {}


def type_repr(type_num):
    """Near miss: filled once, under `if not _type_reprs:`."""
    if not _type_reprs:
        for name, val in SYMBOLS:
            _type_reprs[val] = name
    return _type_reprs.get(type_num, type_num)


class CommandLog:
    """Near miss: a ring of slots, the index wound back to 0."""

    def __init__(self):
        self._cmd_log = {}
        self._cmd_log_idx = 0

    def _log(self, line):
        self._cmd_log[self._cmd_log_idx] = line
        self._cmd_log_idx += 1
        if self._cmd_log_idx >= 10:
            self._cmd_log_idx = 0


_localedirs = {}


def bindtextdomain(domain, localedir=None):
    """Near miss: a setter keyed by domain, read after it is set (not a memo)."""
    if localedir is not None:
        _localedirs[domain] = localedir
    return _localedirs.get(domain, "/usr/share/locale")


class Bus:
    def __init__(self):
        self.listeners = []

    def on(self, cb):
        self.listeners.append(cb)  # expect: unbounded_collection@9


bus = Bus()


class Widget:
    _all = []

    def __init__(self):
        Widget._all.append(self)  # expect: unbounded_collection@9
