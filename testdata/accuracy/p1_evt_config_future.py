"""Replica clients wait for the cluster topology, which a background loader publishes."""
# truth: kind=event_handler
# truth: type=__main__.ReplicaClient
# truth: retainer=_done_callbacks (list)
import concurrent.futures
import threading
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class TopologyService:
    """Publishes the topology once the seed nodes answer; until then callers get a default."""

    def __init__(self, seeds):
        self.seeds = seeds
        self._ready = concurrent.futures.Future()
        self._lock = threading.Lock()
        self.default = {"primary": seeds[0], "replicas": list(seeds[1:])}

    def when_ready(self, callback):
        self._ready.add_done_callback(callback)

    def current(self):
        return self._ready.result() if self._ready.done() else self.default


TOPOLOGY = TopologyService(["db-1:5432", "db-2:5432", "db-3:5432"])


class ReplicaClient:
    def __init__(self, tenant, topology):
        self.tenant = tenant
        self.topology = topology
        self.routes = {node: ["%s/%s/shard-%02d" % (node, tenant, s) for s in range(8)] for node in topology.current()["replicas"]}  # <- alloc
        topology.when_ready(self._on_topology)

    def _on_topology(self, future):
        self.routes = {}

    def read(self, key):
        shards = next(iter(self.routes.values()))
        return shards[sum(map(ord, key)) % len(shards)]


class ReportJob:
    def __init__(self, tenant):
        self.tenant = tenant

    def run(self):
        client = ReplicaClient(self.tenant, TOPOLOGY)
        return [client.read("invoice:%d" % i) for i in range(3)]


def step(n):
    ReportJob("tenant-%05d" % n).run()


_harness.run(step, "p1_evt_config_future")
