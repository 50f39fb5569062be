"""Shipping-quote service on Flask with a bounded memo cache.

No leak: quotes are memoised with functools.lru_cache(maxsize=256); every
request asks for a new (origin, destination, weight) key, so the cache
fills up and then evicts its least recently used entry on every miss.

    python flask_lru.py PORT
"""
import functools
import hashlib
import logging
import sys

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log

ZONES = {"A": 1.0, "B": 1.35, "C": 1.8, "D": 2.4}


class Quote:
    def __init__(self, origin, destination, grams, zone, price, carrier_ref):
        self.origin = origin
        self.destination = destination
        self.grams = grams
        self.zone = zone
        self.price = price
        self.carrier_ref = carrier_ref
        self.breakdown = [
            ("base", round(price * 0.6, 2)),
            ("fuel", round(price * 0.25, 2)),
            ("handling", round(price * 0.15, 2)),
        ]

    def to_json(self):
        return {
            "origin": self.origin,
            "destination": self.destination,
            "grams": self.grams,
            "zone": self.zone,
            "price": self.price,
            "carrier_ref": self.carrier_ref,
            "breakdown": dict(self.breakdown),
        }


def _zone(origin, destination):
    digest = hashlib.sha256(f"{origin}->{destination}".encode()).digest()
    return "ABCD"[digest[0] % 4]


@functools.lru_cache(maxsize=256)
def quote(origin, destination, grams):
    zone = _zone(origin, destination)
    price = round((4.5 + grams / 1000 * 2.2) * ZONES[zone], 2)
    ref = hashlib.md5(f"{origin}{destination}{grams}".encode()).hexdigest()
    return Quote(origin, destination, grams, zone, price, ref * 4)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/quote")
def get_quote():
    origin = request.args.get("from", "")
    destination = request.args.get("to", "")
    try:
        grams = int(request.args.get("grams", ""))
    except ValueError:
        abort(400)
    if not origin or not destination or grams <= 0:
        abort(400)
    return jsonify(quote(origin, destination, grams).to_json())


@app.get("/cache")
def cache_info():
    info = quote.cache_info()
    return jsonify(hits=info.hits, misses=info.misses, size=info.currsize,
                   maxsize=info.maxsize)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
