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


import os
import atexit

ZIP_MAX_COMMENT = (1 << 16) - 1


def set_comment(comment):
    if len(comment) > ZIP_MAX_COMMENT:
        # near miss: varies with a constant only
        warnings.warn("Archive comment is too long; truncating to %d bytes" % ZIP_MAX_COMMENT)


def _parse_tzpath(env_var):
    raw = env_var.split(os.pathsep)
    bad = [p for p in raw if not os.path.isabs(p)]
    if bad:
        # near miss: text from an environment variable, parsed at import time
        warnings.warn("Invalid paths specified in PYTHONTZPATH environment variable: %s" % bad)
    return raw


def reset_tzpath():
    global TZPATH
    TZPATH = _parse_tzpath(os.environ.get("PYTHONTZPATH", ""))


reset_tzpath()


def read_flag():
    raw = os.environ.get("APP_MODE", "")
    if raw not in ("a", "b"):
        warnings.warn(f"unknown APP_MODE {raw!r}")  # near miss: fixed for the process


def main(fd, cache):
    try:
        while True:
            line = fd.readline()
            if not line:
                break
    finally:
        for name in cache:
            # near miss: once per leaked name, at shutdown
            warnings.warn("resource_tracker: %r: leaked" % (name,))


def _report_at_exit(names):
    warnings.warn(f"{len(names)} objects left")  # near miss: registered with atexit


atexit.register(_report_at_exit)


def find(path):
    if path[:1] == "/":
        warnings.warn("This search is broken; change it to %r" % path, FutureWarning)  # expect: cache_no_eviction@9


def validate(environ):
    # a WSGI request's environ varies per request
    warnings.warn("Unknown REQUEST_METHOD: %r" % environ["REQUEST_METHOD"])  # expect: cache_no_eviction@5
