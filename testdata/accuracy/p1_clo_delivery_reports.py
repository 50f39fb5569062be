"""Message publisher over an in-memory transport; keeps delivery reports for the admin page."""
# truth: kind=closure_capture
# truth: type=bytes
# truth: retainer=_reports (list)
import json
import struct
import zlib
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

MAGIC = 0x4D51


class MemoryTransport:
    def __init__(self):
        self.sent_bytes = 0

    def send(self, frame):
        self.sent_bytes += len(frame)
        return True


class Publisher:
    def __init__(self, transport):
        self._transport = transport
        self._reports = []

    @staticmethod
    def _encode(topic, body):
        header = struct.pack(">HHI", MAGIC, len(topic), zlib.crc32(body))
        return header + topic.encode() + body  # <- alloc

    def publish(self, topic, message):
        body = json.dumps(message, separators=(",", ":")).encode()
        frame = self._encode(topic, body)
        ok = self._transport.send(frame)
        self._reports.append(lambda: "%s %s (%d bytes)" % ("delivered" if ok else "failed", topic, len(frame)))

    def delivery_summary(self, last=20):
        return [report() for report in self._reports[-last:]]


class OrderEvents:
    def __init__(self, publisher):
        self.publisher = publisher

    def order_shipped(self, order_id, lines):
        self.publisher.publish("orders.shipped", {"order_id": order_id, "lines": lines, "carrier": "DHL"})


EVENTS = OrderEvents(Publisher(MemoryTransport()))


def step(n):
    lines = [{"sku": "SKU-%05d" % (n * 10 + i), "qty": 1 + i % 3, "price_cents": 1999 + i} for i in range(12)]
    EVENTS.order_shipped(n, lines)


_harness.run(step, "p1_clo_delivery_reports")
