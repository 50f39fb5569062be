"""Batch report runner with post-run hooks (notifications, audit) executed at shutdown."""
# truth: kind=closure_capture
# truth: type=__main__.SalesReport
# truth: retainer=_finalizers (collections.OrderedDict)
import collections
import dataclasses
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@dataclasses.dataclass
class SalesReport:
    report_id: str
    region: str
    rows: list
    total_cents: int = 0


class Notifier:
    def __init__(self):
        self.outbox = collections.deque(maxlen=32)

    def send(self, channel, text):
        self.outbox.append((channel, text))


class JobRunner:
    """Registers a finalizer per job; finalizers run in order when the runner shuts down."""

    _finalizers = collections.OrderedDict()

    def __init__(self, notifier):
        self.notifier = notifier

    @classmethod
    def on_shutdown(cls, key, fn):
        cls._finalizers[key] = fn

    @classmethod
    def shutdown(cls):
        while cls._finalizers:
            cls._finalizers.popitem(last=False)[1]()

    def run(self, job_id, region, orders):
        report = build_report(job_id, region, orders)
        self.notifier.send("#sales", "report %s ready" % report.report_id)

        def announce():
            self.notifier.send("#sales-archive", "%s closed with %d rows" % (report.report_id, len(report.rows)))

        self.on_shutdown(job_id, announce)
        return report.total_cents


def build_report(job_id, region, orders):
    rows = [(o["sku"], o["qty"], o["qty"] * o["unit_cents"], region) for o in orders]  # <- alloc
    return SalesReport("rpt-%s" % job_id, region, rows, sum(r[2] for r in rows))


RUNNER = JobRunner(Notifier())


def step(n):
    orders = [{"sku": "SKU-%d" % (i % 40), "qty": 1 + (n + i) % 4, "unit_cents": 500 + i} for i in range(15)]
    RUNNER.run("job-%d" % n, ("emea", "apac", "amer")[n % 3], orders)


_harness.run(step, "p1_clo_report_hooks")
