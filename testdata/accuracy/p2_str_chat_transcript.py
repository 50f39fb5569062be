"""Support chat backend: routes messages to a session and answers with canned bot replies."""
# truth: kind=string_concat
# truth: type=str
# truth: retainer=transcript (str)
import re
from dataclasses import dataclass
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@dataclass
class Message:
    seq: int
    author: str
    text: str


class ChatSession:
    def __init__(self, session_id, customer):
        self.session_id = session_id
        self.customer = customer
        self.transcript = ""
        self.turns = 0

    def record(self, msg):
        self.transcript += "[%06d] %-8s %s\n" % (msg.seq, msg.author, msg.text)  # <- alloc
        self.turns += 1


class ReplyBot:
    RULES = [
        (re.compile(r"refund", re.I), "I have opened a refund request for order {order}; you will get an email shortly."),
        (re.compile(r"deliver|ship", re.I), "Order {order} left our warehouse and should arrive within two business days."),
        (re.compile(r".*"), "Thanks for reaching out about order {order}, an agent will follow up in this thread."),
    ]

    def reply(self, text, order):
        for pattern, template in self.RULES:
            if pattern.search(text):
                return template.format(order=order)


class SessionManager:
    def __init__(self):
        self._sessions = {}
        self.bot = ReplyBot()

    def session(self, session_id, customer):
        s = self._sessions.get(session_id)
        if s is None:
            s = self._sessions[session_id] = ChatSession(session_id, customer)
        return s

    def handle(self, session_id, customer, seq, text, order):
        s = self.session(session_id, customer)
        s.record(Message(seq, customer, text))
        s.record(Message(seq + 1, "bot", self.bot.reply(text, order)))


MANAGER = SessionManager()
QUESTIONS = ["Where is my delivery for order %d?", "I want a refund on %d please", "Question about invoice for %d"]


def step(n):
    order = 40000 + n
    MANAGER.handle("support-main", "alice", 2 * n, QUESTIONS[n % 3] % order, order)


_harness.run(step, "p2_str_chat_transcript")
