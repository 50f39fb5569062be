import logging
import warnings

log = logging.getLogger(__name__)
db_log = logging.getLogger("app.db")


def handle(request_id):
    logger = logging.getLogger(f"request.{request_id}")  # expect: cache_no_eviction@14
    logger.info("start")
    child = logging.getLogger(f"{__name__}.child")  # near miss: varies with code only
    return child


def check(value):
    warnings.warn(f"bad value {value!r}")  # expect: cache_no_eviction@5
    warnings.warn("constant message")
    warnings.warn(f"deprecated: {value}", DeprecationWarning)  # near miss: ignored by default
