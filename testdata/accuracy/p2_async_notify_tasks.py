"""Webhook notifier: fans each domain event out to subscribers as a background asyncio task."""
# truth: kind=thread_task
# truth: type=_asyncio.Task
# truth: retainer=_inflight (set)
import asyncio
import json
from dataclasses import dataclass, field
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@dataclass
class DomainEvent:
    seq: int
    topic: str
    data: dict = field(default_factory=dict)


class Subscriber:
    def __init__(self, url):
        self.url = url
        self.delivered = 0

    async def send(self, payload):
        await asyncio.sleep(0)
        self.delivered += 1


class Notifier:
    def __init__(self, loop):
        self._loop = loop
        self._subscribers = {}
        # strong references so the loop does not garbage-collect tasks mid-flight
        self._inflight = set()

    def subscribe(self, topic, sub):
        self._subscribers.setdefault(topic, []).append(sub)

    def publish(self, event):
        task = self._loop.create_task(self._deliver(event), name="notify-%d" % event.seq)  # <- alloc
        self._inflight.add(task)
        return task

    async def _deliver(self, event):
        payload = json.dumps({"seq": event.seq, "topic": event.topic, **event.data})
        for sub in self._subscribers.get(event.topic, ()):
            await sub.send(payload)
        return len(payload)

    async def drain(self, tasks):
        for t in tasks:
            await t


class OrderService:
    def __init__(self, notifier):
        self.notifier = notifier

    def place_order(self, n):
        evt = DomainEvent(n, "order.placed", {"order": n, "total": n * 3})
        return self.notifier.publish(evt)


LOOP = asyncio.new_event_loop()
NOTIFIER = Notifier(LOOP)
NOTIFIER.subscribe("order.placed", Subscriber("http://127.0.0.1:9/hooks/billing"))
NOTIFIER.subscribe("order.placed", Subscriber("http://127.0.0.1:9/hooks/crm"))
ORDERS = OrderService(NOTIFIER)


def step(n):
    task = ORDERS.place_order(n)
    LOOP.run_until_complete(NOTIFIER.drain([task]))


_harness.run(step, "p2_async_notify_tasks")
