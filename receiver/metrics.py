"""Response times and error rates: measured per request in memory, written per interval.

The old service wrote `api_response_time` to `dashboard_metrics`. A row per request would double the
hub's write load at 1,000 webhooks a second, so requests are aggregated per route (the route template,
e.g. `/api/webhooks/stripe`) for `metrics_interval_s` (default 60 s); at the end of each interval the
receiver writes, per route that saw traffic, four rows with the same timestamp and tags
`{route, interval_s, requests}`:

- `api_response_time` (ms, the mean; tags add `p50`, `p95`, `p99`, `max`),
- `api_response_time_p99` (ms),
- `api_requests` (count),
- `api_error_rate` (fraction of responses with status >= 400; tags add `errors_4xx`, `errors_5xx`).

Percentiles come from a fixed-size sample per interval (reservoir sampling), so memory stays bounded
under any load. Totals since start (and latency histogram buckets) are kept too, for
`GET /api/integrations/metrics` and its Prometheus form.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BUCKETS_MS", "Metrics", "MetricsMiddleware"]

BUCKETS_MS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
SAMPLE = 2048


@dataclass
class _Window:
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    sample: list[float] = field(default_factory=list)

    def add(self, ms: float, status: int, rng: random.Random) -> None:
        self.requests += 1
        self.total_ms += ms
        self.max_ms = max(self.max_ms, ms)
        if 400 <= status < 500:
            self.errors_4xx += 1
        elif status >= 500:
            self.errors_5xx += 1
        if len(self.sample) < SAMPLE:
            self.sample.append(ms)
        else:
            j = rng.randrange(self.requests)
            if j < SAMPLE:
                self.sample[j] = ms


@dataclass
class _Totals:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    sum_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS_MS))


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest-rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Metrics:
    """Per-route aggregates of the current interval, and totals since start."""

    def __init__(self, interval_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._rng = random.Random(0)
        self.window: dict[str, _Window] = defaultdict(_Window)
        self.totals: dict[str, _Totals] = defaultdict(_Totals)
        self.window_started = clock()
        self.started = time.time()

    def observe(self, route: str, status: int, ms: float) -> None:
        self.window[route].add(ms, status, self._rng)
        t = self.totals[route]
        t.requests += 1
        t.by_status[status] += 1
        t.sum_ms += ms
        for i, bound in enumerate(BUCKETS_MS):
            if ms <= bound:
                t.buckets[i] += 1

    def due(self) -> bool:
        return self._clock() - self.window_started >= self.interval_s

    def flush(self) -> list[dict[str, Any]]:
        """The interval's `dashboard_metrics` rows; starts a new interval."""
        window, self.window = self.window, defaultdict(_Window)
        elapsed = self._clock() - self.window_started
        self.window_started = self._clock()
        rows: list[dict[str, Any]] = []
        for route, w in sorted(window.items()):
            if not w.requests:
                continue
            tags = {"route": route, "interval_s": round(elapsed, 1), "requests": w.requests}
            p50, p95, p99 = (percentile(w.sample, q) for q in (0.5, 0.95, 0.99))
            rows += [
                _row(
                    "api_response_time",
                    w.total_ms / w.requests,
                    "ms",
                    tags
                    | {
                        "p50": round(p50, 2),
                        "p95": round(p95, 2),
                        "p99": round(p99, 2),
                        "max": round(w.max_ms, 2),
                    },
                ),
                _row("api_response_time_p99", p99, "ms", tags),
                _row("api_requests", w.requests, "requests", tags),
                _row(
                    "api_error_rate",
                    (w.errors_4xx + w.errors_5xx) / w.requests,
                    "ratio",
                    tags | {"errors_4xx": w.errors_4xx, "errors_5xx": w.errors_5xx},
                ),
            ]
        return rows

    def snapshot(self) -> dict[str, Any]:
        """Totals since start and the current interval, per route (for the metrics endpoint)."""
        routes: dict[str, Any] = {}
        for route, t in sorted(self.totals.items()):
            w = self.window.get(route)
            errors = sum(n for s, n in t.by_status.items() if s >= 400)
            routes[route] = {
                "requests": t.requests,
                "errors": errors,
                "errorRate": round(errors / t.requests, 4) if t.requests else 0.0,
                "avgResponseTimeMs": round(t.sum_ms / t.requests, 2) if t.requests else 0.0,
                "byStatus": {str(s): n for s, n in sorted(t.by_status.items())},
                "currentInterval": None
                if w is None or not w.requests
                else {
                    "requests": w.requests,
                    "p50Ms": round(percentile(w.sample, 0.5), 2),
                    "p99Ms": round(percentile(w.sample, 0.99), 2),
                },
            }
        return {"uptimeSeconds": round(time.time() - self.started, 1), "routes": routes}

    def prometheus(self, extra: dict[str, Any]) -> str:
        """The totals in Prometheus text exposition format (version 0.0.4)."""
        lines = [
            "# HELP nxt_receiver_requests_total Requests answered, by route and status.",
            "# TYPE nxt_receiver_requests_total counter",
        ]
        for route, t in sorted(self.totals.items()):
            for s, n in sorted(t.by_status.items()):
                lines.append(f'nxt_receiver_requests_total{{route="{_esc(route)}",status="{s}"}} {n}')
        lines += [
            "# HELP nxt_receiver_request_duration_seconds Time to answer a request.",
            "# TYPE nxt_receiver_request_duration_seconds histogram",
        ]
        for route, t in sorted(self.totals.items()):
            label = f'route="{_esc(route)}"'
            for bound, n in zip(BUCKETS_MS, t.buckets, strict=True):
                lines.append(
                    f'nxt_receiver_request_duration_seconds_bucket{{{label},le="{bound / 1000:g}"}} {n}'
                )
            lines.append(f'nxt_receiver_request_duration_seconds_bucket{{{label},le="+Inf"}} {t.requests}')
            lines.append(f"nxt_receiver_request_duration_seconds_sum{{{label}}} {t.sum_ms / 1000:.6f}")
            lines.append(f"nxt_receiver_request_duration_seconds_count{{{label}}} {t.requests}")
        inbox = extra.get("inbox") or {}
        lines += [
            "# HELP nxt_receiver_inbox_events Inbox rows by status.",
            "# TYPE nxt_receiver_inbox_events gauge",
        ]
        lines += [f'nxt_receiver_inbox_events{{status="{s}"}} {n}' for s, n in sorted(inbox.items())]
        dispatcher = extra.get("dispatcher") or {}
        for name in ("dispatched", "failed", "retried"):
            if name in dispatcher:
                lines += [
                    f"# TYPE nxt_receiver_events_{name}_total counter",
                    f"nxt_receiver_events_{name}_total {dispatcher[name]}",
                ]
        uptime = time.time() - self.started
        lines += ["# TYPE nxt_receiver_uptime_seconds gauge", f"nxt_receiver_uptime_seconds {uptime:.1f}"]
        return "\n".join(lines) + "\n"


def _row(name: str, value: float, unit: str, tags: dict[str, Any]) -> dict[str, Any]:
    return {"metric_name": name, "metric_value": float(value), "unit": unit, "tags": tags}


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class MetricsMiddleware:
    """Pure ASGI middleware: times every HTTP request and reports (route template, status, ms)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "(unmatched)"
            self.metrics.observe(label, code, (time.perf_counter() - started) * 1000)
