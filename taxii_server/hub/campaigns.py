"""Campaign candidates for analysts, and keeping submission states in step with them.

A converted submission that belongs to a candidate moves to `in-campaign`; one that no longer does moves
back to `converted`. Candidates are computed from the stored submissions (see `correlation`), never cached.
"""

from __future__ import annotations

import dataclasses

from ..errors import NotFound
from ..model import Principal
from ..storage.base import WorkflowStore
from .audit import require
from .correlation import Candidate, candidates


class Campaigns:
    def __init__(self, store: WorkflowStore, window_days: int) -> None:
        self.store = store
        self.window_days = window_days

    def _compute(self) -> list[Candidate]:
        groups = {o.id: o.group for o in self.store.list_organisations()}
        return candidates(self.store.list_submissions(), groups, self.window_days)

    def refresh(self) -> list[Candidate]:
        """Recompute the candidates and move submission states between `converted` and `in-campaign`."""
        found = self._compute()
        linked = {sid for c in found for sid in c.submissions}
        for s in self.store.list_submissions():
            wanted = {"converted": "in-campaign" if s.id in linked else "converted",
                      "in-campaign": "in-campaign" if s.id in linked else "converted"}.get(s.state, s.state)
            if wanted != s.state:
                self.store.update_submission(dataclasses.replace(s, state=wanted))
        return found

    def suggest(self, principal: Principal) -> list[Candidate]:
        require(principal, "candidates", "campaign candidate")
        return self.refresh()

    def get(self, principal: Principal, candidate_id: str) -> Candidate:
        require(principal, "candidates", "campaign candidate")
        for c in self._compute():
            if c.id == candidate_id:
                return c
        raise NotFound(f"no campaign candidate {candidate_id!r} (its reports may have changed; list them again)")
