"""The hub's own records on MongoDB: statuses, organisations and credentials, meta, submissions, publications
and audit entries, with their part of bulk transfer.

Each record is one document, written with one single-document operation (so a crash leaves either the old or
the new document, never half of one), under the connection's majority write concern; status reads use read
concern majority, so a status never shows what a failover could roll back. Must not: touch object versions
(mongo.py) or let a driver error escape (every method runs inside `guard`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..errors import Conflict, StorageUnavailable
from ..model import (
    AuditEntry,
    ConsoleSession,
    Credential,
    Organisation,
    Publication,
    Status,
    Submission,
    SubmissionContent,
)
from .documents import (
    publication_from_doc,
    publication_to_doc,
    status_from_doc,
    status_to_doc,
    submission_from_doc,
    submission_to_doc,
)
from .mongo_arrivals import MongoArrivals, with_position
from .mongo_connection import Doc

# (collection, index keys, unique). Statuses expire by `created`; credentials are found by their hash.
RECORD_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("statuses", (("created", ASCENDING),), False),
    ("credentials", (("sha", ASCENDING),), True),
    ("credentials", (("org", ASCENDING), ("created", ASCENDING)), False),
    ("submissions", (("org", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)), False),
    ("submissions", (("at", ASCENDING), ("_id", ASCENDING)), False),
    ("publications", (("created", ASCENDING), ("_id", ASCENDING)), False),
    ("audit", (("seq", ASCENDING),), True),
    ("audit", (("at", ASCENDING), ("seq", ASCENDING)), False),
    ("console_sessions", (("seen", ASCENDING),), False),
)


class MongoRecords(MongoArrivals):
    # -- meta ----------------------------------------------------------------------------------------------

    def get_or_create_meta(self, key: str, value: str) -> str:
        with self.guard("read meta"):
            meta = self._coll("meta")
            found = meta.find_one({"_id": key})
            if found is None:
                try:
                    meta.insert_one({"_id": key, "value": value})
                except DuplicateKeyError:  # another process created it first: theirs stands
                    pass
                found = meta.find_one({"_id": key})
        return str(found["value"]) if found else value

    def export_meta(self) -> dict[str, str]:
        with self.guard("read meta"):
            return {str(d["_id"]): str(d["value"]) for d in self._coll("meta").find().sort("_id", ASCENDING)}

    def import_meta(self, key: str, value: str) -> None:
        with self.guard("write meta"):
            self._coll("meta").replace_one({"_id": key}, {"_id": key, "value": value}, upsert=True)

    # -- console sessions ------------------------------------------------------------------------------------

    def save_session(self, session: ConsoleSession) -> None:
        doc = {"_id": session.id, "seen": session.seen_us, "doc": dict(session.__dict__)}
        with self.guard("save a console session"):
            self._coll("console_sessions").replace_one({"_id": session.id}, doc, upsert=True)

    def get_session(self, session_id: str) -> ConsoleSession | None:
        with self.guard("read a console session"):
            doc = self._coll("console_sessions").find_one({"_id": session_id})
        return ConsoleSession(**doc["doc"]) if doc else None

    def delete_session(self, session_id: str) -> None:
        with self.guard("end a console session"):
            self._coll("console_sessions").delete_one({"_id": session_id})

    def purge_sessions(self, seen_before_us: int) -> int:
        with self.guard("purge console sessions"):
            return int(self._coll("console_sessions").delete_many({"seen": {"$lt": seen_before_us}}).deleted_count)

    # -- statuses ------------------------------------------------------------------------------------------

    def save_status(self, status: Status) -> None:
        doc = {"_id": status.id, "created": status.request_timestamp_us, "body": status_to_doc(status)}
        with self.guard("save a status"):
            self._coll("statuses").replace_one({"_id": status.id}, doc, upsert=True)

    def get_status(self, status_id: str) -> Status | None:
        with self.guard("read a status"):
            doc = self._coll("statuses").find_one({"_id": status_id})
        return status_from_doc(doc["body"]) if doc else None

    def purge_statuses(self, older_than_us: int) -> int:
        with self.guard("purge statuses"):
            return int(self._coll("statuses").delete_many({"created": {"$lt": older_than_us}}).deleted_count)

    def export_statuses(self, after_id: str | None, limit: int) -> list[Status]:
        with self.guard("read statuses"):
            docs = self._coll("statuses").find({"_id": {"$gt": after_id or ""}}).sort("_id", ASCENDING).limit(limit)
            return [status_from_doc(d["body"]) for d in docs]

    # -- organisations and credentials ---------------------------------------------------------------------

    def add_organisation(self, org: Organisation) -> None:
        with self.guard("add an organisation"):
            try:
                self._coll("organisations").insert_one(_org_doc(org, None))
            except DuplicateKeyError:
                raise Conflict(f"organisation {org.id!r} already exists") from None

    def update_organisation(self, org: Organisation) -> bool:
        with self.guard("update an organisation"):
            found = self._coll("organisations").update_one({"_id": org.id}, {"$set": _org_fields(org)})
            return int(found.matched_count) == 1

    def get_organisation(self, org_id: str) -> Organisation | None:
        with self.guard("read an organisation"):
            doc = self._coll("organisations").find_one({"_id": org_id})
        return _org(doc) if doc else None

    def list_organisations(self) -> list[Organisation]:
        with self.guard("list organisations"):
            return [_org(d) for d in self._coll("organisations").find().sort("_id", ASCENDING)]

    def set_password(self, org_id: str, password_hash: str | None) -> None:
        with self.guard("set a password"):
            self._coll("organisations").update_one({"_id": org_id}, {"$set": {"pw": password_hash}})

    def get_password(self, org_id: str) -> str | None:
        with self.guard("read a password"):
            doc = self._coll("organisations").find_one({"_id": org_id}, {"pw": 1})
        return doc.get("pw") if doc else None

    def add_credential(self, credential: Credential, secret_sha256: str) -> None:
        with self.guard("add a credential"):
            self._coll("credentials").insert_one(_cred_doc(credential, secret_sha256))

    def find_credential(self, secret_sha256: str) -> tuple[Credential, Organisation] | None:
        with self.guard("find a credential"):
            cred = self._coll("credentials").find_one({"sha": secret_sha256, "revoked": None})
            org = self._coll("organisations").find_one({"_id": cred["org"]}) if cred else None
        return (_cred(cred), _org(org)) if cred and org else None

    def list_credentials(self, org_id: str | None = None) -> list[Credential]:
        query = {} if org_id is None else {"org": org_id}
        with self.guard("list credentials"):
            docs = self._coll("credentials").find(query).sort([("created", ASCENDING), ("_id", ASCENDING)])
            return [_cred(d) for d in docs]

    def revoke_credential(self, credential_id: str, when: str) -> bool:
        with self.guard("revoke a credential"):
            done = self._coll("credentials").update_one(
                {"_id": credential_id, "revoked": None}, {"$set": {"revoked": when}}
            )
        return done.modified_count == 1

    def export_credentials(self) -> list[tuple[Credential, str]]:
        with self.guard("list credentials"):
            docs = self._coll("credentials").find().sort([("created", ASCENDING), ("_id", ASCENDING)])
            return [(_cred(d), str(d["sha"])) for d in docs]

    def import_organisation(self, org: Organisation, password_hash: str | None) -> None:
        with self.guard("write an organisation"):
            self._coll("organisations").replace_one({"_id": org.id}, _org_doc(org, password_hash), upsert=True)

    def import_credential(self, credential: Credential, secret_sha256: str) -> None:
        with self.guard("write a credential"):
            self._coll("credentials").replace_one(
                {"_id": credential.id}, _cred_doc(credential, secret_sha256), upsert=True
            )

    # -- the sharing workflow ------------------------------------------------------------------------------

    def add_submission(self, submission: Submission, content: SubmissionContent) -> None:
        # The content first: a submission document is only ever visible with its content stored.
        with self.guard("add a submission"):
            self._coll("submission_contents").replace_one(
                {"_id": submission.id}, _content_doc(submission.id, content), upsert=True
            )
            submissions = self._coll("submissions")
            self._arrive(lambda n: submissions.insert_one(with_position(_submission_doc(submission), n)),
                         lambda n: submissions.update_one({"_id": submission.id}, {"$set": {"n": n}}))

    def import_submission(self, submission: Submission, content: SubmissionContent) -> None:
        with self.guard("write a submission"):
            self._coll("submission_contents").replace_one(
                {"_id": submission.id}, _content_doc(submission.id, content), upsert=True
            )
            submissions = self._coll("submissions")
            self._arrive(lambda n: submissions.replace_one({"_id": submission.id},
                                                           with_position(_submission_doc(submission), n), upsert=True),
                         lambda n: submissions.update_one({"_id": submission.id}, {"$set": {"n": n}}))

    def update_submission(self, submission: Submission) -> None:
        with self.guard("update a submission"):
            self._coll("submissions").update_one(
                {"_id": submission.id}, {"$set": {"doc": submission_to_doc(submission)}}
            )

    def get_submission(self, submission_id: str) -> Submission | None:
        with self.guard("read a submission"):
            doc = self._coll("submissions").find_one({"_id": submission_id})
        return submission_from_doc(doc["doc"]) if doc else None

    def get_submission_content(self, submission_id: str) -> SubmissionContent | None:
        with self.guard("read a submission"):
            if self._coll("submissions").find_one({"_id": submission_id}, {"_id": 1}) is None:
                return None
            doc = self._coll("submission_contents").find_one({"_id": submission_id})
        return SubmissionContent(bytes(doc["raw"]), bytes(doc["records"]), bytes(doc["draft"])) if doc else None

    def list_submissions(self, org_id: str | None = None) -> list[Submission]:
        query = {} if org_id is None else {"org": org_id}
        with self.guard("list submissions"):
            docs = self._coll("submissions").find(query).sort([("at", ASCENDING), ("_id", ASCENDING)])
            return [submission_from_doc(d["doc"]) for d in docs]

    def save_publication(self, publication: Publication, bundle: bytes) -> None:
        doc = {"_id": publication.id, "created": publication.created_us, "doc": publication_to_doc(publication),
               "bundle": bundle}
        with self.guard("save a publication"):
            self._coll("publications").replace_one({"_id": publication.id}, doc, upsert=True)

    def get_publication(self, publication_id: str) -> tuple[Publication, bytes] | None:
        with self.guard("read a publication"):
            doc = self._coll("publications").find_one({"_id": publication_id})
        return (publication_from_doc(doc["doc"]), bytes(doc["bundle"])) if doc else None

    def list_publications(self) -> list[Publication]:
        with self.guard("list publications"):
            docs = self._coll("publications").find({}, {"bundle": 0}).sort([("created", ASCENDING), ("_id", ASCENDING)])
            return [publication_from_doc(d["doc"]) for d in docs]

    def add_audit(self, entry: AuditEntry) -> None:
        with self.guard("write an audit entry"):
            self._coll("audit").insert_one(_audit_doc(entry, self._next_audit_seq()))

    def list_audit(self, since_us: int | None = None, limit: int = 1000) -> list[AuditEntry]:
        query = {} if since_us is None else {"at": {"$gte": since_us}}
        with self.guard("read the audit log"):
            return [_audit(d) for d in self._coll("audit").find(query).sort("seq", ASCENDING).limit(limit)]

    def export_audit(self, after_id: str | None, limit: int) -> list[AuditEntry]:
        with self.guard("read the audit log"):
            audit = self._coll("audit")
            after = audit.find_one({"_id": after_id}, {"seq": 1}) if after_id is not None else None
            docs = audit.find({"seq": {"$gt": after["seq"] if after else 0}}).sort("seq", ASCENDING).limit(limit)
            return [_audit(d) for d in docs]

    def import_audit(self, entries: Sequence[AuditEntry]) -> None:
        with self.guard("write the audit log"):
            audit = self._coll("audit")
            for entry in entries:
                if audit.find_one({"_id": entry.id}, {"_id": 1}) is None:
                    try:
                        audit.insert_one(_audit_doc(entry, self._next_audit_seq()))
                    except DuplicateKeyError:
                        pass

    def _next_audit_seq(self) -> int:
        """Audit entries keep the order they were added in: a counter, incremented atomically."""
        doc = self._coll("counters").find_one_and_update(
            {"_id": "audit"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        if doc is None:  # cannot happen with upsert and ReturnDocument.AFTER
            raise StorageUnavailable("the audit counter could not be read; retry")
        return int(doc["n"])


def _org_doc(org: Organisation, password_hash: str | None) -> Doc:
    return {"_id": org.id, **_org_fields(org), "created": org.created, "pw": password_hash}


def _org_fields(org: Organisation) -> Doc:
    """What `update_organisation` replaces: everything but the id, the creation time and the password."""
    return {"name": org.name, "grp": org.group, "roles": list(org.roles), "aliases": list(org.aliases),
            "domains": list(org.domains)}


def _org(doc: Doc) -> Organisation:
    # aliases and domains arrived with schema 3; documents written before have neither
    return Organisation(doc["_id"], doc["name"], doc["grp"], tuple(doc["roles"]), doc["created"],
                        tuple(doc.get("aliases", ())), tuple(doc.get("domains", ())))


def _cred_doc(c: Credential, secret_sha256: str) -> Doc:
    return {"_id": c.id, "org": c.org_id, "label": c.label, "sha": secret_sha256, "created": c.created,
            "revoked": c.revoked}


def _cred(doc: Doc) -> Credential:
    return Credential(doc["_id"], doc["org"], doc["label"], doc["created"], doc.get("revoked"))


def _submission_doc(s: Submission) -> Doc:
    return {"_id": s.id, "org": s.org_id, "at": s.received_at_us, "doc": submission_to_doc(s)}


def _content_doc(submission_id: str, c: SubmissionContent) -> Doc:
    return {"_id": submission_id, "raw": c.raw, "records": c.records, "draft": c.draft}


def _audit_doc(e: AuditEntry, seq: int) -> Doc:
    return {"_id": e.id, "seq": seq, "at": e.at_us, "actor": e.actor, "action": e.action, "target": e.target,
            "details": e.details}


def _audit(doc: Doc) -> AuditEntry:
    return AuditEntry(doc["_id"], doc["at"], doc["actor"], doc["action"], doc["target"], doc["details"])


__all__ = ["RECORD_INDEXES", "MongoRecords"]
