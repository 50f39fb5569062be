"""Checkout API with a request journal exposed on /debug/journal."""
import json
import time


class Journal:
    """Process-wide journal of request summaries."""

    log = ""
    lines_written = 0

    @classmethod
    def write(cls, text):
        cls.log = "".join((cls.log, text))  # expect: string_concat
        cls.lines_written += 1

    @classmethod
    def tail(cls, n=5):
        return cls.log.splitlines()[-n:]


class Formatter:
    def __init__(self, service_name):
        self.service_name = service_name

    def format(self, request_id, status, elapsed_ms, extra):
        fields = json.dumps(extra, sort_keys=True)
        return f"{self.service_name} req={request_id} status={status} t={elapsed_ms:.2f}ms {fields}\n"


class BaseHandler:
    def __init__(self, name):
        self.formatter = Formatter(name)

    def _journal(self, request_id, status, started, extra):
        elapsed_ms = (time.perf_counter() - started) * 1000
        Journal.write(self.formatter.format(request_id, status, elapsed_ms, extra))


class CheckoutHandler(BaseHandler):
    def __init__(self):
        super().__init__("checkout")
        self.completed = 0

    def checkout(self, request_id, cart):
        started = time.perf_counter()
        total = self._price(cart)
        status = 200 if total > 0 else 400
        self._journal(request_id, status, started, {"items": len(cart), "total": total})
        if status == 200:
            self.completed += 1
        return status, total

    def _price(self, cart):
        return round(sum(qty * price for _, qty, price in cart), 2)


class DebugEndpoints:
    def journal(self):
        return {"lines": Journal.lines_written, "tail": Journal.tail()}


HANDLER = CheckoutHandler()
DEBUG = DebugEndpoints()


def build_cart(n):
    return [(f"sku-{(n + i) % 90}", (i % 3) + 1, 4.25 + i) for i in range(n % 6 + 1)]


def handle_request(n):
    if n % 100 == 99:
        return DEBUG.journal()
    return HANDLER.checkout(n, build_cart(n))


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
