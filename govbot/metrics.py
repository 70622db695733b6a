"""What an operator watches: Prometheus instruments, process-wide, importable from every layer.

Counters and gauges are in-memory numbers (prometheus-client), not I/O, so
this module sits beside the layers rather than in one: the receiver, the
inbox queries, the worker, the forges and the clock each count what they
own, and ``/metrics`` exposes the lot. It imports nothing of govbot (the
layer test allows it everywhere for that reason). Values that live in the
database (inbox depth and age) are read when scraped, through the collector
the web app registers (:func:`inbox_collector`).

Reconciliation (a sweep of the forge for events missed while govbot was
down) sets its lag with :func:`set_reconciliation_lag`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

DELIVERIES_RECEIVED = Counter(
    "govbot_deliveries_received",
    "Webhook deliveries received, by source and answer status",
    ["source", "status"],
    registry=REGISTRY,
)
DELIVERIES_STORED = Counter(
    "govbot_deliveries_stored",
    "Deliveries stored in the inbox (redeliveries not counted)",
    ["source"],
    registry=REGISTRY,
)
DELIVERIES_PROCESSED = Counter(
    "govbot_deliveries_processed",
    "Deliveries a worker finished, by outcome (done, ignored, queued for retry, parked)",
    ["outcome"],
    registry=REGISTRY,
)
DELIVERIES_PARKED = Counter(
    "govbot_deliveries_parked",
    "Deliveries parked after failing (govbot deliveries --status parked)",
    registry=REGISTRY,
)
WORKER_SECONDS = Histogram(
    "govbot_worker_delivery_seconds",
    "Time a worker spent on one delivery, claim to finish",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
FORGE_CALLS = Counter(
    "govbot_forge_calls",
    "Calls to a forge's API, by forge and result (ok, error)",
    ["forge", "result"],
    registry=REGISTRY,
)
FORGE_RATE_LIMIT_REMAINING = Gauge(
    "govbot_forge_rate_limit_remaining",
    "Requests left in the forge's current rate-limit window, as its last answer said",
    ["forge"],
    registry=REGISTRY,
)
RECONCILIATION_LAG = Gauge(
    "govbot_reconciliation_lag_seconds",
    "How far behind now the last completed reconciliation sweep reached, per forge",
    ["forge"],
    registry=REGISTRY,
)
VOTES_TALLIED = Counter(
    "govbot_votes_tallied",
    "Vote results written, by state (pending, passed, failed, blocked, held...)",
    ["state"],
    registry=REGISTRY,
)


def set_reconciliation_lag(forge: str, seconds: float) -> None:
    """For the reconciliation sweep: how old the newest event it has caught up to is."""
    RECONCILIATION_LAG.labels(forge=forge).set(max(0.0, seconds))


def forge_call(forge: str, ok: bool, remaining: int | None = None) -> None:
    """One API call to ``forge``; ``remaining``: the rate-limit count its answer carried."""
    FORGE_CALLS.labels(forge=forge, result="ok" if ok else "error").inc()
    if remaining is not None and remaining >= 0:
        FORGE_RATE_LIMIT_REMAINING.labels(forge=forge).set(remaining)


class _Inbox(Collector):
    """Inbox depth by status and the age of the oldest queued delivery, read at scrape time.

    A database that cannot answer gives no sample (the scrape still succeeds, and
    ``/readyz`` says why), never an error page for the whole exposition.
    """

    def __init__(self, read: Callable[[], tuple[dict[str, int], datetime | None, datetime]]):
        self.read = read

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "govbot_inbox_deliveries", "Deliveries in the inbox, by status", labels=["status"]
        )
        age = GaugeMetricFamily(
            "govbot_inbox_oldest_queued_seconds",
            "Age of the oldest delivery waiting for a worker (0: none waiting)",
        )
        return depth, age

    def describe(self) -> Iterator[GaugeMetricFamily]:  # registering reads no database
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth, age = self._families()
        try:
            counts, oldest, now = self.read()
        except Exception:
            return
        for status, n in sorted(counts.items()):
            depth.add_metric([status], n)
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield depth
        yield age


_collectors: dict[str, Collector] = {}


def inbox_collector(read: Callable[[], tuple[dict[str, int], datetime | None, datetime]]) -> None:
    """Register (or replace) the collector that reads the inbox when /metrics is scraped."""
    old = _collectors.pop("inbox", None)
    if old is not None:
        REGISTRY.unregister(old)
    collector = _Inbox(read)
    REGISTRY.register(collector)
    _collectors["inbox"] = collector


def exposition() -> bytes:
    """Every instrument in Prometheus's text format."""
    return generate_latest(REGISTRY)
