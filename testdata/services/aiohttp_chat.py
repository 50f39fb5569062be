"""Chat rooms over long-polling on aiohttp (asyncio).

Leak (event_handler): each GET /rooms/{room}/poll creates a ChatSession and
subscribes its bound method ``on_message`` to the module-level event bus.
The session unsubscribes after it receives a message, but a poll that times
out with nothing to deliver returns early and leaves its handler on the bus
for good (and every later publish walks the dead handlers too).

    python aiohttp_chat.py PORT
"""
import asyncio
import itertools
import sys
import time
from collections import defaultdict

from aiohttp import web

MAX_WAIT = 25.0
INBOX_LIMIT = 32


class EventBus:
    """Topic -> handlers; publish calls each handler with the event."""

    def __init__(self):
        self._handlers = defaultdict(list)

    def subscribe(self, topic, handler):
        self._handlers[topic].append(handler)

    def unsubscribe(self, topic, handler):
        try:
            self._handlers[topic].remove(handler)
        except ValueError:
            pass

    def publish(self, topic, event):
        delivered = 0
        for handler in list(self._handlers.get(topic, ())):
            if handler(event):
                delivered += 1
        return delivered

    def subscriber_count(self, topic):
        return len(self._handlers.get(topic, ()))


BUS = EventBus()
_message_ids = itertools.count(1)


class ChatSession:
    """One long-poll connection of one user in one room."""

    def __init__(self, room, user):
        self.room = room
        self.user = user
        self.opened = time.monotonic()
        self.inbox = asyncio.Queue(maxsize=INBOX_LIMIT)

    def on_message(self, event):
        if event["from"] == self.user or self.inbox.full():
            return False
        self.inbox.put_nowait(event)
        return True

    async def next_batch(self, wait):
        first = await asyncio.wait_for(self.inbox.get(), wait)
        batch = [first]
        while not self.inbox.empty():
            batch.append(self.inbox.get_nowait())
        return batch


async def health(request):
    return web.json_response({"status": "ok"})


async def poll(request):
    room = request.match_info["room"]
    user = request.query.get("user", "anonymous")
    try:
        wait = min(float(request.query.get("wait", "20")), MAX_WAIT)
    except ValueError:
        raise web.HTTPBadRequest()
    session = ChatSession(room, user)
    BUS.subscribe(room, session.on_message)
    try:
        batch = await session.next_batch(wait)
    except asyncio.TimeoutError:
        return web.json_response({"room": room, "messages": []})
    BUS.unsubscribe(room, session.on_message)
    return web.json_response({"room": room, "messages": batch})


async def post_message(request):
    room = request.match_info["room"]
    try:
        body = await request.json()
        user = str(body["user"])
        text = str(body["text"])[:2000]
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest()
    event = {"id": next(_message_ids), "from": user, "text": text,
             "room": room, "at": time.time()}
    delivered = BUS.publish(room, event)
    return web.json_response({"id": event["id"], "delivered": delivered}, status=201)


async def room_info(request):
    room = request.match_info["room"]
    return web.json_response({"room": room, "listeners": BUS.subscriber_count(room)})


def make_app():
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/rooms/{room}", room_info)
    app.router.add_get("/rooms/{room}/poll", poll)
    app.router.add_post("/rooms/{room}/messages", post_message)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]),
                access_log=None, print=None)
