def render(items):
    result = ""
    for item in items:
        result += str(item)  # expect: string_concat@9
    return result


def render_join(items):
    """Near miss: ''.join."""
    return "".join(str(item) for item in items)


def count(items):
    """Near miss: an int."""
    n = 0
    for item in items:
        n += 1
    return n


def collect(items):
    """Near miss: a list."""
    out = []
    for item in items:
        out += [item]
    return out


class Log:
    def __init__(self):
        self.text = ""

    def feed(self, lines):
        for line in lines:
            self.text += line  # expect: string_concat@13


def scan_word(text):
    """Near miss: a local built char by char is resized in place by CPython."""
    word = ""
    for ch in text:
        word += ch
    return word


def keep_prefixes(items):
    prefix = ""
    seen = []
    for item in items:
        prefix += item  # expect: string_concat@9
        seen.append(prefix)
    return seen
