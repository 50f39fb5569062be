"""Inventory service on sqlite with a fixed-size connection pool shared by request handlers."""
# truth: clean
import contextlib
import queue
import sqlite3
import tempfile
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class ConnectionPool:
    def __init__(self, path, size=4):
        self._free = queue.LifoQueue(maxsize=size)
        self._all = []
        for _ in range(size):
            conn = sqlite3.connect(path, check_same_thread=False)
            conn.execute("PRAGMA synchronous=OFF")
            self._all.append(conn)
            self._free.put(conn)

    @contextlib.contextmanager
    def connection(self):
        conn = self._free.get()
        try:
            yield conn
        finally:
            self._free.put(conn)

    def close(self):
        for conn in self._all:
            conn.close()


class InventoryRepository:
    def __init__(self, pool):
        self.pool = pool
        with pool.connection() as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL)")

    def adjust(self, sku, delta):
        with self.pool.connection() as conn, conn:
            conn.execute("INSERT INTO stock (sku, qty) VALUES (?, ?) "
                         "ON CONFLICT(sku) DO UPDATE SET qty = qty + excluded.qty", (sku, delta))

    def quantity(self, sku):
        with self.pool.connection() as conn:
            cur = conn.execute("SELECT qty FROM stock WHERE sku = ?", (sku,))
            try:
                row = cur.fetchone()
            finally:
                cur.close()
        return row[0] if row else 0


class InventoryService:
    def __init__(self, repo):
        self.repo = repo

    def reserve(self, n):
        sku = "SKU-%03d" % (n % 50)
        self.repo.adjust(sku, 5)
        self.repo.adjust(sku, -1)
        return self.repo.quantity(sku)


_dir = tempfile.mkdtemp(prefix="inventory-")
POOL = ConnectionPool(os.path.join(_dir, "inventory.db"))
SERVICE = InventoryService(InventoryRepository(POOL))


def step(n):
    SERVICE.reserve(n)


_harness.run(step, "p2_ok_sqlite_pool")
