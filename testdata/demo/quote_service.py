"""A small price-quote service on the standard library's http.server, with a leak.

Every request opens a QuoteSession and subscribes its on_price listener to the
module-level event bus, so the session would hear price changes while the quote
is shown. Nothing ever unsubscribes it: the bus keeps every session alive.

    python quote_service.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class EventBus:
    """Publish/subscribe for price changes."""

    def __init__(self):
        self._listeners = []

    def subscribe(self, listener):
        self._listeners.append(listener)

    def publish(self, event):
        for listener in list(self._listeners):
            listener(event)


BUS = EventBus()
PRICES = {"SKU-%04d" % i: 10.0 + (i % 37) * 0.25 for i in range(500)}


class QuoteSession:
    """One customer's quote: the price history to chart and the rendered page."""

    def __init__(self, sku):
        self.sku = sku
        self.history = [PRICES.get(sku, 0.0)] * 32
        self.rendered = bytearray(3000)

    def on_price(self, event):
        if event.get("sku") == self.sku:
            self.history.append(event["price"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/health":
            return self.reply({"ok": True})
        sku = "SKU-%04d" % (len(BUS._listeners) % 500)
        session = QuoteSession(sku)
        BUS.subscribe(session.on_price)
        self.reply({"sku": sku, "price": PRICES[sku]})

    def reply(self, payload):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
