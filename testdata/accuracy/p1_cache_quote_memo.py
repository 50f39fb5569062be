"""Order gateway that prices market orders by walking a simulated order book."""
# truth: kind=cache_no_eviction
# truth: type=__main__.Quote
# truth: retainer=_quote_memo (dict)
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Quote:
    __slots__ = ("symbol", "quantity", "side", "avg_price", "fills")

    def __init__(self, symbol, quantity, side, avg_price, fills):
        self.symbol = symbol
        self.quantity = quantity
        self.side = side
        self.avg_price = avg_price
        self.fills = fills


class OrderBook:
    def __init__(self, symbol, mid, depth=40):
        self.symbol = symbol
        self.asks = [(round(mid + 0.01 * (i + 1), 2), 50 + 10 * i) for i in range(depth)]
        self.bids = [(round(mid - 0.01 * (i + 1), 2), 50 + 10 * i) for i in range(depth)]

    def walk(self, quantity, side):
        fills, left = [], quantity
        for price, size in (self.asks if side == "buy" else self.bids):
            take = min(left, size)
            fills.append((price, take, price * take))  # <- alloc
            left -= take
            if not left:
                break
        return fills


BOOKS = {s: OrderBook(s, mid) for s, mid in (("ACME", 101.5), ("GLOBEX", 43.2), ("INITECH", 12.75))}
_quote_memo = {}


def quote_for(symbol, quantity, side):
    key = (symbol, quantity, side)
    hit = _quote_memo.get(key)
    if hit is not None:
        return hit
    fills = BOOKS[symbol].walk(quantity, side)
    avg = sum(notional for _, _, notional in fills) / quantity
    quote = _quote_memo[key] = Quote(symbol, quantity, side, avg, fills)
    return quote


class PricingEngine:
    def __init__(self, fee_bps):
        self.fee_bps = fee_bps

    def price_order(self, order):
        q = quote_for(order["symbol"], order["qty"], order["side"])
        return q.avg_price * order["qty"] * (1 + self.fee_bps / 10_000)


class OrderGateway:
    def __init__(self, engine):
        self.engine = engine
        self.accepted = 0

    def submit(self, order):
        total = self.engine.price_order(order)
        self.accepted += 1
        return {"id": order["id"], "total": round(total, 2)}


GATEWAY = OrderGateway(PricingEngine(fee_bps=3))


def step(n):
    symbol = ("ACME", "GLOBEX", "INITECH")[n % 3]
    GATEWAY.submit({"id": n, "symbol": symbol, "qty": 200 + n, "side": ("buy", "sell")[n % 2]})


_harness.run(step, "p1_cache_quote_memo")
