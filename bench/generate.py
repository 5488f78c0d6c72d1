"""Realistic STIX 2.1 content for the TAXII benchmarks, deterministic by seed.

    .venv/bin/python -m bench.generate --count 10000 --seed 7 --out objects.jsonl

Owns: a stream of object *versions* as a feed hub would receive them, in the order they arrive. Indicators
with file-hash, domain, IPv4, URL and e-mail patterns (the bulk), campaigns, malware, identities, relationships
(`indicates`, `uses`, `attributed-to`) and sightings; about 8 % of the stream are later versions of earlier
indicators and campaigns (a new `modified`, a changed confidence, sometimes `revoked`). `count` is the number
of versions, i.e. the rows a TAXII server stores. Same seed and count, same bytes: ids come from the seeded
generator and times from a fixed origin, never from the clock.

Must not: depend on the hub (the same objects are loaded into peer servers) or hold more than a bounded pool of
earlier objects (1M objects stream in constant memory).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=7)  # one object version every 7 s of "feed time": 1M objects span about 81 days
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
POOL = 2000  # how many recent objects relationships, sightings and new versions pick from

# (kind, weight) of each next item in the stream; "version" re-issues an earlier indicator or campaign.
MIX = (("indicator", 55), ("relationship", 17), ("sighting", 8), ("version", 8), ("malware", 4),
       ("campaign", 5), ("identity", 3))
PATTERNS = ("md5", "sha1", "sha256", "domain", "ipv4", "url", "email")
TLDS = ("example", "example.com", "example.net", "example.org", "test")
WORDS = ("invoice", "update", "secure", "login", "portal", "cdn", "mail", "docs", "share", "sync", "vpn", "news")
MALWARE = ("PlugX", "ShadowPad", "Emotet", "QakBot", "RedLeaves", "Cobalt Strike beacon", "IcedID", "AsyncRAT")
SECTORS = ("energy", "manufacturing", "chemical", "utilities", "transportation", "government-national")


def stix_time(moment: datetime) -> str:
    """STIX timestamp with millisecond precision (what most producers emit)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Stream:
    """The state behind one generated stream: the seeded generator, the clock and the pools."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tick = 0
        self.indicators: list[str] = []
        self.campaigns: list[str] = []
        self.malware: list[str] = []
        self.identities: list[str] = []
        self.versionable: dict[str, dict[str, Any]] = {}  # id -> latest version, bounded to POOL entries

    def now(self) -> datetime:
        return ORIGIN + STEP * self.tick

    def new_id(self, kind: str) -> str:
        return f"{kind}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def remember(self, pool: list[str], object_id: str) -> None:
        pool.append(object_id)
        if len(pool) > POOL:
            del pool[: len(pool) - POOL]

    def keep_versionable(self, obj: dict[str, Any]) -> None:
        self.versionable[obj["id"]] = obj
        if len(self.versionable) > POOL:
            del self.versionable[next(iter(self.versionable))]

    def common(self, kind: str) -> dict[str, Any]:
        when = stix_time(self.now())
        return {"type": kind, "spec_version": "2.1", "id": self.new_id(kind), "created": when, "modified": when}

    # -- object kinds --------------------------------------------------------------------------------------

    def pattern(self) -> tuple[str, str, str]:
        """(pattern, indicator type, a short name) for one observable."""
        rng = self.rng
        kind = rng.choice(PATTERNS)
        if kind in ("md5", "sha1", "sha256"):
            digest = hashlib.new(kind, rng.randbytes(16), usedforsecurity=False).hexdigest()
            label = {"md5": "MD5", "sha1": "'SHA-1'", "sha256": "'SHA-256'"}[kind]
            return f"[file:hashes.{label} = '{digest}']", "malicious-activity", f"file {digest[:12]}"
        host = f"{rng.choice(WORDS)}-{rng.randrange(10**6)}.{rng.choice(TLDS)}"
        if kind == "domain":
            return f"[domain-name:value = '{host}']", "malicious-activity", host
        if kind == "ipv4":
            address = f"{rng.choice((198, 203, 192))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            return f"[ipv4-addr:value = '{address}']", "anomalous-activity", address
        if kind == "url":
            url = f"https://{host}/{rng.choice(WORDS)}/{rng.randrange(10**8):x}.php?id={rng.randrange(10**6)}"
            return f"[url:value = '{url}']", "malicious-activity", url
        sender = f"{rng.choice(WORDS)}.{rng.randrange(10**5)}@{host}"
        return (f"[email-message:from_ref.value = '{sender}' AND email-message:subject = "
                f"'Re: {rng.choice(WORDS)} {rng.randrange(1000)}']"), "attribution", sender

    def indicator(self) -> dict[str, Any]:
        pattern, indicator_type, short = self.pattern()
        obj = self.common("indicator")
        obj.update({
            "name": f"Indicator for {short}",
            "description": "Observed in a spear-phishing wave reported by a member; vetted by the hub.",
            "indicator_types": [indicator_type],
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": obj["created"],
            "confidence": self.rng.choice((30, 50, 70, 85)),
            "labels": [self.rng.choice(("phishing", "c2", "dropper", "exfiltration"))],
            "object_marking_refs": [TLP_GREEN],
        })
        if self.rng.random() < 0.3:
            obj["valid_until"] = stix_time(self.now() + timedelta(days=self.rng.choice((14, 30, 90))))
        self.remember(self.indicators, obj["id"])
        self.keep_versionable(obj)
        return obj

    def campaign(self) -> dict[str, Any]:
        obj = self.common("campaign")
        obj.update({
            "name": f"Campaign {self.rng.randrange(10**4):04d} against {self.rng.choice(SECTORS)}",
            "description": "Several members reported mails with the same infrastructure within days.",
            "first_seen": obj["created"],
            "objective": "credential theft and persistent access",
            "object_marking_refs": [TLP_GREEN],
        })
        self.remember(self.campaigns, obj["id"])
        self.keep_versionable(obj)
        return obj

    def malware_sdo(self) -> dict[str, Any]:
        obj = self.common("malware")
        obj.update({"name": self.rng.choice(MALWARE), "is_family": True,
                    "malware_types": [self.rng.choice(("remote-access-trojan", "backdoor", "downloader"))]})
        self.remember(self.malware, obj["id"])
        return obj

    def identity(self) -> dict[str, Any]:
        obj = self.common("identity")
        obj.update({"name": f"Member {self.rng.randrange(10**4):04d}", "identity_class": "organization",
                    "sectors": [self.rng.choice(SECTORS)]})
        self.remember(self.identities, obj["id"])
        return obj

    def relationship(self) -> dict[str, Any]:
        rng = self.rng
        obj = self.common("relationship")
        choice = rng.random()
        if choice < 0.6:
            source, kind, target = rng.choice(self.indicators), "indicates", rng.choice(self.campaigns)
        elif choice < 0.85:
            source, kind, target = rng.choice(self.indicators), "indicates", rng.choice(self.malware)
        else:
            source, kind, target = rng.choice(self.campaigns), "uses", rng.choice(self.malware)
        obj.update({"relationship_type": kind, "source_ref": source, "target_ref": target})
        return obj

    def sighting(self) -> dict[str, Any]:
        obj = self.common("sighting")
        obj.update({"sighting_of_ref": self.rng.choice(self.indicators), "count": self.rng.randrange(1, 40),
                    "first_seen": obj["created"], "last_seen": obj["created"],
                    "where_sighted_refs": [self.rng.choice(self.identities)]})
        return obj

    def new_version(self) -> dict[str, Any]:
        """A later version of a recent indicator or campaign: new `modified`, sometimes revoked."""
        earlier = self.versionable[self.rng.choice(list(self.versionable))]
        obj = dict(earlier)
        obj["modified"] = stix_time(self.now())
        if "confidence" in obj:
            obj["confidence"] = min(100, int(obj["confidence"]) + 10)
        if self.rng.random() < 0.15:
            obj["revoked"] = True
            del self.versionable[obj["id"]]  # a revoked object gets no further versions
        else:
            self.versionable[obj["id"]] = obj
        return obj

    def next(self) -> dict[str, Any]:
        if self.tick < 4:  # seed every pool so relationships and sightings always have targets
            obj = (self.identity, self.malware_sdo, self.campaign, self.indicator)[self.tick]()
        else:
            kind = self.rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
            maker = {"indicator": self.indicator, "relationship": self.relationship, "sighting": self.sighting,
                     "version": self.new_version, "malware": self.malware_sdo, "campaign": self.campaign,
                     "identity": self.identity}[kind]
            obj = maker()
        self.tick += 1
        return obj


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` object versions in arrival order; the same for the same (count, seed)."""
    stream = _Stream(seed)
    for _ in range(count):
        yield stream.next()


def parse_size(text: str) -> int:
    """'10k' -> 10_000, '1m' -> 1_000_000, '2500' -> 2500."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    digits = text[:-1] if factor != 1 else text
    if not digits.isdigit() or int(digits) <= 0:
        raise ValueError(f"not a size: {text!r} (expected e.g. 10k, 100k, 1m)")
    return int(digits) * factor


def size_label(count: int) -> str:
    for factor, suffix in ((1_000_000, "m"), (1_000, "k")):
        if count % factor == 0:
            return f"{count // factor}{suffix}"
    return str(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=parse_size, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="JSON Lines file, one object per line")
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as out:
        for obj in generate(args.count, args.seed):
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
