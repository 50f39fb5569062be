"""Background export jobs: each export runs on its own thread; the admin page looks jobs up by id."""
# truth: kind=thread_task
# truth: type=__main__.ExportJob
# truth: retainer=_by_id (dict)
import csv
import io
import itertools
import threading
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class BackgroundJob(threading.Thread):
    """A unit of background work with a status the admin endpoint can poll."""

    _by_id = {}
    _ids = itertools.count(1)

    def __init__(self, owner):
        self.job_id = next(BackgroundJob._ids)
        super().__init__(name="job-%d" % self.job_id, daemon=True)  # <- alloc
        self.owner = owner
        self.status = "queued"
        self.error = None
        BackgroundJob._by_id[self.job_id] = self

    @classmethod
    def lookup(cls, job_id):
        return cls._by_id.get(job_id)

    def run(self):
        self.status = "running"
        try:
            self.execute()
            self.status = "done"
        except Exception as exc:  # pragma: no cover
            self.error = repr(exc)
            self.status = "failed"

    def execute(self):
        raise NotImplementedError


class ExportJob(BackgroundJob):
    def __init__(self, owner, rows, columns):
        super().__init__(owner)
        self.rows = rows
        self.columns = columns
        self.byte_count = 0

    def execute(self):
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        self.byte_count = len(buf.getvalue())
        self.rows = None


class ExportScheduler:
    def __init__(self):
        self.submitted = 0

    def submit(self, owner, rows):
        job = ExportJob(owner, rows, ("id", "sku", "qty"))
        job.start()
        self.submitted += 1
        return job.job_id


class AdminApi:
    def __init__(self, scheduler):
        self.scheduler = scheduler

    def export_orders(self, user, n):
        rows = [(n * 10 + i, "SKU-%04d" % ((n + i) % 500), i + 1) for i in range(5)]
        job_id = self.scheduler.submit(user, rows)
        job = BackgroundJob.lookup(job_id)
        job.join()
        return {"job": job_id, "status": job.status, "bytes": job.byte_count}


API = AdminApi(ExportScheduler())


def step(n):
    API.export_orders("user%d" % (n % 7), n)


_harness.run(step, "p2_thread_export_jobs")
