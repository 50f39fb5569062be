"""Worker supervisor: keeps the recent output of each worker for the status page's log tail."""
# truth: clean
from dataclasses import dataclass
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

TAIL_BYTES = 2048


@dataclass
class WorkerStatus:
    name: str
    restarts: int = 0
    processed: int = 0


class OutputTail:
    """Last TAIL_BYTES characters of a worker's output."""

    def __init__(self, limit=TAIL_BYTES):
        self.limit = limit
        self.text = ""

    def write(self, chunk):
        self.text += chunk
        if len(self.text) > self.limit:
            self.text = self.text[-self.limit:]


class Worker:
    def __init__(self, name):
        self.status = WorkerStatus(name)
        self.output = OutputTail()

    def handle(self, item):
        self.status.processed += 1
        self.output.write("%s: processed item %08d (queue depth %3d)\n" % (self.status.name, item, item % 113))


class Supervisor:
    def __init__(self, names):
        self.workers = {name: Worker(name) for name in names}

    def dispatch(self, item):
        names = sorted(self.workers)
        self.workers[names[item % len(names)]].handle(item)

    def status_page(self):
        return {name: w.output.text[-300:] for name, w in self.workers.items()}


SUPERVISOR = Supervisor(["ingest", "resize"])


def step(n):
    SUPERVISOR.dispatch(n)
    if n % 25 == 0:
        SUPERVISOR.status_page()


_harness.run(step, "p2_ok_log_tail")
