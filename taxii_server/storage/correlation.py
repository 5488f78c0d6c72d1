"""The correlation part of the storage contract (composed into `base.Store`); tested once on every backend by
tests/storage/test_correlation_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from ..model import CorrelationJob, Exclusion, Override, Posting, StoredCandidate, Submission, SubmissionContent


class CorrelationStore(Protocol):
    """The correlation index, its work queue, the materialised campaign candidates and the analysts'
    exclusions, splits and merges (hub/correlator.py decides what they mean; the store keeps them).

    - Postings are written with their submission (`add_submission_once`), not yet live; the correlation step
      makes them live (`set_postings`). Every posting query reads live postings only.
    - (organisation, content SHA-256) is unique: the same report sent twice is one submission, also when the
      two posts race.
    - Jobs are taken oldest first by the holder of the correlation lease; one taken but not finished (a crash)
      is taken again once the lease has expired, so every job must be idempotent.
    """

    def add_submission_once(
        self, submission: Submission, content: SubmissionContent, postings: Sequence[Posting], now_us: int
    ) -> Submission | None:
        """Store the submission, its content, its postings (never live, whatever they say) and a job `s:<id>` for
        the correlation step, unless the organisation already sent the same content: then store nothing and return that
        earlier submission."""
        ...

    def submission_by_digest(self, org_id: str, content_sha256: str) -> Submission | None:
        ...

    def submissions_page(self, after_id: str | None, limit: int) -> list[Submission]:
        """Every organisation's submissions ordered by id, after `after_id`; at most `limit`."""
        ...

    def postings(self, kind: str, value: str, limit: int) -> list[Posting]:
        """Live postings of one value, ordered by submission id; at most `limit`."""
        ...

    def correlation_idle(self) -> None:
        """The correlation worker found the queue empty: the backend may tidy up now rather than during a
        job or a request (SQLite: a passive WAL checkpoint)."""
        ...

    def count_postings(self, kind: str, value: str, limit: int) -> int:
        """How many live postings one value has, counted up to `limit` (a popular value is not read)."""
        ...

    def postings_of(self, submission_ids: Sequence[str]) -> list[Posting]:
        """Every posting (live or not) of these submissions."""
        ...

    def set_postings(self, submission_id: str, postings: Sequence[Posting]) -> None:
        """Replace the submission's postings by these (each with its own `live`)."""
        ...

    def index_values(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str, int]]:
        """Distinct (kind, value) with live postings, ordered, after `after`, with their number of live
        postings; at most `limit`."""
        ...

    def values_matching(self, kind: str, glob: str, limit: int) -> list[str]:
        """Distinct values of a kind with live postings that match a glob pattern (`*`, `?`, `[…]`), sorted."""
        ...

    def enqueue_correlation(self, jobs: Sequence[str], now_us: int) -> None:
        ...

    def correlation_batch(self) -> AbstractContextManager[None]:
        """One transaction for a batch of correlation jobs, as atomic() makes, whose commit need not be on
        disk when it returns (SQLite: `synchronous = NORMAL`). Only for writes that can be derived again: a
        batch lost to a power cut leaves its jobs queued. Never for submissions or analysts' records."""
        ...

    def lease_correlation(self, owner: str, now_us: int, until_us: int) -> bool:
        """Take (or renew) the one correlation lease: true when it is free, expired or already the owner's."""
        ...

    def release_correlation(self, owner: str) -> None:
        ...

    def next_correlation_job(self) -> CorrelationJob | None:
        """The oldest job (it stays queued until finished)."""
        ...

    def finish_correlation_job(self, seq: int) -> None:
        ...

    def correlation_backlog(self) -> tuple[int, int | None]:
        """How many jobs wait, and when the oldest was queued."""
        ...

    def replace_candidates(self, remove: Sequence[str], add: Sequence[StoredCandidate]) -> None:
        """Drop these candidates (and their members), then insert or replace these."""
        ...

    def clear_candidates(self) -> None:
        ...

    def candidates_of(self, submission_ids: Sequence[str]) -> dict[str, str]:
        """submission id → the candidate it belongs to, for those that belong to one."""
        ...

    def candidates_with_value(self, kind: str, value: str) -> list[str]:
        """Ids of the candidates whose evidence lists this value."""
        ...

    def get_candidate(self, candidate_id: str) -> StoredCandidate | None:
        ...

    def list_candidates(self, after: tuple[int, str] | None, limit: int) -> list[StoredCandidate]:
        """Newest first: by last_us descending then id, after the (last_us, id) of the previous page."""
        ...

    def count_candidates(self) -> int:
        ...

    def add_exclusion(self, exclusion: Exclusion) -> None:
        ...

    def remove_exclusion(self, exclusion_id: str) -> Exclusion | None:
        ...

    def list_exclusions(self) -> list[Exclusion]:
        """Oldest first."""
        ...

    def add_override(self, override: Override) -> None:
        ...

    def overrides_of(self, submission_ids: Sequence[str]) -> list[Override]:
        """The splits and merges naming any of these submissions, oldest first."""
        ...

    def list_overrides(self) -> list[Override]:
        """Oldest first."""
        ...
