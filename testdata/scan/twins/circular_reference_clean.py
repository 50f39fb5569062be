"""Server-side rendering of order confirmation pages.

The renderer runs with the cyclic collector switched off to keep request
latency predictable.
"""
import gc
import html
import weakref

gc.disable()


class Node:
    def __init__(self, tag, attrs=None):
        self.tag = tag
        self.attrs = dict(attrs or {})
        self.children = []
        self._parent = None

    @property
    def parent(self):
        return self._parent() if self._parent is not None else None

    def add_child(self, child):
        self.children.append(child)
        child._parent = weakref.ref(self)
        return child

    def depth(self):
        level, node = 0, self.parent
        while node is not None:
            level, node = level + 1, node.parent
        return level

    def render(self):
        attrs = "".join(f' {k}="{html.escape(str(v))}"' for k, v in self.attrs.items())
        inner = "".join(child.render() for child in self.children)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>"


class Text(Node):
    def __init__(self, text):
        super().__init__("#text")
        self.text = text

    def render(self):
        return html.escape(self.text)


class Document(Node):
    def __init__(self, title):
        super().__init__("html")
        self.head = self.add_child(Node("head"))
        self.body = self.add_child(Node("body", {"class": "page"}))
        self.head.add_child(Node("title")).add_child(Text(title))


class PageBuilder:
    def build(self, order):
        doc = Document(f"Order {order['id']}")
        table = doc.body.add_child(Node("table", {"id": f"order-{order['id']}"}))
        for line in order["lines"]:
            self._add_row(table, line)
        return doc

    def _add_row(self, table, line):
        row = table.add_child(Node("tr"))
        for value in (line["sku"], line["qty"], f"{line['price']:.2f}"):
            row.add_child(Node("td")).add_child(Text(str(value)))


class RenderService:
    def __init__(self):
        self.builder = PageBuilder()
        self.pages_rendered = 0

    def confirmation_page(self, order):
        doc = self.builder.build(order)
        self.pages_rendered += 1
        return doc.render()


SERVICE = RenderService()


def load_order(n):
    lines = [
        {"sku": f"sku-{n}-{i}", "qty": i + 1, "price": 3.5 * (i + 1)}
        for i in range(20)
    ]
    return {"id": n, "lines": lines}


def handle_request(n):
    page = SERVICE.confirmation_page(load_order(n))
    return len(page)


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
