"""Grouping reports from several members into campaign candidates, with the evidence that links them.

Evidence that really links attacks: the same sender address; the same attachment or archive-member hash; the
same C2 domain, IP or URL; the same malicious URL; the same archive password with a matching subject
template; the same sender display name with a matching subject template — between reports no further apart
than the correlation window. Never evidence on its own: a shared free-mail provider (domains are not
features), a common subject word (subjects count only paired with a password or a display name), or a
sender at a member's own mail domain (a legitimate or spoofed member address).

Pure and deterministic: the same submissions always give the same candidates, with the same ids.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..model import Submission

EVIDENCE_KINDS = frozenset({
    "sender-address", "file-hash", "c2-domain", "c2-ip", "c2-url", "url", "password+subject",
    "display-name+subject",
})
CORRELATED_STATES = frozenset({"converted", "in-campaign", "published"})


@dataclass(frozen=True)
class Evidence:
    kind: str
    value: str
    submissions: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    id: str
    submissions: tuple[str, ...]
    organisations: tuple[str, ...]
    groups: tuple[str, ...]
    first_seen_us: int
    last_seen_us: int
    evidence: tuple[Evidence, ...]


class _Components:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _close(a: Submission, b: Submission, window_us: int) -> bool:
    a0, a1 = a.first_seen_us or 0, a.last_seen_us or a.first_seen_us or 0
    b0, b1 = b.first_seen_us or 0, b.last_seen_us or b.first_seen_us or 0
    return max(a0, b0) - min(a1, b1) <= window_us


def _is_evidence(kind: str, value: str, member_domains: frozenset[str]) -> bool:
    if kind not in EVIDENCE_KINDS:
        return False
    return not (kind == "sender-address" and value.rsplit("@", 1)[-1] in member_domains)


def candidates(
    submissions: Sequence[Submission], groups: Mapping[str, str], window_days: int
) -> list[Candidate]:
    """Campaign candidates: linked reports from at least two organisations."""
    window_us = window_days * 86_400_000_000
    eligible = sorted(
        (s for s in submissions if s.state in CORRELATED_STATES and s.first_seen_us is not None),
        key=lambda s: (s.first_seen_us, s.id),
    )
    member_domains = frozenset(v for s in submissions for k, v in s.features if k == "victim-domain")
    index: dict[tuple[str, str], list[Submission]] = defaultdict(list)
    for s in eligible:
        for kind, value in sorted(set(s.features)):
            if _is_evidence(kind, value, member_domains):
                index[(kind, value)].append(s)
    components = _Components()
    for shared in index.values():
        for i, a in enumerate(shared):
            for b in shared[i + 1:]:
                if _close(a, b, window_us):
                    components.union(a.id, b.id)
    members: dict[str, list[Submission]] = defaultdict(list)
    for s in eligible:
        members[components.find(s.id)].append(s)
    found: list[Candidate] = []
    for group in members.values():
        orgs = sorted({s.org_id for s in group})
        if len(orgs) < 2:
            continue
        ids = tuple(sorted(s.id for s in group))
        in_group = set(ids)
        evidence = tuple(
            Evidence(kind, value, tuple(sorted({s.id for s in shared if s.id in in_group})))
            for (kind, value), shared in sorted(index.items())
            if len({s.id for s in shared if s.id in in_group}) >= 2
        )
        found.append(Candidate(
            id="cand-" + hashlib.sha256("|".join(ids).encode()).hexdigest()[:16],
            submissions=ids,
            organisations=tuple(orgs),
            groups=tuple(sorted({groups.get(o, "unknown") for o in orgs})),
            first_seen_us=min(s.first_seen_us or 0 for s in group),
            last_seen_us=max(s.last_seen_us or s.first_seen_us or 0 for s in group),
            evidence=evidence,
        ))
    return sorted(found, key=lambda c: (c.first_seen_us, c.id))
