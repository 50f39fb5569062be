def read_file(path):
    f = open(path)  # leakhunt: ignore[unclosed_resource]
    return f.read()


def read_other(path):
    g = open(path)  # leakhunt: ignore
    return g.read()


def read_wrong_kind(path):
    h = open(path)  # leakhunt: ignore[string_concat]  # expect: unclosed_resource@5
    return h.read()
