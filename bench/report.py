"""Results as Markdown tables (one per size: the hub, each peer, the ratio) and as JSON for tracking.

Owns: the ratio convention (how many times better the hub is: peer/hub for latencies and memory, hub/peer for
rates, so > 1 always favours the hub), the table layout, and the check of issue #7's targets.
"""

from __future__ import annotations

import math
from typing import Any

HUB = "taxii-hub"


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def advantage(hub: dict[str, Any] | None, peer: dict[str, Any] | None) -> float | None:
    """How many times better the hub is on this metric (> 1 favours the hub)."""
    if not hub or not peer or hub.get("value") is None or peer.get("value") is None:
        return None
    h, p = float(hub["value"]), float(peer["value"])
    if h <= 0 or p <= 0:
        return None
    return h / p if hub["better"] == "higher" else p / h


def _cell(metric: dict[str, Any] | None, skipped: bool = False) -> str:
    if metric is None:
        return "see 'not measured'" if skipped else "not run"
    if metric.get("error"):
        return "FAILED: " + str(metric["error"]).replace("|", "/").replace("\n", " ")[:140]
    return _fmt(metric["value"])


def size_table(label: str, size: dict[str, Any]) -> str:
    servers = list(size["servers"])
    peers = [s for s in servers if s != HUB]
    names: list[str] = []
    for server in servers:
        for name in size["servers"][server]["metrics"]:
            if name not in names:
                names.append(name)
    header = ["workload", "unit", *servers, *[f"hub vs {p}" for p in peers]]
    lines = [f"### {label} objects", "", "| " + " | ".join(header) + " |",
             "|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|"]
    for name in names:
        metrics = {s: size["servers"][s]["metrics"].get(name) for s in servers}
        unit = next((m["unit"] for m in metrics.values() if m), "")
        ratios = []
        for peer in peers:
            ratio = advantage(metrics.get(HUB), metrics.get(peer))
            ratios.append(f"{_fmt(ratio)}×" if ratio is not None else "—")
        cells = [_cell(metrics[s], "not measured" in size["servers"][s]["metrics"]) for s in servers]
        lines.append("| " + " | ".join([name, unit, *cells, *ratios]) + " |")
    lines.append("")
    for server in servers:
        info = size["servers"][server]
        lines.append(f"- {server}: loaded in {info['load_seconds']:.1f} s ({info['load_method']}); "
                     + "; ".join(info["notes"]))
    return "\n".join(lines) + "\n"


def _value(size: dict[str, Any], server: str, name: str) -> float | None:
    metric = size["servers"].get(server, {}).get("metrics", {}).get(name)
    return None if not metric or metric.get("value") is None else float(metric["value"])


def targets(results: dict[str, Any]) -> str:
    """Issue #7's targets, each as measured, per size."""
    lines = ["| size | target | measured | met |", "|---|---|---:|---|"]

    def row(label: str, what: str, measured: float | None, ok: bool | None, unit: str = "") -> None:
        shown = "—" if measured is None else f"{_fmt(measured)}{unit}"
        lines.append(f"| {label} | {what} | {shown} | {'—' if ok is None else ('yes' if ok else 'NO')} |")

    def ratio(size: dict[str, Any], name: str, peer: str) -> float | None:
        h, p = _value(size, HUB, name), _value(size, peer, name)
        return h / p if h and p else None

    for label, size in results["sizes"].items():

        one = "first page limit=100, 1 client: req/s"
        eight = "first page limit=100, 8 clients: req/s"
        r1, r8 = ratio(size, one, "opentaxii"), ratio(size, eight, "opentaxii")
        row(label, "first page, 1 client ≥ 4× OpenTAXII", r1, None if r1 is None else r1 >= 4, "×")
        row(label, "first page, 8 clients ≥ 5× OpenTAXII", r8, None if r8 is None else r8 >= 5, "×")
        p99 = _value(size, HUB, "first page limit=100, 8 clients: p99")
        row(label, "p99 < 25 ms with 8 clients", p99, None if p99 is None else p99 < 25, " ms")
        rm = ratio(size, one, "medallion")
        row(label, "medallion orders of magnitude behind (1 client)", rm, None if rm is None else rm >= 100, "×")
        basic = _value(size, HUB, "auth Basic, first page limit=100, 1 client: req/s")
        bearer = _value(size, HUB, "auth Bearer, first page limit=100, 1 client: req/s")
        auth = bearer / basic if basic and bearer else None
        row(label, "Basic (API key) within 1.2× of Bearer", auth, None if auth is None else auth <= 1.2, "×")
        depth = _value(size, HUB, "walk limit=1000: last/first")
        row(label, "walk: last 10% of pages ≤ 1.3× the first 10%", depth, None if depth is None else depth <= 1.3,
            "×")
        rate = _value(size, HUB, "ingest 1,000-object envelopes until complete")
        row(label, "ingest ≥ 10,000 objects/s", rate, None if rate is None else rate >= 10_000)
        ri = ratio(size, "ingest 1,000-object envelopes until complete", "opentaxii")
        row(label, "ingest ≥ 15× OpenTAXII", ri, None if ri is None else ri >= 15, "×")
    rss = [(label, _value(size, HUB, "peak RSS, largest worker")) for label, size in results["sizes"].items()]
    lines.append(f"| all | RSS flat as the collection grows (largest hub worker, MiB) | "
                 f"{', '.join(f'{lbl}: {_fmt(v)}' for lbl, v in rss)} | see figures |")
    return "\n".join(lines) + "\n"


def markdown(results: dict[str, Any]) -> str:
    parts = [f"Run {results['date']}: {results['machine']}. {results['conditions']}", "",
             "Ratios are how many times better the hub is (rates: hub/peer; latencies, times and memory: "
             "peer/hub).", ""]
    parts += [size_table(label, size) for label, size in results["sizes"].items()]
    parts += ["### Targets of issue #7", "", targets(results)]
    if results.get("conversion"):
        c = results["conversion"]
        parts += ["### Conversion (converters, generated incident records)", "",
                  f"{c['records']} records, {c['indicators']} indicators: hub path {_fmt(c['records_per_s'])} "
                  f"records/s, {_fmt(c['indicators_per_s'])} indicators/s; stix2 library on {c['stix2_records']} "
                  f"records {_fmt(c['stix2_records_per_s'])} records/s; ratio {_fmt(c['ratio'])}×.", ""]
    return "\n".join(parts)
