"""What links reports into campaign candidates: the evidence, when a value counts, and a candidate's document.

Evidence that really links attacks: the same sender address; the same attachment or archive-member hash; the
same C2 domain, IP or URL; the same malicious URL; the same archive password with a matching subject
template; the same sender display name with a matching subject template — between reports no further apart
than the correlation window. Never evidence on its own: a shared free-mail provider (domains are not
features), a common subject word (subjects count only paired with a password or a display name).

Each evidence value has a state, decided from the value's live postings and the analysts' exclusions:
- `excluded`: an analyst excluded the value (or a pattern matching it);
- `over-correlating`: a sender at a member's own mail domain (a registered domain or one of its subdomains,
  or a victim's domain in any report); a value the known-benign lists name; or a
  value seen in more than `max_reports` reports, from more than `max_organisations` organisations, or over
  more than `max_span` (first to last report) — shown as evidence, never used to link;
- `used`: it links the reports that share it within the window.

Pure and deterministic: the same postings, exclusions and policy always give the same states and the same
candidate documents (ids are the hash of the sorted member ids, so they stay while membership does).
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import orjson

from ..hostnames import domain_and_parents
from ..model import Exclusion, Override, Posting, StoredCandidate, Submission

EVIDENCE_KINDS = frozenset({
    "sender-address", "file-hash", "c2-domain", "c2-ip", "c2-url", "url", "password+subject",
    "display-name+subject",
})
# Facts indexed beside the evidence because they decide whether a sender address counts.
VICTIM_DOMAIN = "victim-domain"
SENDER_DOMAIN = "sender-domain"
CORRELATED_STATES = frozenset({"converted", "in-campaign", "published"})
USED, OVER, EXCLUDED = "used", "over-correlating", "excluded"
DAY_US = 86_400_000_000


@dataclass(frozen=True)
class Policy:
    """The correlation settings ([hub] correlation_*) and the lists of values known to be legitimate."""

    window_us: int = 90 * DAY_US
    max_organisations: int = 20
    max_span_us: int = 60 * DAY_US
    max_reports: int = 200
    known_benign: Callable[[str, str], bool] = lambda kind, value: False
    member_domains: frozenset[str] = frozenset()  # the organisation register's mail domains


@dataclass(frozen=True)
class Evidence:
    kind: str
    value: str
    submissions: tuple[str, ...]
    state: str = USED


@dataclass(frozen=True)
class Candidate:
    id: str
    submissions: tuple[str, ...]
    organisations: tuple[str, ...]
    groups: tuple[str, ...]
    first_seen_us: int
    last_seen_us: int
    evidence: tuple[Evidence, ...]


def eligible(s: Submission | None) -> bool:
    return s is not None and s.state in CORRELATED_STATES and s.first_seen_us is not None


def postings_for(s: Submission) -> list[Posting]:
    """The live postings of an eligible submission: its evidence, its victims' mail domains and its senders'
    domains (so that a domain becoming a member's tells which reports' senders stop counting)."""
    first = s.first_seen_us or 0
    last = s.last_seen_us or first
    values: set[tuple[str, str]] = set()
    for kind, value in s.features:
        if kind in EVIDENCE_KINDS or kind == VICTIM_DOMAIN:
            values.add((kind, value))
        if kind == "sender-address" and "@" in value:
            values.add((SENDER_DOMAIN, value.rsplit("@", 1)[1]))
    return [Posting(k, v, s.id, s.org_id, first, last, True) for k, v in sorted(values)]


def in_register(domain: str, member_domains: frozenset[str]) -> bool:
    """Whether a mail domain is a member's by the register: a registered domain covers its subdomains."""
    return any(d in member_domains for d in domain_and_parents(domain))


def close(a: Posting, b: Posting, window_us: int) -> bool:
    return max(a.first_us, b.first_us) - min(a.last_us, b.last_us) <= window_us


def links(postings: Sequence[Posting], window_us: int) -> list[tuple[str, str]]:
    """Pairs of submissions whose union gives the same components as linking every pair `close` links,
    found in one sweep in order of first report (not by comparing every pair).

    Two postings are close exactly when the intervals [first, last + window] overlap (a posting whose first
    report is more than the window after its last is close to none). The components of overlapping
    intervals are runs in order of start: a posting joins the run when it starts before the run's furthest
    end, and it overlaps the posting that reaches that end."""
    found: list[tuple[str, str]] = []
    reach: int | None = None
    furthest = ""  # the posting of the run that reaches furthest
    for p in sorted((p for p in postings if p.first_us - p.last_us <= window_us),
                    key=lambda p: (p.first_us, p.submission_id)):
        if reach is not None and p.first_us <= reach:
            found.append((furthest, p.submission_id))
            if p.last_us + window_us > reach:
                reach, furthest = p.last_us + window_us, p.submission_id
        else:
            reach, furthest = p.last_us + window_us, p.submission_id
    return found


def excluded(kind: str, value: str, exclusions: Iterable[Exclusion]) -> bool:
    return any(e.kind == kind and (fnmatch.fnmatchcase(value, e.value) if e.pattern else e.value == value)
               for e in exclusions)


def value_state(
    kind: str, value: str, postings: Sequence[Posting], member_domain: Callable[[str], bool],
    exclusions: Sequence[Exclusion], policy: Policy,
) -> str:
    """The state of one evidence value given its live postings (a list cut after max_reports + 1 is enough)."""
    if excluded(kind, value, exclusions):
        return EXCLUDED
    if kind == "sender-address" and member_domain(value.rsplit("@", 1)[-1]):
        return OVER
    if policy.known_benign(kind, value) or len(postings) > policy.max_reports:
        return OVER
    if len({p.org_id for p in postings}) > policy.max_organisations:
        return OVER
    if postings and max(p.last_us for p in postings) - min(p.first_us for p in postings) > policy.max_span_us:
        return OVER
    return USED


def crowded_state(kind: str, value: str, exclusions: Sequence[Exclusion]) -> str:
    """The state of a value with more than max_reports live postings, known without reading them: value_state
    gives this for every such list."""
    return EXCLUDED if excluded(kind, value, exclusions) else OVER


def blocked(a: str, b: str, overrides: Iterable[Override]) -> bool:
    """An analyst split puts a and b on different sides: they are never linked directly."""
    return any(o.action == "split" and ((a in o.side_a and b in o.side_b) or (a in o.side_b and b in o.side_a))
               for o in overrides)


def merge_edges(overrides: Iterable[Override]) -> list[tuple[str, str]]:
    return [(o.side_a[0], o.side_b[0]) for o in overrides if o.action == "merge" and o.side_a and o.side_b]


def candidate_id(members: Iterable[str]) -> str:
    return "cand-" + hashlib.sha256("|".join(sorted(members)).encode()).hexdigest()[:16]


def build_candidate(
    members: Iterable[Submission], postings: Iterable[Posting], groups: Mapping[str, str],
    state: Callable[[str, str], str],
) -> StoredCandidate | None:
    """The candidate a linked set of reports forms (None when they come from a single organisation): members,
    organisations, groups, time span, and per evidence value shared by two or more members, the members it
    links and its state."""
    chosen = sorted(members, key=lambda s: s.id)
    orgs = sorted({s.org_id for s in chosen})
    if len(orgs) < 2:
        return None
    ids = tuple(s.id for s in chosen)
    in_group = set(ids)
    shared: dict[tuple[str, str], set[str]] = {}
    for p in postings:
        if p.kind in EVIDENCE_KINDS and p.submission_id in in_group:
            shared.setdefault((p.kind, p.value), set()).add(p.submission_id)
    evidence = [{"kind": k, "value": v, "submissions": sorted(sids), "state": state(k, v)}
                for (k, v), sids in sorted(shared.items()) if len(sids) >= 2]
    first = min(s.first_seen_us or 0 for s in chosen)
    last = max(s.last_seen_us or s.first_seen_us or 0 for s in chosen)
    cid = candidate_id(ids)
    doc = {"id": cid, "submissions": list(ids), "organisations": orgs,
           "groups": sorted({groups.get(o, "unknown") for o in orgs}), "first_seen_us": first,
           "last_seen_us": last, "evidence": evidence}
    return StoredCandidate(cid, first, last, ids, orjson.dumps(doc),
                           tuple((e["kind"], e["value"]) for e in evidence))  # type: ignore[misc]


def candidate_from(stored: StoredCandidate) -> Candidate:
    doc = orjson.loads(stored.doc)
    return Candidate(
        id=doc["id"], submissions=tuple(doc["submissions"]), organisations=tuple(doc["organisations"]),
        groups=tuple(doc["groups"]), first_seen_us=doc["first_seen_us"], last_seen_us=doc["last_seen_us"],
        evidence=tuple(Evidence(e["kind"], e["value"], tuple(e["submissions"]), e["state"]) for e in doc["evidence"]),
    )
