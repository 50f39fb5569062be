"""Order placement API that returns its own log lines to the caller.

Support staff asked for every response to carry the log messages that
were produced while serving it.
"""
import logging

LOGGER = logging.getLogger("orders.api")
LOGGER.setLevel(logging.INFO)
LOGGER.propagate = False


class RequestLogCollector(logging.Handler):
    def __init__(self, request_id):
        super().__init__(level=logging.INFO)
        self.request_id = request_id
        self.lines = []
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def filter(self, record):
        return getattr(record, "request_id", None) == self.request_id

    def emit(self, record):
        self.lines.append(self.format(record))


class Inventory:
    def __init__(self):
        self.stock = {f"sku-{i}": 50 for i in range(40)}

    def reserve(self, sku, qty):
        available = self.stock.get(sku, 0)
        if available < qty:
            return False
        self.stock[sku] = available - qty
        if self.stock[sku] < 5:
            self.stock[sku] = 50
        return True


class OrderService:
    def __init__(self):
        self.inventory = Inventory()
        self.placed = 0

    def place(self, request_id, items):
        collector = self._collect_logs(request_id)
        extra = {"request_id": request_id}
        LOGGER.info("placing order with %d items", len(items), extra=extra)
        accepted = all(self.inventory.reserve(sku, qty) for sku, qty in items)
        if accepted:
            self.placed += 1
            LOGGER.info("order accepted", extra=extra)
        else:
            LOGGER.warning("order rejected: insufficient stock", extra=extra)
        return {"id": request_id, "accepted": accepted, "log": list(collector.lines)}

    def _collect_logs(self, request_id):
        collector = RequestLogCollector(request_id)
        LOGGER.addHandler(collector)  # expect: event_handler
        return collector


SERVICE = OrderService()


def parse_items(n):
    return [(f"sku-{(n + i) % 40}", (i % 3) + 1) for i in range(n % 4 + 1)]


def handle_request(n):
    return SERVICE.place(n, parse_items(n))


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
