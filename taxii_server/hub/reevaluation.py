"""Keeping campaign candidates right when the lists that make evidence over-correlating change: the member
register's mail domains and the hub's allow-list.

A change to either can move evidence values between `used` and `over-correlating`. Instead of waiting for a
manual `campaigns rebuild`, the change queues correlation jobs for exactly the values it can move, and the
correlation step (hub/correlator.py) recomputes the candidates around them like after an exclusion:
- a mail domain added to or removed from the register: the sender addresses at that domain (and, harmlessly
  more, at its subdomains) — one `v:` job per pattern, the job an exclusion queues;
- an allow-list entry added or removed: an `a:` job naming the entry; the step finds the evidence values the
  entry matches (`affected_values`: the index's values of the kinds the entry can speak for, narrowed by a
  cheap text test, then matched exactly) and recomputes around them. The scan runs in the background step,
  never in the analyst's request.

Must not: decide a value's state (correlation.py does) or run correlation itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from ..hostnames import display_domain
from ..model import AllowedValue
from ..storage.correlation import CorrelationStore
from ..timestamps import now_us
from .allowlist import AllowList
from .benign_evidence import stix_kind

# Which evidence kinds an allow-list entry of each kind can match (benign_evidence.stix_kind, reversed).
_EVIDENCE_FOR = {
    "domain-name": ("c2-domain", "url", "c2-url", "sender-address"),
    "ipv4-addr": ("c2-ip", "url", "c2-url"),
    "ipv6-addr": ("c2-ip", "url", "c2-url"),
    "url": ("url", "c2-url"),
    "email-addr": ("sender-address",),
    "md5": ("file-hash",), "sha1": ("file-hash",), "sha256": ("file-hash",),
}
_EVERY = 1 << 62
_ADDRESS_LIKE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f]*:")


def _literal(text: str) -> str:
    """`text` as a glob that matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def register_jobs(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """The jobs for a change of an organisation's mail domains: its sender addresses' state can change."""
    changed = sorted(set(before) ^ set(after))
    return [f"v:sender-address\t{pattern}" for d in changed for pattern in (f"*@{_literal(d)}", f"*@*.{_literal(d)}")]


def allow_list_job(entry: AllowedValue) -> str:
    return f"a:{entry.kind}\t{entry.value}"


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _prefilter(kind: str, value: str) -> Callable[[str], bool]:
    """A cheap test every value the entry matches passes (most others fail it), so the exact match — which
    IDNA-normalises each value — runs on few values: a matched value names the entry's domain (as ASCII or
    Unicode, in any case or width), or for an address entry contains an address."""
    if kind in ("ipv4-addr", "ipv6-addr"):
        return lambda candidate: _ADDRESS_LIKE.search(candidate) is not None
    if kind in ("url", "email-addr"):
        domain = (urlsplit(value).hostname or "") if kind == "url" else value.rpartition("@")[2]
    else:
        domain = value
    needles = {_folded(domain), _folded(display_domain(domain))} - {""}
    return lambda candidate: any(n in _folded(candidate) for n in needles)


def affected_values(store: CorrelationStore, kind: str, value: str) -> list[tuple[str, str]]:
    """The indexed evidence values an allow-list entry (`kind`, `value` in its stored form) matches."""
    entry = AllowList([AllowedValue(kind, value, "", "", "")])
    may_match = _prefilter(kind, value)
    found: list[tuple[str, str]] = []
    for evidence in _EVIDENCE_FOR.get(kind, ()):
        if evidence == "file-hash":
            values = store.values_matching(evidence, f"{kind}:{_literal(value)}", _EVERY)
        else:
            values = [v for v in store.values_matching(evidence, "*", _EVERY) if may_match(v)]
        for candidate in values:
            spoken = stix_kind(evidence, candidate)
            if spoken is not None and entry.matches(*spoken) is not None:
                found.append((evidence, candidate))
    return found


class Reevaluation:
    """Queues the jobs above; wired into the allow-list's administration and the organisation register."""

    def __init__(self, store: CorrelationStore, clock: Callable[[], int] = now_us) -> None:
        self.store = store
        self.clock = clock

    def allow_list_changed(self, entry: AllowedValue) -> None:
        self.store.enqueue_correlation([allow_list_job(entry)], self.clock())

    def register_changed(self, before: Iterable[str], after: Iterable[str]) -> None:
        jobs = register_jobs(before, after)
        if jobs:
            self.store.enqueue_correlation(jobs, self.clock())
