"""The storage contract every backend implements, and the semantics they share.

Written once as `typing.Protocol`s and tested once (tests/storage/test_contract.py) against every backend.

Semantics every backend guarantees:
- Each object version in a collection gets a `date_added` (integer microseconds) that is unique and strictly
  greater than every earlier one in that collection, assigned at commit under the write lock. A reader that
  pages with `date_added > cursor` therefore never misses or repeats a version. (Where writers on several
  machines commit independently, a query shows no version above a date_added still being written; see
  mongo_clock.py.)
- A collection is either shared (one namespace per id) or partitioned per organisation (an inbox with
  `visibility = "own"`): there each organisation writes into its own namespace, so what one member sent can
  neither collide with nor be revealed by what another sent.
- (collection, partition, id, version) is unique: a concurrent duplicate is stored once.
- In a shared collection the first organisation to add an id owns it; only it (or a caller allowed to
  supersede others) may add further versions.
- Queries apply every filter, the caller's scope included, inside the query, then the version keywords per
  object among the remaining versions (TAXII §3.4.1, checklist J13); pages are keyset pages on `date_added`.
- Each version keeps its raw JSON bytes; serving a page is concatenation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from ..model import (
    AddResult,
    AllowedValue,
    AuditEntry,
    ClientCertificate,
    ConsoleSession,
    ContentVersion,
    Credential,
    NewVersion,
    ObjectFilter,
    ObjectScope,
    Organisation,
    Page,
    PollRecord,
    Publication,
    Status,
    Submission,
    SubmissionContent,
)
from .correlation import CorrelationStore

T = TypeVar("T")

SCHEMA_VERSION = 5


class ObjectStore(Protocol):
    def add_versions(
        self,
        scope: ObjectScope,
        writer: str,
        may_supersede: bool,
        versions: Sequence[NewVersion],
        now_us: int,
    ) -> list[AddResult]:
        """Store the versions in one transaction; one AddResult per input, in input order."""
        ...

    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        """One keyset page: versions matching `flt` in `scope` with date_added > after_us, ascending."""
        ...

    def object_exists(self, scope: ObjectScope, object_id: str) -> bool:
        ...

    @property
    def transactional(self) -> bool:
        """Whether `atomically` is one transaction: SQLite always; MongoDB when the server runs multi-document
        transactions (a replica set or mongos), not a standalone server."""
        ...

    def atomic(self) -> AbstractContextManager[None]:
        """Make the writes inside one transaction where the backend can (SQLite: an Add Objects request's
        objects and its status). MongoDB does not: its writes stay separate and idempotent (spec §3.3)."""
        ...

    def atomically(self, work: Callable[[], T]) -> T:
        """Run `work` as one transaction where the store is `transactional`: every write it makes through this
        store is kept, or none. `work` may run more than once (MongoDB retries a transaction that lost a write
        conflict), so it must have no effect outside the store. Elsewhere `work` runs once, unprotected."""
        ...

    def object_owner(self, scope: ObjectScope, object_id: str) -> str | None:
        """The organisation that first added the object in the caller's partition, if it is stored there."""
        ...

    def first_writers(self, object_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """For each id stored in any collection outside the inboxes' partitions: collection id → the organisation
        that first added it there. Ids stored nowhere are absent."""
        ...

    def delete(self, scope: ObjectScope, object_id: str, flt: ObjectFilter) -> int:
        """Delete the versions of one object that match `flt` (all of them when flt.all_versions)."""
        ...


class StatusStore(Protocol):
    def save_status(self, status: Status) -> None:
        ...

    def get_status(self, status_id: str) -> Status | None:
        ...

    def purge_statuses(self, older_than_us: int) -> int:
        ...


class OrganisationDirectory(Protocol):
    """Reading the organisations (with their register); AccountStore adds their administration."""

    def get_organisation(self, org_id: str) -> Organisation | None:
        ...

    def list_organisations(self) -> list[Organisation]:
        ...


class AccountStore(OrganisationDirectory, Protocol):
    def add_organisation(self, org: Organisation) -> None:
        """Raises Conflict when the id exists."""
        ...

    def update_organisation(self, org: Organisation) -> bool:
        """Replace the stored organisation's name, group, roles, aliases and domains (its creation time and
        password stay); False when there is no organisation with that id."""
        ...

    def set_password(self, org_id: str, password_hash: str | None) -> None:
        ...

    def get_password(self, org_id: str) -> str | None:
        ...

    def add_credential(self, credential: Credential, secret_sha256: str) -> None:
        ...

    def find_credential(self, secret_sha256: str) -> tuple[Credential, Organisation] | None:
        """The live (unrevoked) credential with that hash, and its organisation."""
        ...

    def list_credentials(self, org_id: str | None = None) -> list[Credential]:
        ...

    def revoke_credential(self, credential_id: str, when: str) -> bool:
        ...


class AllowListStore(Protocol):
    """The hub-local allow-list (hub/allowlist.py): values known to be legitimate, one entry per (kind, value).
    Values arrive normalised; the store compares them as given. Exported and imported."""

    def add_allowed(self, entry: AllowedValue) -> bool:
        """Insert; False (and the stored entry kept as it is) when (kind, value) is already there."""
        ...

    def list_allowed(self, kind: str | None = None) -> list[AllowedValue]:
        """Ordered by (kind, value); only that kind's entries when `kind` is given."""
        ...

    def remove_allowed(self, kind: str, value: str) -> bool:
        """False when there was no such entry."""
        ...


class MetaStore(Protocol):
    def get_or_create_meta(self, key: str, value: str) -> str:
        """The stored value for key; stores `value` first when there is none (atomic across processes)."""
        ...


class HubStore(Protocol):
    """The sharing workflow's records: submissions (with their hub-internal content), publications, audit.

    Campaign candidates are kept by the correlation step (CorrelationStore), not here.
    """

    def add_submission(self, submission: Submission, content: SubmissionContent) -> None:
        ...

    def update_submission(self, submission: Submission) -> None:
        """Replace the submission's metadata (its state, errors, publications…); the content never changes."""
        ...

    def submissions_arrived_after(self, position: int, limit: int) -> list[tuple[int, Submission]]:
        """Up to `limit` submissions stored after `position` (0: from the first), in the order they were stored,
        each with its position: a number the store gives a submission when storing it (again when an import
        stores it anew), greater than every earlier one. A submission stored later never gets a position at or
        below one already returned, so a reader that keeps the last position misses none."""
        ...

    def get_submission(self, submission_id: str) -> Submission | None:
        ...

    def get_submission_content(self, submission_id: str) -> SubmissionContent | None:
        ...

    def list_submissions(self, org_id: str | None = None) -> list[Submission]:
        """Oldest first; all organisations' when org_id is None."""
        ...

    def save_publication(self, publication: Publication, bundle: bytes) -> None:
        """Insert or replace a publication and the exact bundle it carries."""
        ...

    def get_publication(self, publication_id: str) -> tuple[Publication, bytes] | None:
        ...

    def list_publications(self) -> list[Publication]:
        """Oldest first."""
        ...

    def add_audit(self, entry: AuditEntry) -> None:
        ...

    def list_audit(self, since_us: int | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Oldest first, at most `limit` entries at or after `since_us`."""
        ...


class FeedStore(ObjectStore, StatusStore, OrganisationDirectory, Protocol):
    """What the TAXII use cases (feeds.py) use: objects, statuses, and who the writers are."""


class WorkflowStore(HubStore, OrganisationDirectory, CorrelationStore, Protocol):
    """What the sharing workflow's services (campaigns, publishing, statistics) use."""


class IntakeStore(WorkflowStore, AllowListStore, Protocol):
    """What intake uses: the workflow's records, the allow-list its conversions consult, and one transaction
    for a dismissal and its correlation job."""

    def atomic(self) -> AbstractContextManager[None]:
        ...


class CorrelationWorkStore(WorkflowStore, AllowListStore, Protocol):
    """What the correlation step and the campaign services use: the index, queue and candidates, the
    submissions, the register and the allow-list, and one transaction per batch of jobs (SQLite)."""

    def atomic(self) -> AbstractContextManager[None]:
        ...


class ThrottleStore(Protocol):
    """Token buckets for the rate limits (throttle.py), shared by every worker and machine. Not exported: a
    copy starts with full buckets."""

    def take_token(self, key: str, cost: float, per_second: float, capacity: float, now_us: int) -> tuple[bool, float]:
        """Atomically, in one operation: refill bucket `key` (a new one starts full) by the time elapsed since
        it was last used at `per_second`, up to `capacity`; then take `cost` tokens if that many are there (a
        negative cost gives tokens back). Returns (taken, tokens left)."""
        ...

    def purge_buckets(self, now_us: int) -> int:
        """Drop buckets idle long enough to be full again (they would start full anyway); how many."""
        ...


class PollStore(Protocol):
    """The poll history: one record per TAXII read, bounded and rotated (hub/polls.py). Not exported: it is
    operational telemetry, and a migrated hub starts with an empty history."""

    def add_poll(self, record: PollRecord) -> None:
        ...

    def list_polls(self, org_id: str | None, since_us: int | None, limit: int) -> list[PollRecord]:
        """Newest first, at most `limit`, at or after `since_us`; every organisation's when org_id is None."""
        ...

    def prune_polls(self, org_id: str, keep: int, older_than_us: int) -> int:
        """Drop every record older than `older_than_us`, and the organisation's beyond its newest `keep`."""
        ...

    def newest_date_added(self, scope: ObjectScope) -> int | None:
        """The largest date_added in the part of a collection `scope` sees; None when it is empty."""
        ...


class FeedStateStore(Protocol):
    """What the feeds' validators (ETag, Last-Modified) are drawn from (feedexport/)."""

    def content_version(self, scope: ObjectScope) -> ContentVersion:
        """The change marker of the part of a collection `scope` sees: one read of a marker the writes keep
        (never a count or a scan of the collection)."""
        ...


# -- bulk transfer ---------------------------------------------------------------------------------------------
# Export, import and migration between backends only (storage/transfer.py); never used to serve a request.
# These methods bypass the rules add_versions enforces (date_added allocation, ownership), so that a copy is
# exact: same ids, versions, partitions, adders and date_added order.


@dataclasses.dataclass(frozen=True)
class TransferVersion:
    """One stored object version with everything that makes it what it is in its collection."""

    date_added_us: int
    partition: str
    added_by: str
    id: str
    type: str
    version: str
    version_us: int
    spec_version: str
    raw: bytes


@dataclasses.dataclass(frozen=True)
class TransferOwner:
    """Who first added an id in a collection partition (the only one who may add versions of it)."""

    partition: str
    id: str
    org_id: str


class BulkTransferStore(Protocol):
    def transfer_collections(self) -> list[str]:
        """Every collection id with stored versions or owners, sorted."""
        ...

    def export_versions(self, collection_id: str, after_us: int | None, limit: int) -> list[TransferVersion]:
        """All partitions, date_added ascending, date_added > after_us; at most `limit`."""
        ...

    def import_versions(self, collection_id: str, versions: Sequence[TransferVersion]) -> int:
        """Store versions with their own date_added, partition and adder; one already stored under the same
        date_added or the same (partition, id, version) is skipped. Advances the collection's clock past them,
        so later adds get larger date_added. Returns how many were stored."""
        ...

    def export_owners(self, collection_id: str, after: tuple[str, str] | None, limit: int) -> list[TransferOwner]:
        """Ordered by (partition, id), after that pair; at most `limit`."""
        ...

    def import_owners(self, collection_id: str, owners: Sequence[TransferOwner]) -> None:
        """Insert or replace."""
        ...

    def export_credentials(self) -> list[tuple[Credential, str]]:
        """Every credential, revoked ones included, with its secret's SHA-256 (never a secret)."""
        ...

    def import_organisation(self, org: Organisation, password_hash: str | None) -> None:
        """Insert or replace."""
        ...

    def import_credential(self, credential: Credential, secret_sha256: str) -> None:
        """Insert or replace."""
        ...

    def export_statuses(self, after_id: str | None, limit: int) -> list[Status]:
        """Ordered by id, after `after_id`; at most `limit`. (Import with save_status, which replaces.)"""
        ...

    def export_meta(self) -> dict[str, str]:
        ...

    def import_meta(self, key: str, value: str) -> None:
        """Insert or replace."""
        ...

    def import_submission(self, submission: Submission, content: SubmissionContent) -> None:
        """Insert or replace, content included. (Publications are imported with save_publication.)"""
        ...

    def export_audit(self, after_id: str | None, limit: int) -> list[AuditEntry]:
        """In the order the entries were added, after the entry `after_id`; at most `limit`."""
        ...

    def import_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append in the given order; an entry whose id is already stored is skipped."""
        ...

    def erase_everything(self) -> None:
        """Remove every record of every kind (the schema stays). Only `migrate`/`import` with --force call it."""
        ...


class SessionStore(Protocol):
    """Web console sessions, shared by every worker and machine. Not exported: a copy starts signed out."""

    def save_session(self, session: ConsoleSession) -> None:
        """Insert or replace."""
        ...

    def get_session(self, session_id: str) -> ConsoleSession | None:
        ...

    def delete_session(self, session_id: str) -> None:
        ...

    def purge_sessions(self, seen_before_us: int) -> int:
        """Remove the sessions last seen before that instant; how many were removed."""
        ...


class CertificateStore(Protocol):
    """Client certificates the hub issued (never their keys): looked up by serial on every request made with
    one, so a revocation takes effect at once on every worker and machine. Exported and imported like keys."""

    def add_certificate(self, certificate: ClientCertificate) -> None:
        """Raises Conflict when the serial exists."""
        ...

    def get_certificate(self, serial: str) -> ClientCertificate | None:
        ...

    def list_certificates(self, org_id: str | None = None) -> list[ClientCertificate]:
        """Oldest issue first; every organisation's when org_id is None."""
        ...

    def revoke_certificate(self, serial: str, when: str) -> bool:
        """False when there is no such live certificate."""
        ...

    def import_certificate(self, certificate: ClientCertificate) -> None:
        """Bulk transfer only: insert or replace, revoked ones included."""
        ...


class Store(ObjectStore, StatusStore, AccountStore, MetaStore, HubStore, BulkTransferStore, SessionStore,
            CertificateStore, ThrottleStore, PollStore, AllowListStore, FeedStateStore, CorrelationStore,
            Protocol):
    """Everything the hub keeps. One instance per process; safe to use after fork."""

    def initialise(self) -> None:
        """Create or upgrade the schema (idempotent)."""
        ...

    def close(self) -> None:
        ...
