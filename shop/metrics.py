"""This process's metrics in Prometheus' text format (`GET /metrics`, admins only).

Each process counts only what it did itself: scrape every process, not the balancer.
One registry per app (never the library's global one), so several apps in one process
(the tests) do not share counts. Requests and store operations, the hot path, are
counted in plain lists that Prometheus reads when it scrapes (under a microsecond each);
the rest uses the library's metrics.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shop.store.base import StoreError, StoreUnavailable

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Anything else a client may invent is one label value, so nobody can grow the series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

type Timed = Callable[..., Awaitable[Any]]


def _new_series() -> list[float]:
    # [count, seconds, per-bucket counts (the last one for +Inf)]
    return [0.0] * (len(LATENCY_BUCKETS) + 3)


def _observe(series: list[float], seconds: float) -> None:
    series[0] += 1
    series[1] += seconds
    series[2 + bisect_left(LATENCY_BUCKETS, seconds)] += 1  # first bucket with le >= seconds


def _add_histogram(family: HistogramMetricFamily, labels: list[str], series: list[float]) -> None:
    _, seconds, *buckets = series
    bounds = [*(f"{bound:g}" for bound in LATENCY_BUCKETS), "+Inf"]
    cumulative, running = [], 0.0
    for bound, count in zip(bounds, buckets, strict=True):
        running += count
        cumulative.append((bound, running))
    family.add_metric(labels, cumulative, seconds)


class Requests:
    """Answered requests by (method, route, status): a count, a sum of seconds and a count
    per latency bucket, in plain lists. The event loop is their only writer, so they need
    no lock (the library's metrics take one per increment); `collect` turns them into the
    Prometheus families at scrape time."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, key: tuple[str, str, int], seconds: float) -> None:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _new_series()
        _observe(series, seconds)

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "shop_http_requests",
            "Answered requests, by route template and status",
            labels=["method", "route", "status"],
        )
        latencies: dict[tuple[str, str], list[float]] = {}
        for (method, route, status), series in self._series.items():
            requests.add_metric([method, route, str(status)], series[0])
            merged = latencies.setdefault((method, route), [0.0] * len(series))
            for index, value in enumerate(series):
                merged[index] += value
        durations = HistogramMetricFamily(
            "shop_http_request_duration_seconds",
            "Time from receiving a request to its answer, by route template",
            labels=["method", "route"],
        )
        for labels, series in latencies.items():
            _add_histogram(durations, list(labels), series)
        yield requests
        yield durations


class StoreOperations:
    """Store operations by name (`carts.add`): their seconds, kept as Requests keeps them,
    and how many failed. Most requests make one or more; the event loop is the only writer
    here too, so no locks. Each operation's series exists from the start (a scrape lists
    it at 0)."""

    def __init__(self) -> None:
        self._seconds: dict[str, list[float]] = {}
        self._errors: dict[str, list[int]] = {}

    def series(self, operation: str) -> tuple[list[float], list[int]]:
        """The (seconds, [errors]) lists to record `operation` in."""
        seconds = self._seconds.setdefault(operation, _new_series())
        errors = self._errors.setdefault(operation, [0])
        return seconds, errors

    def collect(self) -> Iterator[Metric]:
        durations = HistogramMetricFamily(
            "shop_store_operation_duration_seconds",
            "Time spent in one store operation, by aggregate.method",
            labels=["operation"],
        )
        for operation, series in self._seconds.items():
            _add_histogram(durations, [operation], series)
        errors = CounterMetricFamily(
            "shop_store_errors",
            "Store operations that failed (database unavailable or an unexpected error)",
            labels=["operation"],
        )
        for operation, (count,) in self._errors.items():
            errors.add_metric([operation], count)
        yield durations
        yield errors


class Metrics:
    """The counters, gauges and histograms of one app, and the calls that record them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Requests()
        registry.register(self._requests)
        self.websockets = Gauge(
            "shop_websockets_open", "Websockets open on this process", registry=registry
        )
        self._published = Counter(
            "shop_events_published",
            "Live events this process announced, by topic (products, user, orders, session)",
            ["topic"],
            registry=registry,
        )
        self._delivered = Counter(
            "shop_events_delivered",
            "Event messages queued to this process's websockets, by topic",
            ["topic"],
            registry=registry,
        )
        self._dropped = Counter(
            "shop_events_dropped",
            "Events not passed on: to other processes while Redis is unavailable (bus),"
            " or to a websocket that fell too far behind (slow)",
            ["reason"],
            registry=registry,
        )
        self._store = StoreOperations()
        registry.register(self._store)
        self._orders = Counter("shop_orders_placed", "Orders placed", registry=registry)

    # -- requests --------------------------------------------------------------------------
    def observe_request(self, request: web.Request, status: int, seconds: float) -> None:
        method = request.method if request.method in METHODS else "other"
        self._requests.observe((method, _route_label(request), status), seconds)

    # -- events ----------------------------------------------------------------------------
    def event_published(self, topic: str) -> None:
        self._published.labels(topic).inc()

    def events_delivered(self, topic: str, sockets: int) -> None:
        self._delivered.labels(topic).inc(sockets)

    def events_dropped(self, reason: str, count: int = 1) -> None:
        self._dropped.labels(reason).inc(count)

    # -- store -----------------------------------------------------------------------------
    def timed(self, operation: str, method: Timed) -> Timed:
        """`method` timed as `operation`; a refusal (a StoreError such as MissingCart) is an
        answer, an unavailable database or an unexpected exception is an error."""
        seconds, errors = self._store.series(operation)

        async def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            except StoreUnavailable:
                errors[0] += 1
                raise
            except StoreError:
                raise
            except Exception:
                errors[0] += 1
                raise
            finally:
                _observe(seconds, time.perf_counter() - started)

        return call

    # -- orders ----------------------------------------------------------------------------
    def order_placed(self) -> None:
        """Count one placed order; the order service calls it once the order is stored."""
        self._orders.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _route_label(request: web.Request) -> str:
    """The route's template (`/api/products/{pid}`), so ids do not become label values."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical
