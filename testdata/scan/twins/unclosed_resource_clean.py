"""Event ingestion API backed by SQLite."""
import atexit
import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import time


class Database:
    """Opens connections to the local event store."""

    schema = "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, kind TEXT, body TEXT, at REAL)"

    def __init__(self, directory=None):
        self.directory = directory or tempfile.mkdtemp(prefix="ingest-")
        self.path = os.path.join(self.directory, "events.db")
        self._create_schema()

    def _create_schema(self):
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(self.schema)
            conn.commit()

    def connect(self):
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    def close_all(self):
        shutil.rmtree(self.directory, ignore_errors=True)


class BaseRepository:
    table = None

    def __init__(self, db):
        self.db = db

    def _execute(self, sql, params=()):
        conn = self.db.connect()
        try:
            with conn:
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


class EventRepository(BaseRepository):
    table = "events"

    def insert(self, kind, body):
        self._execute(
            f"INSERT INTO {self.table} (kind, body, at) VALUES (?, ?, ?)",
            (kind, json.dumps(body), time.time()),
        )

    def count(self, kind):
        rows = self._execute(f"SELECT COUNT(*) FROM {self.table} WHERE kind = ?", (kind,))
        return rows[0][0]


class IngestService:
    def __init__(self, repo=None):
        self.db = Database()
        self.repo = repo or EventRepository(self.db)

    def ingest(self, kind, body):
        self._validate(kind, body)
        self.repo.insert(kind, body)

    def _validate(self, kind, body):
        if not kind or not isinstance(body, dict):
            raise ValueError("bad event")

    def shutdown(self):
        self.db.close_all()


SERVICE = IngestService()
atexit.register(SERVICE.shutdown)


def handle_request(n):
    kind = ("click", "view", "purchase")[n % 3]
    SERVICE.ingest(kind, {"user": n % 50, "page": f"/p/{n}"})
    if n % 200 == 0:
        return SERVICE.repo.count(kind)
    return None


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
