"""Order storage on sqlite: a thin repository layer over a small connection helper."""
# truth: kind=unclosed_resource
# truth: type=sqlite3.Connection
# truth: retainer=_opened (list)
import sqlite3
import tempfile
from dataclasses import dataclass
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
)
"""


class Database:
    """Opens connections on demand; close_all() is called from the shutdown hook."""

    def __init__(self, path):
        self.path = path
        self._opened = []
        with self.connect() as conn:
            conn.execute(SCHEMA)

    def connect(self):
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level="DEFERRED")  # <- alloc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=OFF")
        self._opened.append(conn)
        return conn

    def close_all(self):
        while self._opened:
            self._opened.pop().close()


@dataclass
class Order:
    id: int
    customer: str
    amount_cents: int


class OrderRepository:
    def __init__(self, db):
        self.db = db

    def add(self, order):
        conn = self.db.connect()
        with conn:  # commits (or rolls back) the transaction
            conn.execute("INSERT INTO orders (id, customer, amount_cents) VALUES (?, ?, ?)",
                         (order.id, order.customer, order.amount_cents))

    def total_for(self, customer):
        conn = self.db.connect()
        row = conn.execute("SELECT COALESCE(SUM(amount_cents), 0) AS total FROM orders WHERE customer = ?",
                           (customer,)).fetchone()
        return row["total"]


class CheckoutService:
    def __init__(self, repo):
        self.repo = repo

    def checkout(self, n):
        customer = "cust-%03d" % (n % 40)
        self.repo.add(Order(n, customer, 100 + n % 900))
        if n % 4 == 0:
            return self.repo.total_for(customer)
        return None


_tmp = tempfile.mkdtemp(prefix="orders-")
SERVICE = CheckoutService(OrderRepository(Database(os.path.join(_tmp, "orders.db"))))


def step(n):
    SERVICE.checkout(n)


_harness.run(step, "p2_sqlite_order_repo")
