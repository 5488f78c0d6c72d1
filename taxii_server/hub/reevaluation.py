"""Keeping campaign candidates right when the lists that make evidence over-correlating change: the member
register's mail domains and the hub's allow-list.

A change to either can move evidence values between `used` and `over-correlating`. Instead of waiting for a
manual `campaigns rebuild`, the change queues correlation jobs for exactly the values it can move, and the
correlation step (hub/correlator.py) recomputes the candidates around them like after an exclusion:
- a mail domain added to or removed from the register: the sender addresses at that domain (and, harmlessly
  more, at its subdomains) — one `v:` job per pattern, the job an exclusion queues;
- an allow-list entry added or removed: an `a:` job naming the entry; the step finds the evidence values the
  entry matches (`affected_values`, a read of the index's values of the kinds the entry can speak for) and
  recomputes around them. The scan runs in the background step, never in the analyst's request.

Must not: decide a value's state (correlation.py does) or run correlation itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

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


def _literal(text: str) -> str:
    """`text` as a glob that matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def register_jobs(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """The jobs for a change of an organisation's mail domains: its sender addresses' state can change."""
    changed = sorted(set(before) ^ set(after))
    return [f"v:sender-address\t{pattern}" for d in changed for pattern in (f"*@{_literal(d)}", f"*@*.{_literal(d)}")]


def allow_list_job(entry: AllowedValue) -> str:
    return f"a:{entry.kind}\t{entry.value}"


def affected_values(store: CorrelationStore, kind: str, value: str) -> list[tuple[str, str]]:
    """The indexed evidence values an allow-list entry (`kind`, `value` in its stored form) matches."""
    entry = AllowList([AllowedValue(kind, value, "", "", "")])
    found: list[tuple[str, str]] = []
    for evidence in _EVIDENCE_FOR.get(kind, ()):
        glob = f"{kind}:{_literal(value)}" if evidence == "file-hash" else "*"
        for candidate in store.values_matching(evidence, glob, _EVERY):
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
