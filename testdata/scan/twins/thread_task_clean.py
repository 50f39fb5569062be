"""Notification fan-out for the orders service.

Each accepted order triggers an e-mail and a webhook delivered in the
background so that the request can return immediately.
"""
import threading
import time


class Transport:
    def __init__(self, name):
        self.name = name
        self.sent = 0
        self._lock = threading.Lock()

    def deliver(self, recipient, body):
        time.sleep(0.0005)
        with self._lock:
            self.sent += 1


class BackgroundWorker:
    def __init__(self):
        self._threads = []
        self._lock = threading.Lock()

    def reap(self):
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]

    def join_all(self, timeout=1.0):
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)


class Notifier(BackgroundWorker):
    def __init__(self, transport):
        super().__init__()
        self.transport = transport

    def spawn(self, recipient, body):
        self.reap()
        t = threading.Thread(
            target=self.transport.deliver,
            args=(recipient, body),
            name=f"{self.transport.name}-{recipient}",
            daemon=True,
        )
        t.start()
        with self._lock:
            self._threads.append(t)
        return t


class NotificationService:
    def __init__(self):
        self.mail = Notifier(Transport("smtp"))
        self.hooks = Notifier(Transport("webhook"))

    def order_accepted(self, order_id, email, callback_url):
        self._send_mail(email, f"Order {order_id} confirmed")
        self._send_hook(callback_url, {"order": order_id, "status": "accepted"})

    def _send_mail(self, email, subject):
        return self.mail.spawn(email, subject)

    def _send_hook(self, url, payload):
        return self.hooks.spawn(url, repr(payload))


SERVICE = NotificationService()


def handle_request(n):
    order_id = 10_000 + n
    SERVICE.order_accepted(order_id, f"customer{n}@example.com", f"https://hooks.example.com/{n}")
    return {"order": order_id, "status": "accepted"}


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
    SERVICE.mail.join_all()
    SERVICE.hooks.join_all()
