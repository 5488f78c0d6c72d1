"""The hub's own records on SQLite: statuses, submissions, publications, audit entries and console sessions.

Must not: touch object versions (sqlite_objects.py) or accounts (sqlite_accounts.py), or open connections
of its own.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..model import AuditEntry, ConsoleSession, Publication, Status, Submission, SubmissionContent
from .documents import (
    publication_from_doc,
    publication_to_doc,
    status_from_doc,
    status_to_doc,
    submission_from_doc,
    submission_to_doc,
)
from .sqlite_connection import SQLiteConnection

# A submission's position in the order submissions were stored (`submissions_arrived_after`): computed inside
# the write transaction, under the database's write lock, so positions only grow (no submission is deleted).
NEXT_ARRIVAL = "(SELECT COALESCE(MAX(arrival), 0) + 1 FROM submissions)"


def insert_submission(conn: Any, submission: Submission, content: SubmissionContent, verb: str = "INSERT") -> None:
    """One submission row with its content, next in arrival order (`verb`: "INSERT OR REPLACE" to import)."""
    conn.execute(
        f"{verb} INTO submissions (id, org_id, received_at_us, doc, raw, records, draft, arrival) "
        f"VALUES (?,?,?,?,?,?,?,{NEXT_ARRIVAL})",
        (submission.id, submission.org_id, submission.received_at_us,
         orjson.dumps(submission_to_doc(submission)), content.raw, content.records, content.draft),
    )


class SQLiteRecords(SQLiteConnection):
    # -- statuses ------------------------------------------------------------------------------------------

    def save_status(self, status: Status) -> None:
        body = orjson.dumps(status_to_doc(status))
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO statuses (id, created_us, body) VALUES (?,?,?)",
                (status.id, status.request_timestamp_us, body),
            )

    def get_status(self, status_id: str) -> Status | None:
        with self._read() as conn:
            row = conn.execute("SELECT body FROM statuses WHERE id=?", (status_id,)).fetchone()
        return status_from_doc(orjson.loads(row[0])) if row else None

    def purge_statuses(self, older_than_us: int) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM statuses WHERE created_us < ?", (older_than_us,)).rowcount
    # -- the sharing workflow ------------------------------------------------------------------------------

    def add_submission(self, submission: Submission, content: SubmissionContent) -> None:
        with self._write() as conn:
            insert_submission(conn, submission, content)

    def update_submission(self, submission: Submission) -> None:
        with self._write() as conn:
            conn.execute("UPDATE submissions SET doc=? WHERE id=?",
                         (orjson.dumps(submission_to_doc(submission)), submission.id))

    def get_submission(self, submission_id: str) -> Submission | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return submission_from_doc(orjson.loads(row[0])) if row else None

    def get_submission_content(self, submission_id: str) -> SubmissionContent | None:
        with self._read() as conn:
            row = conn.execute("SELECT raw, records, draft FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return SubmissionContent(bytes(row[0]), bytes(row[1]), bytes(row[2])) if row else None

    def submissions_arrived_after(self, position: int, limit: int) -> list[tuple[int, Submission]]:
        with self._read() as conn:
            rows = conn.execute("SELECT arrival, doc FROM submissions WHERE arrival > ? ORDER BY arrival LIMIT ?",
                                (position, limit)).fetchall()
        return [(int(r[0]), submission_from_doc(orjson.loads(r[1]))) for r in rows]

    def list_submissions(self, org_id: str | None = None) -> list[Submission]:
        sql = "SELECT doc FROM submissions"
        params: tuple[str, ...] = ()
        if org_id is not None:
            sql += " WHERE org_id=?"
            params = (org_id,)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY received_at_us, id", params).fetchall()
        return [submission_from_doc(orjson.loads(r[0])) for r in rows]

    def save_publication(self, publication: Publication, bundle: bytes) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO publications (id, created_us, doc, bundle) VALUES (?,?,?,?)",
                (publication.id, publication.created_us, orjson.dumps(publication_to_doc(publication)), bundle),
            )

    def get_publication(self, publication_id: str) -> tuple[Publication, bytes] | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc, bundle FROM publications WHERE id=?", (publication_id,)).fetchone()
        return (publication_from_doc(orjson.loads(row[0])), bytes(row[1])) if row else None

    def list_publications(self) -> list[Publication]:
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM publications ORDER BY created_us, id").fetchall()
        return [publication_from_doc(orjson.loads(r[0])) for r in rows]

    def add_audit(self, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO audit (id, at_us, actor, action, target, details) VALUES (?,?,?,?,?,?)",
                (entry.id, entry.at_us, entry.actor, entry.action, entry.target, entry.details),
            )

    def list_audit(self, since_us: int | None = None, limit: int = 1000) -> list[AuditEntry]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, at_us, actor, action, target, details FROM audit WHERE at_us >= ? ORDER BY seq LIMIT ?",
                (since_us if since_us is not None else -1, limit),
            ).fetchall()
        return [AuditEntry(*r) for r in rows]


    # -- console sessions ------------------------------------------------------------------------------------

    def save_session(self, session: ConsoleSession) -> None:
        doc = orjson.dumps(session.__dict__)
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO console_sessions (id, org_id, seen_us, doc) VALUES (?,?,?,?)",
                         (session.id, session.org_id, session.seen_us, doc))

    def get_session(self, session_id: str) -> ConsoleSession | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc FROM console_sessions WHERE id=?", (session_id,)).fetchone()
        return ConsoleSession(**orjson.loads(row[0])) if row else None

    def delete_session(self, session_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM console_sessions WHERE id=?", (session_id,))

    def purge_sessions(self, seen_before_us: int) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM console_sessions WHERE seen_us < ?", (seen_before_us,)).rowcount
