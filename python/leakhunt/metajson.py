"""A minimal JSON encoder for the META section (avoids importing `json` into the
application being inspected). Handles None, bool, int, float, str, list/tuple and dict
with str keys."""

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}


def _string(s):
    out = []
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " " or "\ud800" <= ch <= "\udfff":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def to_json(value):
    """Encode `value` as compact JSON text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    t = type(value)
    if t is int:
        return "%d" % value
    if t is float:
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "null"
    if t is str:
        return _string(value)
    if t is list or t is tuple:
        return "[" + ",".join(map(to_json, value)) + "]"
    if t is dict:
        return "{" + ",".join(_string(k) + ":" + to_json(v) for k, v in value.items()) + "}"
    return _string(repr(value))
