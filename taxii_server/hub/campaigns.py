"""Campaign candidates for analysts: reading the materialised candidates, the correlation backlog, and the
analysts' corrections — exclusions of values (or patterns of values), splits and merges — each audited, kept
in the store and applied by the correlation step, so they survive every recomputation.

Listing candidates is a read: nothing here correlates. The correlation step (hub/correlator.py) runs in
`taxii-hub worker`, in a thread of `taxii-hub serve`, or synchronously through `drain()` where a command or a
test needs the result at once — never inside a member's request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence

from ..errors import BadRequest, NotFound, Unprocessable
from ..model import Exclusion, Override, Principal
from ..storage.base import CorrelationWorkStore
from ..timestamps import now_us
from .audit import AuditLog, require
from .correlation import EVIDENCE_KINDS, Candidate, candidate_from
from .correlator import Correlator

DEFAULT_PAGE = 50
MAX_PAGE = 500
_TOKEN = re.compile(r"^(\d{1,20})\.(cand-[0-9a-f]{16})$")
_LAST_US = 2**63 - 1  # the largest time a store keeps (a 64-bit integer); a larger one no listing gave


class Campaigns:
    def __init__(self, store: CorrelationWorkStore, correlator: Correlator, audit: AuditLog,
                 clock: Callable[[], int] = now_us) -> None:
        self.store = store
        self.correlator = correlator
        self.audit = audit
        self.clock = clock

    # -- the correlation step --------------------------------------------------------------------------------

    def drain(self) -> int:
        """Run every queued correlation job now (commands, the demo and tests; the worker does it otherwise)."""
        return self.correlator.drain()

    def lag(self, principal: Principal) -> tuple[int, float | None]:
        """Jobs waiting for the correlation step and the age of the oldest, in seconds."""
        require(principal, "candidates", "campaign candidate")
        return self.correlator.lag()

    # -- reading candidates ----------------------------------------------------------------------------------

    def page(self, principal: Principal, limit: int = DEFAULT_PAGE, after: str | None = None
             ) -> tuple[list[Candidate], str | None]:
        """One page of candidates, newest activity first, and the token of the next page (None at the end)."""
        require(principal, "candidates", "campaign candidate")
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
        position = None
        if after is not None:
            m = _TOKEN.match(after)
            if m is None or int(m.group(1)) > _LAST_US:
                raise BadRequest("next: not a token this listing gave")
            position = (int(m.group(1)), m.group(2))
        found = self.store.list_candidates(position, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        token = f"{found[-1].last_us}.{found[-1].id}" if more and found else None
        return [candidate_from(c) for c in found], token

    def suggest(self, principal: Principal) -> list[Candidate]:
        """Every candidate (the command line and the demo; pages use `page`)."""
        out: list[Candidate] = []
        token: str | None = None
        while True:
            found, token = self.page(principal, MAX_PAGE, token)
            out += found
            if token is None:
                return out

    def get(self, principal: Principal, candidate_id: str) -> Candidate:
        require(principal, "candidates", "campaign candidate")
        stored = self.store.get_candidate(candidate_id)
        if stored is None:
            raise NotFound(f"no campaign candidate {candidate_id!r} (its reports may have changed; list them again)")
        return candidate_from(stored)

    def candidates_of(self, principal: Principal, submission_ids: Sequence[str]) -> dict[str, str]:
        """Which candidate each of these submissions belongs to (analysts only: what other members reported
        is never part of what a member sees)."""
        require(principal, "candidates", "campaign candidate")
        return self.store.candidates_of(submission_ids)

    # -- exclusions --------------------------------------------------------------------------------------------

    def exclusions(self, principal: Principal) -> list[Exclusion]:
        require(principal, "candidates", "correlation exclusion")
        return self.store.list_exclusions()

    def exclude(self, principal: Principal, kind: str, value: str, reason: str, pattern: bool = False) -> Exclusion:
        """Exclude a value (or, with `pattern`, every value matching a glob such as `*.cdn.example`) of one
        evidence kind from linking reports; it is still shown, as `excluded`."""
        require(principal, "candidates", "correlation exclusion")
        if kind not in EVIDENCE_KINDS:
            raise Unprocessable(f"kind must be one of {', '.join(sorted(EVIDENCE_KINDS))}, not {kind!r}")
        if not value.strip():
            raise Unprocessable("value: an exclusion needs a value or a pattern")
        if not reason.strip():
            raise Unprocessable("reason: say why the value is excluded (it is kept in the audit trail)")
        found = Exclusion(f"excl-{uuid.uuid4().hex[:16]}", kind, value, pattern, reason.strip()[:1000],
                          principal.org_id, self.clock())
        self.store.add_exclusion(found)
        self.store.enqueue_correlation([f"v:{kind}\t{_glob(value, pattern)}"], self.clock())
        self.audit.record(principal, "exclude", found.id, {"kind": kind, "pattern": pattern, "reason": found.reason})
        return found

    def include(self, principal: Principal, exclusion_id: str, reason: str) -> Exclusion:
        """Withdraw an exclusion: the value links reports again where it is not over-correlating."""
        require(principal, "candidates", "correlation exclusion")
        found = self.store.remove_exclusion(exclusion_id)
        if found is None:
            raise NotFound(f"no correlation exclusion {exclusion_id!r}")
        self.store.enqueue_correlation([f"v:{found.kind}\t{_glob(found.value, found.pattern)}"], self.clock())
        self.audit.record(principal, "include", exclusion_id, {"reason": reason})
        return found

    # -- splits and merges ---------------------------------------------------------------------------------

    def overrides(self, principal: Principal) -> list[Override]:
        require(principal, "candidates", "campaign candidate")
        return self.store.list_overrides()

    def split(self, principal: Principal, candidate_id: str, side: Sequence[str], reason: str) -> Override:
        """Separate `side` (some of the candidate's reports) from its other reports: no evidence links a
        report of one side directly to one of the other any more."""
        found = self.get(principal, candidate_id)
        chosen = tuple(sorted(set(side)))
        rest = tuple(sorted(set(found.submissions) - set(chosen)))
        if not chosen or not rest or not set(chosen) <= set(found.submissions):
            raise Unprocessable("name some, but not all, of the candidate's submissions as the part to split off")
        return self._override(principal, "split", chosen, rest, reason, candidate_id)

    def merge(self, principal: Principal, first_id: str, second_id: str, reason: str) -> Override:
        """Link two candidates as one, as if their first reports shared evidence."""
        first, second = self.get(principal, first_id), self.get(principal, second_id)
        if first.id == second.id:
            raise Unprocessable("a candidate cannot be merged with itself")
        return self._override(principal, "merge", first.submissions, second.submissions, reason,
                              f"{first.id},{second.id}")

    def _override(self, principal: Principal, action: str, side_a: tuple[str, ...], side_b: tuple[str, ...],
                  reason: str, target: str) -> Override:
        if not reason.strip():
            raise Unprocessable(f"reason: say why the candidate is {action} (it is kept in the audit trail)")
        made = Override(f"{action}-{uuid.uuid4().hex[:16]}", action, side_a, side_b, reason.strip()[:1000],
                        principal.org_id, self.clock())
        self.store.add_override(made)
        self.store.enqueue_correlation([f"o:{','.join(sorted({*side_a, *side_b}))}"], self.clock())
        self.audit.record(principal, action, target, {"override": made.id, "reason": made.reason})
        return made


def _glob(value: str, pattern: bool) -> str:
    """The value as a glob that matches only itself, or the pattern as given."""
    return value if pattern else re.sub(r"([*?\[])", r"[\1]", value)
