"""Job worker with a logging setup that keeps recent records for crash reports."""
# truth: kind=unbounded_collection
# truth: type=logging.LogRecord
# truth: retainer=buffer (list)
import logging
import logging.handlers
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(job_id)s] %(message)s"


def configure_logging(service):
    """Console gets WARNING and up; the crash buffer is attached to a file target at startup."""
    logger = logging.getLogger(service)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(console)
    crash_buffer = logging.handlers.MemoryHandler(capacity=256, flushLevel=logging.CRITICAL)
    logger.addHandler(crash_buffer)
    return logger


class JobContext(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        kwargs.setdefault("extra", {}).update(job_id=self.extra["job_id"])
        return msg, kwargs


class Job:
    def __init__(self, job_id, kind, payload):
        self.job_id = job_id
        self.kind = kind
        self.payload = payload


class Worker:
    def __init__(self, logger):
        self._logger = logger
        self.completed = 0

    def run(self, job):
        log = JobContext(self._logger, {"job_id": job.job_id})
        log.debug("payload %r", job.payload)
        result = sum(job.payload) % 9973
        log.info("job %s kind=%s finished items=%d checksum=%d", job.job_id, job.kind, len(job.payload), result)  # <- alloc
        self.completed += 1
        return result


WORKER = Worker(configure_logging("billing.worker"))


def step(n):
    WORKER.run(Job("job-%06d" % n, ("invoice", "refund", "payout")[n % 3], list(range(n % 17, n % 17 + 20))))


_harness.run(step, "p1_uc_log_buffer")
