"""Request pipeline with middleware; the audit middleware records who did what for compliance export."""
# truth: kind=string_concat
# truth: type=str
# truth: retainer=_audit_trail (str)
import hashlib
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

_audit_trail = ""


def audit(user, action, resource):
    global _audit_trail
    entry = "user=%s action=%s resource=%s sig=%s\n" % (
        user, action, resource, hashlib.md5(("%s|%s|%s" % (user, action, resource)).encode()).hexdigest())
    _audit_trail += entry  # <- alloc


def export_audit():
    return _audit_trail


class Middleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, req):
        return self.app(req)


class AuthMiddleware(Middleware):
    USERS = {"tok-a": "alice", "tok-b": "bob", "tok-c": "carol"}

    def __call__(self, req):
        req["user"] = self.USERS.get(req["token"], "anonymous")
        return self.app(req)


class AuditMiddleware(Middleware):
    def __call__(self, req):
        resp = self.app(req)
        if req["method"] != "GET":
            audit(req["user"], req["method"], req["path"])
        return resp


def application(req):
    return {"status": 200, "body": "ok %s" % req["path"]}


APP = AuthMiddleware(AuditMiddleware(application))
TOKENS = ["tok-a", "tok-b", "tok-c"]


def step(n):
    APP({"method": "POST", "path": "/api/projects/%d/members" % (n % 97), "token": TOKENS[n % 3]})
    APP({"method": "DELETE", "path": "/api/sessions/%d" % n, "token": TOKENS[(n + 1) % 3]})
    APP({"method": "GET", "path": "/api/projects", "token": TOKENS[n % 3]})


_harness.run(step, "p2_str_audit_global")
