"""The feeds for non-TAXII products under load: full lists, the 304 path, and peers on the same server.

    .venv/bin/python -m bench.feeds                       # 100,000 indicators, 5 s per workload
    .venv/bin/python -m bench.feeds --indicators 20000 --seconds 2   # quicker

Lays out a hub as bench/hub.py does (one organisation, plain HTTP on loopback, `taxii-hub serve` with 2 workers
x 2 threads), loads one collection directly through the store (after the service's validation) with
generated indicators — half domains, the rest IPv4, URL and SHA-256, 10 % linked to a campaign — and measures
with bench/load.py's client: the first (building) fetch of domain.txt and indicators.csv; then, 8 clients each,
full domain.txt and indicators.csv, plain and gzip (bodies streamed through a reused buffer, as a product
parsing a feed while it downloads it; one indicators.csv run keeps each body in memory instead), domain.txt with
If-None-Match (304), and as peers on the same server in the same run, TAXII Get Objects (first page,
limit=100) and Server Discovery. For each workload: requests/s, latency, and the CPU time per request of the
server's processes and of this (client) process, which a loaded machine inflates far less than throughput.
Then a full TAXII walk of the indicators (limit=1000) against one full domain.txt; the 304 decision in
process; and the workers' peak and current memory after the build and after the load. Bounded in time and
count; nothing but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import hub, procs
from .load import connect, hammer, request, walk

CLIENTS = 8
FEED = f"/hub/v1/feeds/{hub.READ_ID}"


def _indicator(n: int, rng: random.Random) -> dict[str, Any]:
    token = f"{rng.getrandbits(40):010x}"
    kind = n % 10
    if kind < 5:
        pattern = f"[domain-name:value = 'c2-{token}.bench-{n % 97}.example']"
    elif kind < 7:
        pattern = f"[ipv4-addr:value = '45.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}']"
    elif kind < 9:
        pattern = f"[url:value = 'http://dl-{token}.bench.example/p/{n}.bin']"
    else:
        pattern = f"[file:hashes.'SHA-256' = '{hashlib.sha256(token.encode()).hexdigest()}']"
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{_uuid(n)}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": f"bench indicator {n}", "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z",
            "indicator_types": ["malicious-activity"], "confidence": 70}


def _uuid(n: int) -> str:
    text = f"{n:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-8{text[17:20]}-{text[20:32]}"


def objects(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    campaign = {"type": "campaign", "spec_version": "2.1", "id": "campaign--0b5e0c6a-1d2e-4f30-8a41-5c6d7e8f9a0b",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "name": "Bench campaign"}
    yield campaign
    for n in range(count):
        ind = _indicator(n, rng)
        yield ind
        if n % 10 == 0:
            yield {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{_uuid(n + 10**9)}",
                   "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                   "relationship_type": "indicates", "source_ref": ind["id"], "target_ref": campaign["id"]}


def _memory(server: procs.ServerProcess) -> tuple[int, int]:
    """(largest worker's peak RSS, largest worker's current RSS) in MiB; the master is left out."""
    peaks, current = [], []
    for pid in server.pids()[1:]:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        for line in status:
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
            if line.startswith("VmRSS:"):
                current.append(int(line.split()[1]))
    return max(peaks, default=0) // 1024, max(current, default=0) // 1024


def _cpu_s(server: procs.ServerProcess) -> float:
    """CPU time (user + system) the server's processes have used so far, master included."""
    ticks = 0
    for pid in server.pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _once(port: int, path: str, headers: dict[str, str]) -> tuple[float, int, dict[str, str]]:
    conn = connect(port, 600)
    try:
        reply = request(conn, "GET", path, headers)
    finally:
        conn.close()
    if reply.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {reply.status}: {reply.body[:200]!r}")
    return reply.seconds, len(reply.body), dict(reply.headers)


def _service_304_us(config: Path, etag: str, rounds: int = 2000) -> float:
    from taxii_server.app import build_services
    from taxii_server.feedexport.service import FeedRequest
    from taxii_server.settings import load_settings

    services = build_services(load_settings(config, env={}))
    org = services.accounts.acting_as(hub.ORG)
    started = time.perf_counter()
    for _ in range(rounds):
        answer = services.exports.fetch(org, FeedRequest(hub.READ_ID, "domain.txt"), (etag,))
        if not answer.not_modified:
            raise RuntimeError("the feed changed during the bench")
    return (time.perf_counter() - started) / rounds * 1e6


def run(count: int, seconds: float, workdir: Path) -> list[str]:
    root = workdir / "hub"
    config = hub._layout(root, 0)
    hub._cli(config, "init", "--json")
    hub._cli(config, "org", "add", hub.ORG, "--name", "Bench member", "--group", "bench")
    key = json.loads(hub._cli(config, "key", "create", hub.ORG, "--label", "bench", "--json"))["key"]
    auth = {"Authorization": f"Bearer {key}", "Accept": "*/*"}
    started = time.perf_counter()
    hub._load_direct(config, objects(count))
    load_s = time.perf_counter() - started
    port = procs.free_port()
    argv = [str(hub.CLI), "--config", str(config), "serve", "--bind", f"{procs.HOST}:{port}",
            "--workers", "2", "--threads", "2", "--insecure-http"]
    server = procs.start("taxii-hub", argv, root / "server.log", port, procs.answers("/taxii2/", auth),
                         env=hub._env(), cwd=root)
    out: list[str] = []
    try:
        base_memory = _memory(server)
        domain_cold, domain_bytes, domain_headers = _once(port, f"{FEED}/domain.txt", auth)
        csv_cold, csv_bytes, _ = _once(port, f"{FEED}/indicators.csv", auth)
        _once(port, f"{FEED}/domain.txt", {**auth, "Accept-Encoding": "gzip"})
        _once(port, f"{FEED}/indicators.csv", {**auth, "Accept-Encoding": "gzip"})
        for _ in range(4):  # each worker has its validators' clock window in memory after this
            _once(port, f"{FEED}/domain.txt", auth)
            _once(port, f"{FEED}/indicators.csv", auth)
        built_memory = _memory(server)
        taxii = {**auth, "Accept": "application/taxii+json;version=2.1"}
        gz = {**auth, "Accept-Encoding": "gzip"}
        cases: Sequence[tuple[str, str, dict[str, str], int, bool]] = (
            ("domain.txt, full", f"{FEED}/domain.txt", auth, 200, True),
            ("indicators.csv, full", f"{FEED}/indicators.csv", auth, 200, True),
            ("domain.txt, full, gzip", f"{FEED}/domain.txt", gz, 200, True),
            ("indicators.csv, full, gzip", f"{FEED}/indicators.csv", gz, 200, True),
            ("indicators.csv, full, each body kept in client memory", f"{FEED}/indicators.csv", auth, 200, False),
            ("domain.txt, If-None-Match (304)", f"{FEED}/domain.txt",
             {**auth, "If-None-Match": domain_headers["etag"]}, 304, False),
            ("peer: TAXII Get Objects, first page (limit=100)",
             f"/{hub.ROOT}/collections/{hub.READ_ID}/objects/?limit=100", taxii, 200, False),
            ("peer: TAXII Server Discovery", "/taxii2/", taxii, 200, False),
        )
        results = {}
        cpu: dict[str, tuple[float, float]] = {}  # ms of CPU per request: server, this (client) process
        for name, path, headers, status, stream in cases:
            server_before, client_before = _cpu_s(server), time.process_time()
            results[name] = hammer(port, path, headers, CLIENTS, seconds, 200_000, 120, ok_status=status,
                                   stream=stream)
            done = max(results[name].requests, 1)
            cpu[name] = ((_cpu_s(server) - server_before) * 1000 / done,
                         (time.process_time() - client_before) * 1000 / done)
        loaded_memory = _memory(server)
        taxii_walk = walk(port, f"/{hub.ROOT}/collections/{hub.READ_ID}/objects/", taxii, 1000, 120, 10_000)
        one_feed, _, _ = _once(port, f"{FEED}/domain.txt", auth)
    finally:
        server.stop()
    service_304_us = _service_304_us(config, domain_headers["etag"])
    out.append(f"Feeds, {count:,} indicators (+{count // 10:,} relationships, 1 campaign) in one collection; "
               f"loaded in {load_s:.1f} s; {CLIENTS} clients, {seconds:g} s per workload, same server")
    out.append("")
    out.append(f"- first fetch (builds the file): domain.txt {domain_cold * 1000:.0f} ms "
               f"({domain_bytes / 1e6:.2f} MB), indicators.csv {csv_cold * 1000:.0f} ms ({csv_bytes / 1e6:.2f} MB)")
    out.append("")
    out.append("| workload | requests/s | p50 ms | p99 ms | server CPU ms/request | client CPU ms/request | errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        out.append(f"| {name} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {cpu[name][0]:.2f} | "
                   f"{cpu[name][1]:.2f} | {len(r.errors)} |")
    out.append("")
    page = results["peer: TAXII Get Objects, first page (limit=100)"]
    discovery = results["peer: TAXII Server Discovery"]
    out.append(f"- ratio, full domain.txt / TAXII first page: {results['domain.txt, full'].rps / page.rps:.2f}; "
               f"full indicators.csv / TAXII first page: {results['indicators.csv, full'].rps / page.rps:.2f}")
    out.append(f"- ratio, 304 / TAXII Server Discovery: "
               f"{results['domain.txt, If-None-Match (304)'].rps / discovery.rps:.2f}; 304 / TAXII first page: "
               f"{results['domain.txt, If-None-Match (304)'].rps / page.rps:.2f}")
    out.append(f"- the whole collection over TAXII (a `next` walk, limit=1000, {taxii_walk.objects:,} objects): "
               f"{taxii_walk.seconds:.2f} s; one full domain.txt: {one_feed * 1000:.0f} ms "
               f"(ratio {taxii_walk.seconds / one_feed:.0f}x)")
    out.append(f"- the 304 decision alone, in process (FeedExports.fetch with the ETag, no HTTP, no authentication, "
               f"no poll record): {service_304_us:.0f} µs per request ({1e6 / service_304_us:,.0f}/s on one thread)")
    out.append(f"- largest worker, peak / current RSS: at start {base_memory[0]} / {base_memory[1]} MiB; after "
               f"the builds {built_memory[0]} / {built_memory[1]} MiB; after the load {loaded_memory[0]} / "
               f"{loaded_memory[1]} MiB")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    procs.install_signal_handlers()
    with tempfile.TemporaryDirectory(prefix="taxii-hub-feeds-bench-") as tmp:
        try:
            lines = run(args.indicators, args.seconds, Path(tmp))
        finally:
            procs.stop_all()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
