"""The workloads of issue #7, run against one started `Target`, each as the median of several runs.

Owns: what is measured and how it is named: (a) first page limit=100 with 1 and 8 clients, (b) the `next`
walk at limit=1000 with page times at its start and end, (c) `match[id]` of one object and
`match[type]=indicator&added_after=<recent>` (limit=100), (d) POST ingest of 1,000-object envelopes until
the status is complete, (e) each authorisation scheme the server offers, (f) peak RSS of every server process.
A workload the server fails (HTTP error, time-out, crash) is recorded with the reason instead of a figure.

Must not: run a request loop without a bound, or hide a failure as a missing row.
"""

from __future__ import annotations

import http.client
import json
import statistics
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import load
from .target import Target

HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True)
class Params:
    runs: int
    duration_s: float  # per measured run of a rate workload
    warmup_s: float
    timeout_s: float  # per request
    ingest_envelopes: int  # per ingest run
    probe_timeout_s: float = 30.0  # the first request; a server slower than this is reported, not measured
    max_requests: int = 200_000


@dataclass
class Metric:
    unit: str
    better: str
    value: float | None = None
    runs: list[float] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "better": self.better, "value": self.value, "runs": self.runs,
                "error": self.error}


Metrics = dict[str, Metric]


def _median_of(metrics: Metrics, names_units: Sequence[tuple[str, str, str]],
               runs: list[dict[str, float]]) -> None:
    for name, unit, better in names_units:
        values = [r[name] for r in runs]
        metrics[name] = Metric(unit, better, statistics.median(values), values)


def _fail(metrics: Metrics, names_units: Sequence[tuple[str, str, str]], reason: str) -> None:
    for name, unit, better in names_units:
        metrics[name] = Metric(unit, better, error=reason)


def _rate_rows(prefix: str) -> list[tuple[str, str, str]]:
    return [(f"{prefix}: req/s", "req/s", HIGHER), (f"{prefix}: p50", "ms", LOWER), (f"{prefix}: p99", "ms", LOWER)]


def _rates(target: Target, path: str, clients: int, p: Params, runs: int, scheme: str | None = None
           ) -> list[dict[str, float]]:
    """Warm up, then `runs` measured runs; raises ServerFailed when any request failed."""
    headers = target.headers(scheme)
    load.hammer(target.port, path, headers, clients, p.warmup_s, p.max_requests, p.timeout_s)
    out = []
    for _ in range(runs):
        result = load.hammer(target.port, path, headers, clients, p.duration_s, p.max_requests, p.timeout_s)
        if result.errors or not result.latencies_ms:
            raise load.ServerFailed(result.errors[0] if result.errors else "no request completed")
        out.append({"req/s": result.rps, "p50": result.p50_ms, "p99": result.p99_ms})
    return out


def _rate_workload(metrics: Metrics, prefix: str, run: Callable[[], list[dict[str, float]]]) -> None:
    rows = _rate_rows(prefix)
    try:
        runs = run()
    except load.ServerFailed as exc:
        _fail(metrics, rows, str(exc))
        return
    renamed = [{f"{prefix}: {k}": v for k, v in r.items()} for r in runs]
    _median_of(metrics, rows, renamed)


def first_page(target: Target, p: Params, metrics: Metrics, slow: bool) -> None:
    path = f"{target.read_path}?limit=100"
    _rate_workload(metrics, "first page limit=100, 1 client", lambda: _rates(target, path, 1, p, p.runs))
    # On a server that needs seconds per page, 8 clients x several runs would take minutes: one run.
    _rate_workload(metrics, "first page limit=100, 8 clients",
                   lambda: _rates(target, path, 8, p, 1 if slow else p.runs))


def walk(target: Target, p: Params, metrics: Metrics, count: int) -> list[str]:
    """Full walks; returns the X-TAXII-Date-Added-Last header of every page of the last walk."""
    rows = [("walk limit=1000: total", "s", LOWER), ("walk limit=1000: first 10% of pages", "ms/page", LOWER),
            ("walk limit=1000: last 10% of pages", "ms/page", LOWER),
            ("walk limit=1000: last/first", "ratio", LOWER), ("walk limit=1000: objects", "objects", HIGHER)]
    runs: list[dict[str, float]] = []
    added_last: list[str] = []
    try:
        for _ in range(p.runs):
            result = load.walk(target.port, target.read_path, target.headers(), 1000, p.timeout_s,
                               max_pages=count // 1000 + 10)
            added_last = result.added_last
            runs.append({rows[0][0]: result.seconds, rows[1][0]: result.first_ms(), rows[2][0]: result.last_ms(),
                         rows[3][0]: result.depth_ratio(), rows[4][0]: float(result.objects)})
    except load.ServerFailed as exc:
        _fail(metrics, rows, str(exc))
        return []
    _median_of(metrics, rows, runs)
    return added_last


def filters(target: Target, p: Params, metrics: Metrics, object_id: str, added_last: list[str]) -> None:
    by_id = f"{target.read_path}?{urllib.parse.urlencode({'match[id]': object_id})}"
    _rate_workload(metrics, "match[id] one object, 1 client", lambda: _rates(target, by_id, 1, p, p.runs))
    prefix = "match[type]=indicator&added_after=recent limit=100, 1 client"
    if not added_last:
        _fail(metrics, _rate_rows(prefix), "no X-TAXII-Date-Added-Last from the walk to take a recent date from")
        return
    recent = added_last[max(0, int(len(added_last) * 0.9) - 1)]  # about the newest 10 % of the collection
    query = urllib.parse.urlencode({"match[type]": "indicator", "added_after": recent, "limit": "100"})
    _rate_workload(metrics, prefix, lambda: _rates(target, f"{target.read_path}?{query}", 1, p, p.runs))


def ingest(target: Target, p: Params, metrics: Metrics, envelopes: Sequence[bytes]) -> None:
    name = "ingest 1,000-object envelopes until complete"
    rows = [(name, "objects/s", HIGHER)]
    headers = target.headers()
    runs: list[dict[str, float]] = []
    try:
        load.ingest(target.port, target.ingest_paths[0], target.status_prefix, headers, envelopes[:1],
                    p.timeout_s)  # warm-up, into its own collection
        for number in range(p.runs):
            result = load.ingest(target.port, target.ingest_paths[number + 1], target.status_prefix, headers,
                                 envelopes, p.timeout_s)
            if result.objects != 1000 * len(envelopes):
                raise load.ServerFailed(f"{result.objects} of {1000 * len(envelopes)} objects reported added")
            runs.append({name: result.objects_per_s})
    except load.ServerFailed as exc:
        _fail(metrics, rows, str(exc))
        return
    _median_of(metrics, rows, runs)


def auth(target: Target, p: Params, metrics: Metrics) -> None:
    """Basic and Bearer, each as the server offers it (what credential each carries is in the target's notes)."""
    path = f"{target.read_path}?limit=100"
    for scheme in ("Basic", "Bearer"):
        prefix = f"auth {scheme}, first page limit=100, 1 client"
        if scheme not in target.auth:
            _fail(metrics, _rate_rows(prefix), "not supported by this server")
            continue
        def measure(scheme: str = scheme) -> list[dict[str, float]]:
            return _rates(target, path, 1, p, p.runs, scheme)

        _rate_workload(metrics, prefix, measure)


def rss(target: Target, metrics: Metrics) -> None:
    peaks = target.server.peak_rss_kib()
    master = target.server.process.pid
    workers = [kib for pid, kib in peaks.items() if pid != master]
    metrics["peak RSS, largest worker"] = Metric("MiB", LOWER, max(workers, default=0) / 1024)
    metrics["peak RSS, all processes"] = Metric("MiB", LOWER, sum(peaks.values()) / 1024)


def probe(target: Target, timeout_s: float) -> float:
    """Seconds for one first page; raises ServerFailed if it takes longer than timeout_s."""
    conn = load.connect(target.port, timeout_s)
    try:
        reply = load.request(conn, "GET", f"{target.read_path}?limit=100", target.headers())
    except (OSError, http.client.HTTPException) as exc:
        raise load.ServerFailed(f"first page did not come back within {timeout_s:.0f} s ({type(exc).__name__})"
                                ) from exc
    finally:
        conn.close()
    if reply.status != 200:
        raise load.ServerFailed(f"first page: HTTP {reply.status}: {reply.body[:200]!r}")
    json.loads(reply.body)
    return reply.seconds


def run_all(target: Target, p: Params, count: int, object_id: str, envelopes: Sequence[bytes],
            probe_timeout_s: float) -> Metrics:
    metrics: Metrics = {}
    try:
        seconds = probe(target, probe_timeout_s)
    except load.ServerFailed as exc:
        metrics["not measured"] = Metric("", HIGHER, error=str(exc))
        rss(target, metrics)
        return metrics
    slow = seconds > 1.0
    first_page(target, p, metrics, slow)
    added_last = walk(target, p, metrics, count)
    filters(target, p, metrics, object_id, added_last)
    ingest(target, p, metrics, envelopes)
    auth(target, p, metrics)
    rss(target, metrics)
    if not target.server.alive():
        metrics["server exited"] = Metric("", HIGHER, error=f"the server died; log tail: {target.server.log_tail(5)}")
    return metrics
