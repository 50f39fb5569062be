"""Tiny retained-mode UI toolkit: widgets get their computed layout from a side table."""
# truth: kind=cache_no_eviction
# truth: type=__main__.LayoutState
# truth: retainer=_layout_cache (weakref.WeakKeyDictionary)
import weakref
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Widget:
    def __init__(self, name, parent=None):
        self.name = name
        self.children = []
        if parent is not None:
            parent.children.append(self)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class Label(Widget):
    def __init__(self, name, text, parent=None):
        super().__init__(name, parent)
        self.text = text


class LayoutState:
    """Computed geometry for one widget subtree; dropped with the widget (weak keys)."""

    def __init__(self, owner, rects):
        self.owner = owner
        self.rects = rects
        self.dirty = False


_layout_cache = weakref.WeakKeyDictionary()


def _measure(widget, x, y):
    """One rect per widget: (name, x, y, width, height, glyph x-advances of its text)."""
    rects = []
    for i, w in enumerate(widget.walk()):
        text = getattr(w, "text", w.name)
        rects.append((w.name, x, y + 18 * i, 8 * len(text), 16, [x + 8 * k + (k % 3) for k in range(len(text))]))  # <- alloc
    return rects


def layout_for(widget):
    state = _layout_cache.get(widget)
    if state is None or state.dirty:
        state = _layout_cache[widget] = LayoutState(widget, _measure(widget, 0, 0))
    return state


class Renderer:
    def __init__(self):
        self.frames = 0

    def paint(self, root):
        state = layout_for(root)
        self.frames += 1
        return sum(r[3] * r[4] for r in state.rects)


RENDERER = Renderer()


def open_dialog(n):
    dialog = Widget("dialog-%d" % n)
    Label("title", "Confirm transfer #%d" % n, dialog)
    Label("body", "Send the invoice to the customer?", dialog)
    for b in ("ok", "cancel", "details"):
        Label("btn-" + b, b.upper(), dialog)
    return dialog


def step(n):
    dialog = open_dialog(n)
    RENDERER.paint(dialog)
    # dialog closes here; the toolkit drops its last reference


_harness.run(step, "p1_cache_view_state")
