def render(items):
    """Near miss: a local built in one call and returned is freed with the call (CPython
    resizes it in place); quadratic at worst, but not a leak."""
    result = ""
    for item in items:
        result += str(item)
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
    """Near miss: the prefixes are kept, but only for the caller of this one call."""
    prefix = ""
    seen = []
    for item in items:
        prefix += item
        seen.append(prefix)
    return seen


class Session:
    """The leak: an attribute grown on every call of a method, never reset."""

    def __init__(self):
        self.transcript = ""

    def log(self, n):
        self.transcript += "request %06d handled\n" % n  # expect: string_concat@9


LOG = ""


def event(n):
    global LOG
    LOG += "event %d\n" % n  # expect: string_concat@5


class Telnet:
    """Near miss: a tiny buffer reset right after it is used."""

    def __init__(self):
        self.iacseq = b""

    def process(self, data):
        for c in data:
            if self.iacseq:
                self.iacseq += c
                self.handle(self.iacseq)
                self.iacseq = b""

    def handle(self, seq):
        pass


class Lexer:
    """Near miss: the token is grown until a break and reset by the next read."""

    def __init__(self):
        self.token = ""

    def read_token(self, stream):
        self.token = ""
        while True:
            ch = stream.read(1)
            if not ch:
                break
            self.token += ch
        return self.token


def read_header(sock):
    """Near miss: a loop that ends when the header is complete."""
    data = b""
    while len(data) < 8:
        s = sock.recv(8 - len(data))
        if not s:
            raise EOFError
        data += s
    return data


def serve(sock):
    """The leak: an endless loop appends every message to a local that is never reset."""
    transcript = ""
    while True:
        msg = sock.recv(1024).decode()
        transcript += msg  # expect: string_concat@9
        sock.send(b"ok")


def netrc_repr(hosts):
    """Near miss: a report built once and returned."""
    rep = ""
    for host, attrs in hosts.items():
        rep += f"machine {host}\n\tlogin {attrs[0]}\n"
    return rep


_counter = ""


def reset_counter():
    """Near miss: the module string is reset by another function."""
    global _counter
    _counter = ""


def bump(n):
    global _counter
    _counter += str(n)
