"""Funds-transfer service with an in-process audit trail for the nightly compliance export."""
# truth: kind=unbounded_collection
# truth: type=__main__.AuditEntry
# truth: retainer=entries (list)
import dataclasses
import hashlib
import json
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@dataclasses.dataclass
class AuditEntry:
    seq: int
    actor: str
    action: str
    account: str
    amount_cents: int
    detail: str
    digest: str


class InsufficientFunds(Exception):
    pass


class AuditTrail:
    """Append-only trail; `export_since` feeds the compliance job."""

    def __init__(self, sink_name):
        self.sink_name = sink_name
        self.entries = []
        self._seq = 0
        self._last_digest = "0" * 64

    def record(self, actor, action, account, amount_cents, context):
        self._seq += 1
        detail = json.dumps(dict(context, actor=actor, action=action, account=account), sort_keys=True)  # <- alloc
        digest = hashlib.sha256((self._last_digest + detail).encode()).hexdigest()
        self._last_digest = digest
        self.entries.append(AuditEntry(self._seq, actor, action, account, amount_cents, detail, digest))

    def export_since(self, seq):
        return [e for e in self.entries if e.seq > seq]


class Ledger:
    def __init__(self, accounts):
        self.balances = {acct: 1_000_000_00 for acct in accounts}

    def move(self, src, dst, amount_cents):
        if self.balances[src] < amount_cents:
            raise InsufficientFunds(src)
        self.balances[src] -= amount_cents
        self.balances[dst] += amount_cents


class TransferService:
    def __init__(self, ledger, audit):
        self._ledger = ledger
        self._audit = audit

    def transfer(self, src, dst, amount_cents, actor, channel):
        self._ledger.move(src, dst, amount_cents)
        context = {
            "channel": channel,
            "counterparty": dst,
            "memo": "invoice settlement batch for counterparty %s via %s" % (dst, channel),
            "risk": {"score": (amount_cents * 7) % 100, "rules": ["velocity", "geo", "amount"]},
        }
        self._audit.record(actor, "transfer.debit", src, amount_cents, context)


ACCOUNTS = ["ACC-%04d" % i for i in range(50)]
SERVICE = TransferService(Ledger(ACCOUNTS), AuditTrail("compliance"))


def step(n):
    src, dst = ACCOUNTS[n % 50], ACCOUNTS[(n * 7 + 3) % 50]
    SERVICE.transfer(src, dst, 100 + (n % 900), actor="api-key:%d" % (n % 7), channel="sepa")


_harness.run(step, "p1_uc_audit_trail")
