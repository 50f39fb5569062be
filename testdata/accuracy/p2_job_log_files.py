"""Batch job runner: each job writes progress lines to its own log file under the run directory."""
# truth: kind=unclosed_resource
# truth: type=_io.TextIOWrapper
# truth: retainer=_handles (dict)
import tempfile
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class JobLog:
    """Per-job log files, opened lazily and shared by every stage of the job."""

    _handles = {}

    def __init__(self, root):
        self.root = root

    def _file(self, job_id):
        fh = JobLog._handles.get(job_id)
        if fh is None:
            path = os.path.join(self.root, "job-%05d.log" % job_id)
            fh = open(path, "a", encoding="utf-8")  # <- alloc
            JobLog._handles[job_id] = fh
        return fh

    def write(self, job_id, stage, message):
        fh = self._file(job_id)
        fh.write("[%s] %s\n" % (stage, message))
        fh.flush()


class Stage:
    name = "stage"

    def __init__(self, log):
        self.log = log

    def run(self, job_id, data):
        self.log.write(job_id, self.name, "start")
        out = self.process(data)
        self.log.write(job_id, self.name, "done (%d items)" % len(out))
        return out


class Extract(Stage):
    name = "extract"

    def process(self, data):
        return [x * 3 for x in data]


class Load(Stage):
    name = "load"

    def process(self, data):
        return sorted(set(data))


class JobRunner:
    def __init__(self, root):
        log = JobLog(root)
        self.stages = [Extract(log), Load(log)]

    def run_stage(self, job_id, index, data):
        return self.stages[index].run(job_id, data)


RUNNER = JobRunner(tempfile.mkdtemp(prefix="jobs-"))


def step(n):
    # every job takes two scheduler ticks: extract on the first, load on the second
    job_id, index = divmod(n, 2)
    RUNNER.run_stage(job_id, index, list(range(job_id % 11, job_id % 11 + 20)))


_harness.run(step, "p2_job_log_files")
