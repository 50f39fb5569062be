"""Sales report generation with on-demand summaries for the UI."""
import random
import statistics
from dataclasses import dataclass


@dataclass
class Row:
    order_id: int
    region: str
    amount: float
    notes: str


class Warehouse:
    regions = ("north", "south", "east", "west")

    def __init__(self, seed=7):
        self._rng = random.Random(seed)

    def fetch_rows(self, report_id, size=500):
        rng = self._rng
        return [
            Row(report_id * size + i, self.regions[i % 4], rng.uniform(1, 500), "n" * 64)
            for i in range(size)
        ]


class ReportService:
    def __init__(self):
        self.warehouse = Warehouse()
        self._summaries = {}
        self.generated = 0

    def generate(self, report_id, title):
        rows = self.warehouse.fetch_rows(report_id)
        by_region = self._aggregate(rows)
        self._publish(report_id, title, rows)
        self.generated += 1
        return by_region

    def _aggregate(self, rows):
        totals = {}
        for row in rows:
            totals[row.region] = totals.get(row.region, 0.0) + row.amount
        return {region: round(total, 2) for region, total in totals.items()}

    def _publish(self, report_id, title, rows):
        def summary():
            amounts = [row.amount for row in rows]
            return (
                f"{title}: {len(rows)} rows, total {sum(amounts):.2f}, "
                f"median {statistics.median(amounts):.2f}"
            )

        self._summaries[report_id] = summary  # expect: closure_capture

    def summary(self, report_id):
        render = self._summaries.get(report_id)
        return render() if render is not None else None


SERVICE = ReportService()


def daily_report(n):
    title = f"Daily sales #{n}"
    return SERVICE.generate(n, title)


def handle_request(n):
    if n % 10 == 9:
        return SERVICE.summary(n - 1)
    return daily_report(n)


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
