"""The snapshot's string table and the labels built for dict keys, without user code."""

from array import array

_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__

KEY_TEXT_LIMIT = 80


def type_qualname(t):
    """`t.__qualname__` read through `type`'s own descriptor (no metaclass code)."""
    try:
        name = _type_qualname(t)
    except Exception:
        return "?"
    return name if type(name) is str else "?"


def type_module(t):
    """`t.__module__` read through `type`'s own descriptor (no metaclass code)."""
    try:
        name = _type_module(t)
    except Exception:
        return "?"
    return name if type(name) is str else "?"


def key_text(k):
    """The label of a dict key: what one writes between brackets (formats/snap.md §4.1)."""
    t = type(k)
    if t is str:
        if len(k) > KEY_TEXT_LIMIT:
            return repr(k[:KEY_TEXT_LIMIT]) + "..."
        return repr(k)
    if t is int:
        if k.bit_length() > 128:
            return "<int of %d bits>" % k.bit_length()
        return "%d" % k
    if t is bool or k is None or t is float:
        return repr(k)
    if t is bytes:
        if len(k) > KEY_TEXT_LIMIT:
            return repr(k[:KEY_TEXT_LIMIT]) + "..."
        return repr(k)
    if t is tuple:
        return "<tuple of %d>" % len(k)
    return "<%s object at 0x%x>" % (type_qualname(t), id(k))


def preview_text(o, limit=64):
    """A short `repr`-style preview of an exact str/bytes/int/float, or None for others."""
    t = type(o)
    if t is str or t is bytes:
        return repr(o[:limit]) + ("..." if len(o) > limit else "")
    if t is int or t is bool:
        return key_text(o)
    if t is float:
        return repr(o)
    return None


class StringTable:
    """Interned UTF-8 strings; id 0 is the empty string.

    Keyed by the encoded bytes, so the table never holds a reference to an application
    object (attribute names are often the application's own str objects)."""

    def __init__(self):
        self.by_bytes = {b"": 0}
        self.data = bytearray()
        self.offsets = array("Q", [0, 0])

    def intern(self, text):
        """Return the id of `text` (a str), adding it if new."""
        raw = str.encode(text, "utf-8", "backslashreplace")
        sid = self.by_bytes.get(raw)
        if sid is None:
            sid = len(self.offsets) - 1
            self.data += raw
            self.offsets.append(len(self.data))
            self.by_bytes[raw] = sid
        return sid

    def __len__(self):
        return len(self.offsets) - 1
