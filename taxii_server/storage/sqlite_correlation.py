"""The correlation index, its queue, the materialised candidates and the analysts' exclusions, splits and merges
on SQLite (CorrelationStore in correlation.py). A mixin of SQLiteStore on SQLiteConnection (the connections, the
`BEGIN IMMEDIATE` write transactions and the translation of sqlite3 errors); the tables are created with the
rest of the schema through CORRELATION_SCHEMA.

Tables and the queries they serve:
- `submission_digests` (org_id, sha256) primary key: the same report sent twice is one submission; a racing
  second insert fails on the key inside the same transaction as the submission and returns the first.
- `corr_postings` (kind, value, submission_id) primary key: a value's postings are one index range, read
  with a LIMIT (the correlation step never needs more than the over-correlation limit + 2 of them);
  (submission_id): a submission's own postings.
- `corr_queue` (seq): oldest job first. `corr_lease`: one row, the correlation lease.
- `corr_candidates` (last_us DESC, id): the first page of candidates is an index range at any size;
  `corr_members` (submission_id) → candidate; `corr_candidate_values` (kind, value) → candidates listing it.
- `corr_exclusions`, `corr_overrides` (+ `corr_override_members` by submission): a few analyst records.

Must not: decide what links reports (hub/correlator.py does), or open connections of its own.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from ..model import (
    CorrelationJob,
    Exclusion,
    Override,
    Posting,
    StoredCandidate,
    Submission,
    SubmissionContent,
)
from .documents import submission_from_doc, submission_to_doc
from .sqlite_connection import SQLiteConnection
from .sqlite_records import NEXT_ARRIVAL

CORRELATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS submission_digests (
    org_id TEXT NOT NULL, sha256 TEXT NOT NULL, submission_id TEXT NOT NULL, PRIMARY KEY (org_id, sha256)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS corr_postings (
    kind TEXT NOT NULL, value TEXT NOT NULL, submission_id TEXT NOT NULL, org_id TEXT NOT NULL,
    first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, live INTEGER NOT NULL,
    PRIMARY KEY (kind, value, submission_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS corr_postings_submission ON corr_postings (submission_id);
CREATE TABLE IF NOT EXISTS corr_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, enqueued_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS corr_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS corr_candidates (
    id TEXT PRIMARY KEY, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, members BLOB NOT NULL,
    doc BLOB NOT NULL, evidence BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS corr_candidates_recent ON corr_candidates (last_us DESC, id);
CREATE TABLE IF NOT EXISTS corr_members (
    submission_id TEXT PRIMARY KEY, candidate_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS corr_members_candidate ON corr_members (candidate_id);
CREATE TABLE IF NOT EXISTS corr_candidate_values (
    kind TEXT NOT NULL, value TEXT NOT NULL, candidate_id TEXT NOT NULL, PRIMARY KEY (kind, value, candidate_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS corr_candidate_values_candidate ON corr_candidate_values (candidate_id);
CREATE TABLE IF NOT EXISTS corr_exclusions (id TEXT PRIMARY KEY, at_us INTEGER NOT NULL, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS corr_overrides (id TEXT PRIMARY KEY, at_us INTEGER NOT NULL, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS corr_override_members (
    submission_id TEXT NOT NULL, override_id TEXT NOT NULL, PRIMARY KEY (submission_id, override_id)
) WITHOUT ROWID;
"""

# Schema 4 (the correlation index): the digests of the submissions already stored, and a job per submission
# so that the correlation step indexes them. Run before CORRELATION_SCHEMA, so it creates what it fills.
UPGRADE_TO_4 = (
    "CREATE TABLE IF NOT EXISTS submission_digests (org_id TEXT NOT NULL, sha256 TEXT NOT NULL, "
    "submission_id TEXT NOT NULL, PRIMARY KEY (org_id, sha256)) WITHOUT ROWID",
    "INSERT OR IGNORE INTO submission_digests (org_id, sha256, submission_id) "
    "SELECT org_id, json_extract(CAST(doc AS TEXT), '$.content_sha256'), id FROM submissions "
    "WHERE json_extract(CAST(doc AS TEXT), '$.content_sha256') != '' ORDER BY received_at_us, id",
    "CREATE TABLE IF NOT EXISTS corr_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, "
    "enqueued_us INTEGER NOT NULL)",
    "INSERT INTO corr_queue (job, enqueued_us) SELECT 's:' || id, received_at_us FROM submissions "
    "ORDER BY received_at_us, id",
)

_LEASE = "correlation"
CORRELATION_CACHE_KIB = -65536  # negative: KiB (64 MiB) for the connection running correlation jobs
_POSTING_COLUMNS = "kind, value, submission_id, org_id, first_us, last_us, live"


class SQLiteCorrelation(SQLiteConnection):

    # -- submissions and the index ---------------------------------------------------------------------------

    def add_submission_once(
        self, submission: Submission, content: SubmissionContent, postings: Sequence[Posting], now_us: int
    ) -> Submission | None:
        with self._write() as conn:
            row = conn.execute("SELECT submission_id FROM submission_digests WHERE org_id=? AND sha256=?",
                               (submission.org_id, submission.content_sha256)).fetchone()
            if row is not None:
                earlier = conn.execute("SELECT doc FROM submissions WHERE id=?", (row[0],)).fetchone()
                if earlier is not None:
                    return submission_from_doc(orjson.loads(earlier[0]))
            conn.execute("INSERT OR REPLACE INTO submission_digests (org_id, sha256, submission_id) VALUES (?,?,?)",
                         (submission.org_id, submission.content_sha256, submission.id))
            conn.execute(
                f"INSERT INTO submissions (id, org_id, received_at_us, doc, raw, records, draft, arrival) "
                f"VALUES (?,?,?,?,?,?,?,{NEXT_ARRIVAL})",
                (submission.id, submission.org_id, submission.received_at_us,
                 orjson.dumps(submission_to_doc(submission)), content.raw, content.records, content.draft),
            )
            _insert_postings(conn, [dataclasses.replace(p, live=False) for p in postings])
            conn.execute("INSERT INTO corr_queue (job, enqueued_us) VALUES (?, ?)", (f"s:{submission.id}", now_us))
        return None

    def submission_by_digest(self, org_id: str, content_sha256: str) -> Submission | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT s.doc FROM submission_digests d JOIN submissions s ON s.id = d.submission_id "
                "WHERE d.org_id=? AND d.sha256=?", (org_id, content_sha256)).fetchone()
        return submission_from_doc(orjson.loads(row[0])) if row else None

    def submissions_page(self, after_id: str | None, limit: int) -> list[Submission]:
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM submissions WHERE id > ? ORDER BY id LIMIT ?",
                                (after_id or "", limit)).fetchall()
        return [submission_from_doc(orjson.loads(r[0])) for r in rows]

    def postings(self, kind: str, value: str, limit: int) -> list[Posting]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_POSTING_COLUMNS} FROM corr_postings WHERE kind=? AND value=? AND live=1 "
                "ORDER BY submission_id LIMIT ?", (kind, value, limit)).fetchall()
        return [_posting(r) for r in rows]

    def count_postings(self, kind: str, value: str, limit: int) -> int:
        with self._read() as conn:
            return int(conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM corr_postings WHERE kind=? AND value=? AND live=1 LIMIT ?)",
                (kind, value, limit)).fetchone()[0])

    def postings_of(self, submission_ids: Sequence[str]) -> list[Posting]:
        found: list[Posting] = []
        with self._read() as conn:
            for chunk in _chunks(sorted(set(submission_ids))):
                marks = ",".join("?" * len(chunk))
                found += [_posting(r) for r in conn.execute(
                    f"SELECT {_POSTING_COLUMNS} FROM corr_postings WHERE submission_id IN ({marks}) "
                    "ORDER BY submission_id, kind, value", chunk)]
        return found

    def set_postings(self, submission_id: str, postings: Sequence[Posting]) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM corr_postings WHERE submission_id=?", (submission_id,))
            _insert_postings(conn, postings)

    def index_values(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str, int]]:
        kind, value = after if after is not None else ("", "")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT kind, value, count(*) FROM corr_postings WHERE live=1 AND (kind, value) > (?, ?) "
                "GROUP BY kind, value ORDER BY kind, value LIMIT ?", (kind, value, limit)).fetchall()
        return [(str(k), str(v), int(n)) for k, v, n in rows]

    def values_matching(self, kind: str, glob: str, limit: int) -> list[str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT value FROM corr_postings WHERE kind=? AND live=1 AND value GLOB ? "
                "ORDER BY value LIMIT ?", (kind, glob, limit)).fetchall()
        return [str(r[0]) for r in rows]

    # -- the queue and the lease ---------------------------------------------------------------------------

    @contextmanager
    def correlation_batch(self) -> Iterator[None]:
        """atomic() committed with `synchronous = NORMAL`: no fsync at commit (in WAL mode the database stays
        consistent; a power cut can lose the last commits). Crash-safe for correlation jobs only: what they
        write is derived from records committed with `synchronous = FULL` before the job was queued, and the
        WAL is a log, so a lost batch is lost whole — its removal from the queue with it — and runs again; a
        later FULL commit (a submission) makes every earlier batch durable too.

        The connection that runs correlation jobs also keeps a larger page cache (64 MiB instead of SQLite's
        2 MiB): a job's reads are index ranges spread over the whole index, which at a million submissions
        is far larger than the default cache.

        Its commit does not checkpoint the WAL at SQLite's usual 1,000 pages but only at ten times that (a
        long backlog with no other writer still keeps the WAL bounded): the worker checkpoints when it finds
        the queue empty (correlation_idle), so that neither a job nor a member's request waits for it.

        Inside a transaction already open (atomic()), it is part of that one, which commits as it would."""
        if self._conn().in_transaction:  # SQLite refuses to change the safety level inside a transaction
            with self.atomic():
                yield
            return
        with self._read() as conn:
            level = int(conn.execute("PRAGMA synchronous").fetchone()[0])
            pages = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA cache_size = {CORRELATION_CACHE_KIB}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {pages * 10}")
        try:
            with self.atomic():
                yield
        finally:
            with self._read() as conn:
                conn.execute(f"PRAGMA synchronous = {level}")
                conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")

    def correlation_idle(self) -> None:
        """A passive checkpoint: the WAL's pages copied into the database as far as no reader needs them
        (it waits for no one and blocks no one)."""
        with self._read() as conn:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def enqueue_correlation(self, jobs: Sequence[str], now_us: int) -> None:
        with self._write() as conn:
            conn.executemany("INSERT INTO corr_queue (job, enqueued_us) VALUES (?, ?)", [(j, now_us) for j in jobs])

    def lease_correlation(self, owner: str, now_us: int, until_us: int) -> bool:
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO corr_lease (name, owner, until_us) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "owner = excluded.owner, until_us = excluded.until_us "
                "WHERE corr_lease.owner = excluded.owner OR corr_lease.until_us < ? RETURNING owner",
                (_LEASE, owner, until_us, now_us)).fetchone()
        return row is not None

    def release_correlation(self, owner: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM corr_lease WHERE name=? AND owner=?", (_LEASE, owner))

    def next_correlation_job(self) -> CorrelationJob | None:
        with self._read() as conn:
            row = conn.execute("SELECT seq, job, enqueued_us FROM corr_queue ORDER BY seq LIMIT 1").fetchone()
        return CorrelationJob(int(row[0]), str(row[1]), int(row[2])) if row else None

    def finish_correlation_job(self, seq: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM corr_queue WHERE seq=?", (seq,))

    def correlation_backlog(self) -> tuple[int, int | None]:
        with self._read() as conn:
            count, oldest = conn.execute("SELECT count(*), min(enqueued_us) FROM corr_queue").fetchone()
        return int(count), (int(oldest) if oldest is not None else None)

    # -- candidates ----------------------------------------------------------------------------------------

    def replace_candidates(self, remove: Sequence[str], add: Sequence[StoredCandidate]) -> None:
        with self._write() as conn:
            for cid in (*remove, *(c.id for c in add)):
                conn.execute("DELETE FROM corr_candidates WHERE id=?", (cid,))
                conn.execute("DELETE FROM corr_members WHERE candidate_id=?", (cid,))
                conn.execute("DELETE FROM corr_candidate_values WHERE candidate_id=?", (cid,))
            for c in add:
                conn.execute(
                    "INSERT INTO corr_candidates (id, first_us, last_us, members, doc, evidence) VALUES (?,?,?,?,?,?)",
                    (c.id, c.first_us, c.last_us, orjson.dumps(c.members), c.doc, orjson.dumps(c.evidence)))
                conn.executemany("INSERT OR REPLACE INTO corr_members (submission_id, candidate_id) VALUES (?, ?)",
                                 [(sid, c.id) for sid in c.members])
                conn.executemany(
                    "INSERT OR IGNORE INTO corr_candidate_values (kind, value, candidate_id) VALUES (?, ?, ?)",
                    [(k, v, c.id) for k, v in c.evidence])

    def clear_candidates(self) -> None:
        with self._write() as conn:
            for table in ("corr_candidates", "corr_members", "corr_candidate_values"):
                conn.execute(f"DELETE FROM {table}")

    def candidates_of(self, submission_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._read() as conn:
            for chunk in _chunks(sorted(set(submission_ids))):
                marks = ",".join("?" * len(chunk))
                found.update((str(s), str(c)) for s, c in conn.execute(
                    f"SELECT submission_id, candidate_id FROM corr_members WHERE submission_id IN ({marks})", chunk))
        return found

    def candidates_with_value(self, kind: str, value: str) -> list[str]:
        with self._read() as conn:
            rows = conn.execute("SELECT candidate_id FROM corr_candidate_values WHERE kind=? AND value=? "
                                "ORDER BY candidate_id", (kind, value)).fetchall()
        return [str(r[0]) for r in rows]

    def get_candidate(self, candidate_id: str) -> StoredCandidate | None:
        with self._read() as conn:
            row = conn.execute("SELECT id, first_us, last_us, members, doc, evidence FROM corr_candidates "
                               "WHERE id=?", (candidate_id,)).fetchone()
        return _candidate(row) if row else None

    def list_candidates(self, after: tuple[int, str] | None, limit: int) -> list[StoredCandidate]:
        sql = "SELECT id, first_us, last_us, members, doc, evidence FROM corr_candidates"
        params: tuple[object, ...] = (limit,)
        if after is not None:
            sql += " WHERE last_us < ? OR (last_us = ? AND id > ?)"
            params = (after[0], after[0], after[1], limit)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY last_us DESC, id LIMIT ?", params).fetchall()
        return [_candidate(r) for r in rows]

    def count_candidates(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM corr_candidates").fetchone()[0])

    # -- exclusions, splits and merges -----------------------------------------------------------------------

    def add_exclusion(self, exclusion: Exclusion) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO corr_exclusions (id, at_us, doc) VALUES (?, ?, ?)",
                         (exclusion.id, exclusion.at_us, orjson.dumps(exclusion)))

    def remove_exclusion(self, exclusion_id: str) -> Exclusion | None:
        with self._write() as conn:
            row = conn.execute("DELETE FROM corr_exclusions WHERE id=? RETURNING doc", (exclusion_id,)).fetchone()
        return Exclusion(**orjson.loads(row[0])) if row else None

    def list_exclusions(self) -> list[Exclusion]:
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM corr_exclusions ORDER BY at_us, id").fetchall()
        return [Exclusion(**orjson.loads(r[0])) for r in rows]

    def add_override(self, override: Override) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO corr_overrides (id, at_us, doc) VALUES (?, ?, ?)",
                         (override.id, override.at_us, orjson.dumps(override)))
            conn.executemany("INSERT OR IGNORE INTO corr_override_members (submission_id, override_id) VALUES (?, ?)",
                             [(sid, override.id) for sid in {*override.side_a, *override.side_b}])

    def overrides_of(self, submission_ids: Sequence[str]) -> list[Override]:
        found: dict[str, tuple[int, bytes]] = {}
        with self._read() as conn:
            for chunk in _chunks(sorted(set(submission_ids))):
                marks = ",".join("?" * len(chunk))
                for oid, at_us, doc in conn.execute(
                        "SELECT o.id, o.at_us, o.doc FROM corr_override_members m JOIN corr_overrides o "
                        f"ON o.id = m.override_id WHERE m.submission_id IN ({marks})", chunk):
                    found[str(oid)] = (int(at_us), bytes(doc))
        return [_override(doc) for _, (_, doc) in sorted(found.items(), key=lambda kv: (kv[1][0], kv[0]))]

    def list_overrides(self) -> list[Override]:
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM corr_overrides ORDER BY at_us, id").fetchall()
        return [_override(bytes(r[0])) for r in rows]


def _insert_postings(conn: sqlite3.Connection, postings: Sequence[Posting]) -> None:
    conn.executemany(
        f"INSERT OR REPLACE INTO corr_postings ({_POSTING_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
        [(p.kind, p.value, p.submission_id, p.org_id, p.first_us, p.last_us, int(p.live)) for p in postings])


def _posting(row: Sequence[Any]) -> Posting:
    # the columns are declared TEXT and INTEGER NOT NULL: sqlite3 returns str and int (no conversion: this
    # runs for every posting a correlation job reads)
    kind, value, sid, org, first, last, live = row
    return Posting(kind, value, sid, org, first, last, live == 1)


def _candidate(row: Sequence[Any]) -> StoredCandidate:
    cid, first, last, members, doc, evidence = row
    return StoredCandidate(str(cid), int(first), int(last), tuple(orjson.loads(members)), bytes(doc),
                           tuple((str(k), str(v)) for k, v in orjson.loads(evidence)))


def _override(doc: bytes) -> Override:
    values = orjson.loads(doc)
    values["side_a"], values["side_b"] = tuple(values["side_a"]), tuple(values["side_b"])
    return Override(**values)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[n:n + size] for n in range(0, len(items), size)]
