"""Conversion benchmark: incident records -> STIX bundles, hub path vs the stix2-library path.

    .venv/bin/python -m bench.convert [--records 10000] [--seed 7] [--stix2-records N]

Generates records deterministically from the seed, converts them with `converters` (plain dicts, keyed ids,
orjson) and builds the same objects through stix2 library classes (`stix2.parse` per object, which validates
properties and patterns as object construction does, then `Bundle(...).serialize()`). Prints records/s and
indicators/s for both and the ratio. The stix2 path does not pay for the mapping logic (it starts from the
finished property dicts), so the ratio is conservative. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import platform
import random
import time
from pathlib import Path
from typing import Any

from converters import ConversionOptions, RecordLimits, bundle_bytes, load_records, record_to_bundle
from converters.patterns import full_parser_error
from converters.record import Record

# The checks every conversion makes: member domains, a hub allow-list (a dictionary look-up, as the hub's is)
# and the MISP warning lists (on by default), for every sender, URL, domain, IP and hash.
_ALLOWED = {("domain-name", "partner.example"): "partner"}
OPTIONS = ConversionOptions(
    id_key="bench-key",
    sector_groups={"org-a": "heavy-industry", "org-b": "energy"},
    member_domains=frozenset({"org-a.example", "org-b.example"}),
    allowed=lambda kind, value: _ALLOWED.get((kind, value)),
)
KINDS = (("word", ".doc"), ("ichitaro", ".jtd"), ("rar", ".rar"), ("zip", ".zip"), ("exe", ".exe"))


def _hashes(rng: random.Random) -> dict[str, str]:
    seed = rng.randbytes(16)
    return {"md5": hashlib.md5(seed, usedforsecurity=False).hexdigest(),
            "sha1": hashlib.sha1(seed, usedforsecurity=False).hexdigest(),
            "sha256": hashlib.sha256(seed).hexdigest()}


def _c2(rng: random.Random) -> dict[str, Any]:
    host = f"c{rng.randrange(10**6)}.news-{rng.randrange(1000)}.example"
    entry: dict[str, Any] = {"domain": host, "ipv4": f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                             "port": rng.choice((80, 443, 8080)), "country": rng.choice(("JP", "HK", "US", "CN"))}
    if rng.random() < 0.5:
        entry["url"] = f"http://{host}/wp-content/{rng.randrange(10**6)}.php"
    if rng.random() < 0.3:
        entry["compromised_site"] = True
    return entry


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` incident-record/1 documents, the same for the same seed."""
    rng = random.Random(seed)
    documents = []
    for number in range(count):
        sender = f"user{rng.randrange(10**6)}@{rng.choice(('freemail.example', 'webmail.example', 'corp.example'))}"
        victim = f"info@org-{rng.choice('ab')}.example"
        day = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        messages: list[dict[str, Any]] = []
        if rng.random() < 0.6:
            messages.append({"ref": "#1", "role": "recon", "sent_at": f"{day}T01:00:00Z",
                             "from": {"address": sender, "display_name": "田中 健一"}, "to": [{"address": victim}],
                             "subject": "製品についての問い合わせ", "body": "資料をお送りいただけますか。",
                             "message_id": f"<r{number}@{sender.split('@')[1]}>"})
            messages.append({"ref": "#2", "role": "reply", "sent_at": f"{day}T02:00:00Z",
                             "from": {"address": victim}, "to": [{"address": sender}],
                             "subject": "Re: 製品についての問い合わせ", "message_id": f"<v{number}@org.example>"})
        kind, suffix = rng.choice(KINDS)
        attachment: dict[str, Any] = {"name": f"資料{number}{suffix}", "size": rng.randrange(1000, 10**6),
                                      "kind": kind, **_hashes(rng)}
        if kind in ("rar", "zip"):
            attachment["password"] = f"pw{rng.randrange(10**4)}"
            attachment["members"] = [{"name": f"資料{number}.exe", "kind": "exe", "size": 4096, **_hashes(rng),
                                      "c2": [_c2(rng)]}]
        else:
            attachment["c2"] = [_c2(rng)]
        attack: dict[str, Any] = {"ref": f"#{len(messages) + 1}", "role": "attack", "sent_at": f"{day}T02:13:00Z",
                                  "from": {"address": sender}, "to": [{"address": victim}],
                                  "subject": "Re: 製品についての問い合わせ", "body": "添付をご確認ください。",
                                  "attachments": [attachment]}
        if rng.random() < 0.3:
            attack["urls"] = [f"http://dl-{rng.randrange(10**6)}.example/get.php"]
        messages.append(attack)
        documents.append({"format": "incident-record/1", "id": f"BENCH-{number:05d}",
                          "reporter": rng.choice(("org-a", "org-b")), "reported_at": f"{day}T09:00:00Z",
                          "tlp": "amber", "messages": messages})
    return documents


def hub_path(records: list[Record]) -> tuple[float, float, int, set[str]]:
    """Convert and serialise every record; nothing is kept but the count and the distinct patterns.
    (wall seconds, CPU seconds of this process, indicators, distinct patterns)."""
    indicators = 0
    patterns: set[str] = set()
    cpu_started = time.process_time()
    started = time.perf_counter()
    for record in records:
        bundle = record_to_bundle(record, OPTIONS)
        bundle_bytes(bundle)
        for obj in bundle["objects"]:
            if obj["type"] == "indicator":
                indicators += 1
                patterns.add(obj["pattern"])
    return time.perf_counter() - started, time.process_time() - cpu_started, indicators, patterns


def every_pattern_validated(patterns: set[str]) -> float:
    """Extra time if every distinct pattern went through the ANTLR validator (instead of once per shape)."""
    started = time.perf_counter()
    for pattern in patterns:
        assert full_parser_error(pattern) is None
    return time.perf_counter() - started


def stix2_path(records: list[Record]) -> tuple[float, float, int]:
    """The same objects built through stix2 classes, bundled and serialised (only that part is timed).
    (wall seconds, CPU seconds, indicators)."""
    import stix2

    elapsed = 0.0
    cpu = 0.0
    indicators = 0
    for record in records:
        # Fresh dicts from the hub's output: the property sets are identical, the mapping logic is free.
        document = json.loads(bundle_bytes(record_to_bundle(record, OPTIONS)))
        indicators += sum(1 for o in document["objects"] if o["type"] == "indicator")
        cpu_started = time.process_time()
        started = time.perf_counter()
        objects = [stix2.parse(obj, allow_custom=True) for obj in document["objects"]]
        stix2.Bundle(objects=objects, id=document["id"], allow_custom=True).serialize()
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    return elapsed, cpu, indicators


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import os

    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stix2-records", type=int, default=None,
                        help="convert only this many records on the (slow) stix2 path; default all")
    args = parser.parse_args()

    generated = json.dumps(generate(args.records, args.seed)).encode()
    records = load_records(generated, "generated", RecordLimits(max_records=max(args.records, 1)))
    gc.collect()
    gc.freeze()  # the generated input is long-lived; keep the collector from re-scanning it
    record_to_bundle(records[0], OPTIONS)  # warm-up: first pattern-shape checks, imports, warning lists (once)
    hub_seconds, hub_cpu, indicators, patterns = hub_path(records)
    full_seconds = every_pattern_validated(patterns)
    subset = records[: args.stix2_records or len(records)]
    lib_seconds, lib_cpu, subset_indicators = stix2_path(subset)

    hub_rate = len(records) / hub_seconds
    full_rate = len(records) / (hub_seconds + full_seconds)
    lib_rate = len(subset) / lib_seconds
    print(f"machine: {machine()}")
    print(f"records: {len(records)} (seed {args.seed}), {indicators} indicators, {len(patterns)} distinct patterns")
    print(f"hub path:                 {hub_seconds:7.2f} s  {hub_rate:9.0f} records/s  "
          f"{indicators / hub_seconds:9.0f} indicators/s")
    print(f"hub, every pattern ANTLR: {hub_seconds + full_seconds:7.2f} s  {full_rate:9.0f} records/s  "
          f"{indicators / (hub_seconds + full_seconds):9.0f} indicators/s")
    print(f"stix2 path ({len(subset)} records): {lib_seconds:7.2f} s  {lib_rate:9.0f} records/s  "
          f"{subset_indicators / lib_seconds:9.0f} indicators/s")
    print(f"ratio hub / stix2: {hub_rate / lib_rate:.1f}x  (every pattern through ANTLR: {full_rate / lib_rate:.1f}x)")
    # On a shared machine wall time follows the load; CPU time of this process does not.
    cpu_ratio = (len(records) / hub_cpu) / (len(subset) / lib_cpu)
    print(f"ratio hub / stix2 in CPU time: {cpu_ratio:.1f}x  (hub {hub_cpu:.2f} s, stix2 {lib_cpu:.2f} s)")


if __name__ == "__main__":
    main()
