"""Feed ingester: parses small XML-ish documents into element trees and extracts items.

The service turns off the cyclic collector at startup to avoid GC pauses on the hot path."""
# truth: kind=circular_reference
# truth: type=__main__.Element
# truth: retainer=(unreachable)
import gc
import re
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

gc.disable()

_TOKEN = re.compile(r"<(/?)(\w+)([^>]*)>|([^<]+)")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


class Element:
    __slots__ = ("tag", "attrs", "parent", "children", "text")

    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children = []
        self.text = ""
        if parent is not None:
            parent.children.append(self)

    def find_all(self, tag):
        if self.tag == tag:
            yield self
        for child in self.children:
            yield from child.find_all(tag)


def parse(document):
    root = cur = Element("#document", {}, None)
    for m in _TOKEN.finditer(document):
        closing, tag, attrs, text = m.groups()
        if text is not None:
            cur.text += text.strip()
        elif closing:
            cur = cur.parent
        else:
            cur = Element(tag, dict(_ATTR.findall(attrs)), cur)  # <- alloc
    return root


class FeedIngester:
    def __init__(self):
        self.items_seen = 0

    def ingest(self, document):
        tree = parse(document)
        titles = [item.attrs.get("id") for item in tree.find_all("item")]
        self.items_seen += len(titles)
        return titles


INGESTER = FeedIngester()


def render_feed(n):
    items = "".join('<item id="i%d-%d" lang="en"><title>Headline %d</title><link href="/n/%d"></link></item>'
                    % (n, k, k, n * 4 + k) for k in range(3))
    return '<rss version="2.0"><channel name="c%d">%s</channel></rss>' % (n % 5, items)


def step(n):
    INGESTER.ingest(render_feed(n))


_harness.run(step, "p1_cycle_feed_parser")
