def read_file(path):
    f = open(path)
    return f.read()
