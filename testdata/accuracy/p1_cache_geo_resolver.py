"""Request enrichment: resolves client IPs to a network/geo record for the access log."""
# truth: kind=cache_no_eviction
# truth: type=__main__.GeoRecord
# truth: retainer=resolve (functools._lru_cache_wrapper)
import dataclasses
import functools
import ipaddress
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


@dataclasses.dataclass(frozen=True)
class GeoRecord:
    ip: str
    network: str
    country: str
    asn: int
    hops: tuple


class GeoResolver:
    """Wraps a prefix table; lookups are memoised because the table walk is slow."""

    def __init__(self, prefixes):
        self._prefixes = [(ipaddress.ip_network(p), cc, asn) for p, cc, asn in prefixes]

    @functools.lru_cache(maxsize=None)
    def resolve(self, ip):
        addr = ipaddress.ip_address(ip)
        for net, cc, asn in self._prefixes:
            if addr in net:
                hops = tuple("%s-edge-%02d.as%d.net" % (cc.lower(), i, asn) for i in range(6))  # <- alloc
                return GeoRecord(ip, str(net), cc, asn, hops)
        return GeoRecord(ip, "0.0.0.0/0", "ZZ", 0, ())


class AccessLogEnricher:
    def __init__(self, resolver):
        self.resolver = resolver

    def enrich(self, entry):
        geo = self.resolver.resolve(entry["remote_addr"])
        entry["country"], entry["asn"] = geo.country, geo.asn
        return entry


RESOLVER = GeoResolver([("10.0.0.0/10", "DE", 64512), ("10.64.0.0/10", "FR", 64513), ("10.128.0.0/9", "US", 64514)])
ENRICHER = AccessLogEnricher(RESOLVER)


def step(n):
    remote = "10.%d.%d.%d" % ((n * 37) % 256, (n // 256) % 256, n % 256)
    ENRICHER.enrich({"remote_addr": remote, "path": "/checkout", "status": 200})


_harness.run(step, "p1_cache_geo_resolver")
