"""Quote engine for the storefront pricing API."""
import hashlib
import math


class Database:
    """Stand-in for the catalogue database."""

    def __init__(self):
        self.base_prices = {f"sku-{i}": 5.0 + (i % 17) * 1.25 for i in range(200)}
        self.queries = 0

    def base_price(self, sku):
        self.queries += 1
        return self.base_prices.get(sku, 9.99)


class Repository:
    def __init__(self, db):
        self.db = db
        self._cache = {}

    def stats(self):
        return {"entries": len(self._cache), "queries": self.db.queries}


class QuoteRepository(Repository):
    region_factors = {"eu": 1.2, "us": 1.0, "apac": 1.1}

    def quote(self, sku, quantity, region):
        key = (sku, quantity, region)
        if key not in self._cache:
            self._cache[key] = self._compute(sku, quantity, region)  # expect: cache_no_eviction
        return self._cache[key]

    def _compute(self, sku, quantity, region):
        unit = self.db.base_price(sku) * self.region_factors.get(region, 1.0)
        discount = 1.0 - min(0.3, math.log1p(quantity) / 20.0)
        total = round(unit * quantity * discount, 2)
        digest = hashlib.sha256(f"{sku}:{quantity}:{region}".encode()).hexdigest()
        return {"sku": sku, "quantity": quantity, "total": total, "ref": digest}


class PricingService:
    def __init__(self, repo=None):
        self.repo = repo or QuoteRepository(Database())

    def price_order(self, lines, region):
        quotes = [self._price_line(line, region) for line in lines]
        return {
            "region": region,
            "lines": quotes,
            "total": round(sum(q["total"] for q in quotes), 2),
        }

    def _price_line(self, line, region):
        sku, quantity = line
        return self.repo.quote(sku, quantity, region)


SERVICE = PricingService()


def parse_order(n):
    regions = ("eu", "us", "apac")
    lines = [(f"sku-{(n * 7 + i) % 200}", n + i + 1) for i in range(3)]
    return lines, regions[n % 3]


def handle_request(n):
    lines, region = parse_order(n)
    order = SERVICE.price_order(lines, region)
    if n % 250 == 0:
        order["cache"] = SERVICE.repo.stats()
    return order


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
