"""Order intake service on Flask's threaded dev server.

Leak (unbounded_collection): every accepted order is appended to the
module-level ORDER_HISTORY list "for the recent-orders page" and nothing
ever trims it.

    python flask_orders.py PORT
"""
import itertools
import logging
import sys
import threading
import time

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log

TAX_RATE = 0.0825


class LineItem:
    __slots__ = ("sku", "quantity", "unit_price")

    def __init__(self, sku, quantity, unit_price):
        self.sku = sku
        self.quantity = quantity
        self.unit_price = unit_price

    def subtotal(self):
        return self.quantity * self.unit_price


class Order:
    def __init__(self, order_id, customer, items, note):
        self.order_id = order_id
        self.customer = customer
        self.items = items
        self.note = note
        self.created = time.time()
        self.status = "accepted"

    def total(self):
        net = sum(item.subtotal() for item in self.items)
        return round(net * (1 + TAX_RATE), 2)

    def to_json(self):
        return {
            "id": self.order_id,
            "customer": self.customer,
            "status": self.status,
            "total": self.total(),
            "items": [
                {"sku": i.sku, "quantity": i.quantity, "unit_price": i.unit_price}
                for i in self.items
            ],
        }


ORDER_HISTORY = []  # every order ever accepted; read by /orders/recent
_history_lock = threading.Lock()
_ids = itertools.count(1)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/orders")
def create_order():
    body = request.get_json(silent=True) or {}
    customer = str(body.get("customer", "")).strip()
    raw_items = body.get("items") or []
    if not customer or not raw_items:
        abort(400)
    try:
        items = [
            LineItem(str(i["sku"]), int(i["quantity"]), float(i["unit_price"]))
            for i in raw_items
        ]
    except (KeyError, TypeError, ValueError):
        abort(400)
    order = Order(next(_ids), customer, items, str(body.get("note", "")))
    with _history_lock:
        ORDER_HISTORY.append(order)
    return jsonify(order.to_json()), 201


@app.get("/orders/recent")
def recent_orders():
    with _history_lock:
        latest = ORDER_HISTORY[-20:]
    return jsonify([o.to_json() for o in reversed(latest)])


@app.get("/orders/<int:order_id>")
def get_order(order_id):
    with _history_lock:
        for order in reversed(ORDER_HISTORY):
            if order.order_id == order_id:
                return jsonify(order.to_json())
    abort(404)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
