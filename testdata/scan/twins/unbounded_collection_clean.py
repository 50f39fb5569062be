"""Audit trail for the accounts API.

Every mutating request is recorded so that the admin dashboard can show
recent activity and per-user counters.
"""
import atexit
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class AuditEntry:
    request_id: int
    user: str
    action: str
    payload: dict
    created_at: float = field(default_factory=time.time)


class BaseStore:
    """In-process store shared by the audit components."""

    def __init__(self, maxlen=500):
        self._entries = deque(maxlen=maxlen)
        self._opened_at = time.time()

    def __len__(self):
        return len(self._entries)

    def recent(self, n=10):
        return list(self._entries)[-n:]

    def clear(self):
        self._entries.clear()


class AuditStore(BaseStore):
    ignored_actions = frozenset({"noop", "ping"})

    def record(self, entry):
        if entry.action in self.ignored_actions:
            return False
        self._entries.append(entry)
        return True


class AuditService:
    def __init__(self):
        self.store = AuditStore()
        self.accepted = 0

    def log_access(self, request_id, user, action, payload):
        entry = self._build(request_id, user, action, payload)
        if self._persist(entry):
            self.accepted += 1
        return entry

    def _build(self, request_id, user, action, payload):
        clean = {k: v for k, v in payload.items() if not k.startswith("_")}
        return AuditEntry(request_id, user, action, clean)

    def _persist(self, entry):
        return self.store.record(entry)

    def dashboard(self):
        latest = self.store.recent(5)
        return {
            "total": len(self.store),
            "accepted": self.accepted,
            "latest": [(e.request_id, e.user, e.action) for e in latest],
        }

    def shutdown(self):
        self.store.clear()


SERVICE = AuditService()
atexit.register(SERVICE.shutdown)


def update_account(request_id, user, body):
    payload = {"path": f"/accounts/{request_id}", "body": body, "_trace": "t"}
    return SERVICE.log_access(request_id, user, "update", payload)


def handle_request(n):
    user = f"user{n % 37}"
    update_account(n, user, "x" * 256)
    if n % 100 == 0:
        return SERVICE.dashboard()
    return None


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
