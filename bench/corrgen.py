"""Realistic report histories for the correlation step, with their ground truth.

A history is a year of member reports: planted campaigns (2–50 reports from 2–15 organisations over 1–28
days, linked by a C2 domain every report carries and by senders, payload hashes and URLs some share), decoys
that must never link (a campaign's lure URL again months later, one organisation reporting the same sender several
times, spoofed senders at members' own mail domains, shared free-mail providers), one-off reports, and
popular benign values (a logo image's hash, a CDN host, a sinkhole IP, a tracking URL…) carried by 0.5 %, 2 %,
10 % and 30 % of all reports, campaign reports included, over the whole year.

Deterministic: the same size and seed give the same history. Used by `bench.correlation` (10k–1M) and by the
precision test in `make test` (a few thousand).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from taxii_server.model import Submission

DAY_US = 86_400_000_000
YEAR_START_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
ORGANISATIONS = 200
GROUPS = 10
POPULAR = (  # (kind, value, share of all reports)
    ("file-hash", "sha256:" + hashlib.sha256(b"corporate logo.png").hexdigest(), 0.30),
    ("c2-domain", "cdn.shared-hosting.example", 0.10),
    ("c2-ip", "192.0.2.53", 0.02),
    ("url", "https://tracking.mailer.example/pixel.gif", 0.005),
)


@dataclass(frozen=True)
class History:
    submissions: list[Submission]
    campaign_of: dict[str, int]  # submission id → planted campaign number (absent: not in a campaign)

    def campaigns(self) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for sid, n in self.campaign_of.items():
            found.setdefault(n, set()).add(sid)
        return found


def org(n: int) -> str:
    return f"org-{n:03d}"


def groups() -> dict[str, str]:
    return {org(n): f"group-{n % GROUPS}" for n in range(ORGANISATIONS)}


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class _Maker:
    def __init__(self, size: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.count = 0
        self.seed = seed

    def submission(self, org_id: str, at_us: int, features: set[tuple[str, str]]) -> Submission:
        self.count += 1
        sid = f"{self.seed:04d}{self.count:012d}-0000-4000-8000-{_digest(self.seed, self.count)[:12]}"
        features.add(("victim-domain", f"{org_id}.example"))
        for kind, value, share in POPULAR:
            if self.rng.random() < share:
                features.add((kind, value))
        return Submission(
            id=sid, org_id=org_id, received_at_us=at_us + 3_600_000_000, source="bench",
            media_type="application/json", state="converted", tlp="amber", first_seen_us=at_us,
            last_seen_us=at_us + self.rng.randrange(0, 3_600_000_000), features=tuple(sorted(features)),
            content_sha256=_digest("content", self.seed, self.count),
        )

    def when(self) -> int:
        return YEAR_START_US + self.rng.randrange(0, 365 * DAY_US)


def generate(size: int, seed: int = 13) -> History:
    """About `size` submissions: a tenth in campaigns, a tenth decoys, the rest one-off reports."""
    return History(*_collect(iter_history(size, seed)))


def _collect(items: Iterator[tuple[Submission, int | None]]) -> tuple[list[Submission], dict[str, int]]:
    subs: list[Submission] = []
    truth: dict[str, int] = {}
    for s, campaign in items:
        subs.append(s)
        if campaign is not None:
            truth[s.id] = campaign
    return subs, truth


def iter_history(size: int, seed: int = 13) -> Iterator[tuple[Submission, int | None]]:
    """The history one submission at a time (with its planted campaign number), in no particular order: a
    million need not be held in memory."""
    m = _Maker(size, seed)
    rng = m.rng
    campaign_budget = size // 10
    decoy_budget = size // 10
    n = 0
    while m.count < campaign_budget:
        yield from _campaign(m, n, min(campaign_budget - m.count, _campaign_size(rng)))
        n += 1
    stop = m.count + decoy_budget
    d = 0
    while m.count < stop:
        yield from ((s, None) for s in _decoy(m, d, n))
        d += 1
    while m.count < size:
        yield _one_off(m), None


def _campaign_size(rng: random.Random) -> int:
    """Mostly small campaigns, some large: 2–50 reports."""
    return min(50, 2 + int(rng.paretovariate(1.2)) if rng.random() < 0.85 else rng.randint(10, 50))


def _campaign(m: _Maker, n: int, size: int) -> Iterator[tuple[Submission, int | None]]:
    rng = m.rng
    if size < 2:
        yield _one_off(m), None
        return
    orgs = rng.sample(range(ORGANISATIONS), min(size, rng.randint(2, 15)))
    start = YEAR_START_US + rng.randrange(0, 330 * DAY_US)
    duration = rng.randint(1, 28) * DAY_US
    senders = [f"sender{k}.c{n}@attacker-{n}.example" for k in range(rng.randint(1, 3))]
    hashes = [f"sha256:{_digest('payload', m.seed, n, k)}" for k in range(rng.randint(1, 3))]
    c2 = f"c2.campaign-{n}.example"
    url = f"https://lure-{n}.example/download"
    for k in range(size):
        reporter = org(orgs[k % len(orgs)])
        features = {("c2-domain", c2), ("sender-address", rng.choice(senders)), ("file-hash", rng.choice(hashes))}
        if rng.random() < 0.5:
            features.add(("url", url))
        if rng.random() < 0.5:
            features.add(("c2-ip", f"203.0.{n % 250}.{(n // 250) % 250 + 1}"))
        yield m.submission(reporter, start + rng.randrange(0, duration), features), n


def _decoy(m: _Maker, d: int, campaigns: int) -> Iterator[Submission]:
    """Reports that look related and must not link."""
    rng = m.rng
    kind = d % 4
    if kind == 0 and campaigns:  # a campaign's lure URL again, long after the campaign, from one organisation
        n = rng.randrange(campaigns)
        yield m.submission(org(rng.randrange(ORGANISATIONS)), YEAR_START_US + (460 + rng.randrange(0, 200)) * DAY_US,
                           {("url", f"https://lure-{n}.example/download")})
    elif kind == 1:  # one organisation reporting the same sender three times
        reporter, sender = org(rng.randrange(ORGANISATIONS)), f"pest{d}@nuisance.example"
        at = m.when()
        for k in range(3):
            yield m.submission(reporter, at + k * DAY_US, {("sender-address", sender)})
    elif kind == 2:  # a spoofed sender at a member's own mail domain, reported by that member and another
        victims = rng.sample(range(ORGANISATIONS), 2)
        spoofed = f"ceo@{org(victims[0])}.example"
        at = m.when()
        for victim in victims:
            payload = f"sha256:{_digest('decoy', m.seed, d, m.count)}"
            yield m.submission(org(victim), at + rng.randrange(0, DAY_US),
                               {("sender-address", spoofed), ("file-hash", payload)})
    else:  # a shared free-mail provider, different addresses: domains are no evidence
        yield m.submission(org(rng.randrange(ORGANISATIONS)), m.when(),
                           {("sender-address", f"user{d}@freemail.example"), ("sender-freemail", "yes")})


def _one_off(m: _Maker) -> Submission:
    rng = m.rng
    n = m.count
    features = {("sender-address", f"x{n}@one-off-{n}.example"),
                ("file-hash", f"sha256:{_digest('one-off', m.seed, n)}")}
    if rng.random() < 0.3:
        features.add(("url", f"https://one-off-{n}.example/"))
    return m.submission(org(rng.randrange(ORGANISATIONS)), m.when(), features)
