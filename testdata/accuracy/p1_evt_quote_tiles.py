"""Trading dashboard: each rendered page builds quote tiles that follow the market feed."""
# truth: kind=event_handler
# truth: type=__main__.QuoteTile
# truth: retainer=_handlers (dict)
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class MarketDataFeed:
    def __init__(self, venue):
        self.venue = venue
        self._handlers = {}
        self.last = {}

    def subscribe(self, symbol, handler):
        self._handlers.setdefault(symbol, set()).add(handler)

    def unsubscribe(self, symbol, handler):
        self._handlers.get(symbol, set()).discard(handler)

    def publish(self, symbol, price):
        self.last[symbol] = price
        for handler in list(self._handlers.get(symbol, ())):
            handler(symbol, price)


class Tile:
    def __init__(self, page, title):
        self.page = page
        self.title = title


class QuoteTile(Tile):
    def __init__(self, page, symbol, feed):
        super().__init__(page, "%s / USD" % symbol)
        self.symbol = symbol
        self.ticks = 0
        self.sparkline = [feed.last.get(symbol, 0.0)] * 48  # <- alloc
        feed.subscribe(symbol, self.on_price_tick)

    def on_price_tick(self, symbol, price):
        self.ticks += 1
        self.sparkline[self.ticks % len(self.sparkline)] = price


class DashboardPage:
    WATCHLIST = ("BTC", "ETH", "SOL")

    def __init__(self, user, feed):
        self.user = user
        self.tiles = [QuoteTile(self, s, feed) for s in self.WATCHLIST]

    def render(self):
        return "".join("<div>%s %.2f</div>" % (t.title, t.sparkline[-1]) for t in self.tiles)


FEED = MarketDataFeed("binance-like")


def step(n):
    FEED.publish(DashboardPage.WATCHLIST[n % 3], 100.0 + (n % 50) * 0.25)
    DashboardPage("user-%d" % (n % 40), FEED).render()


_harness.run(step, "p1_evt_quote_tiles")
