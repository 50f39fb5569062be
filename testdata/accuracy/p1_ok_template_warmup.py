"""Notification renderer: compiles each (template, locale) pair once and reuses it."""
# truth: clean
import re
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402

TEMPLATES = ["order_%s" % kind for kind in ("placed", "paid", "packed", "shipped", "delivered",
                                            "returned", "refunded", "cancelled", "delayed", "split",
                                            "gift", "invoice", "reminder", "survey", "welcome")]
LOCALES = ("en", "de", "fr", "es", "it", "nl", "pl", "pt", "sv", "ja")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CompiledTemplate:
    def __init__(self, name, locale, source):
        self.name = name
        self.locale = locale
        self.parts = _PLACEHOLDER.split(source)
        self.glyph_widths = [len(p) % 7 for p in self.parts] * 40

    def render(self, **values):
        return "".join(values.get(p, "") if i % 2 else p for i, p in enumerate(self.parts))


class TemplateStore:
    def __init__(self):
        self._compiled = {}

    def get(self, name, locale):
        key = (name, locale)
        tpl = self._compiled.get(key)
        if tpl is None:
            source = "[%s] Hello {customer}, your order {order} is %s. Total {total}. Track at {url}" % (locale, name)
            tpl = self._compiled[key] = CompiledTemplate(name, locale, source)
        return tpl


STORE = TemplateStore()


def step(n):
    # traffic walks the catalogue in order, so every pair has been seen once by step 150
    pair = n % (len(TEMPLATES) * len(LOCALES))
    tpl = STORE.get(TEMPLATES[pair // len(LOCALES)], LOCALES[pair % len(LOCALES)])
    tpl.render(customer="c%d" % n, order="o%d" % n, total="%d.00" % (n % 300), url="https://t.example/%d" % n)


_harness.run(step, "p1_ok_template_warmup")
