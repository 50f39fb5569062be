import atexit
import sqlite3


class Database:
    def __init__(self, path):
        self.path = path
        self._opened = []

    def connect(self):
        conn = sqlite3.connect(self.path)
        self._opened.append(conn)  # expect: unclosed_resource@9
        return conn

    def close_all(self):
        while self._opened:
            self._opened.pop().close()


class AuditLog:
    def __init__(self):
        self.entries = []

    def record(self, who, what):
        self.entries.append({"who": who, "what": what})  # expect: unbounded_collection@9

    def flush(self):
        self.entries.clear()


DB = Database(":memory:")
LOG = AuditLog()
atexit.register(LOG.flush)


def handle(n):
    conn = DB.connect()
    conn.execute("select 1")
    LOG.record("user%d" % n, "select")


if __name__ == "__main__":
    for n in range(100):
        handle(n)
    DB.close_all()
