"""The client-certificate records on MongoDB: one document per certificate in `client_certificates`, keyed by
serial ({_id: serial, org, subject, sha256, nb, na, issued, revoked}). A mixin of MongoStore.

Each write is one single-document operation under the connection's majority write concern, so a revocation
is durable once acknowledged and seen by every instance. Must not: hold anything but certificate records, or
let a driver error escape (every method runs inside `guard`).
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from ..errors import Conflict
from ..model import ClientCertificate
from .mongo_connection import Doc, MongoConnection

# (collection, index keys, unique): an organisation's certificates in issue order.
CERTIFICATE_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("client_certificates", (("org", ASCENDING), ("issued", ASCENDING)), False),
)


class MongoCertificates(MongoConnection):
    def add_certificate(self, certificate: ClientCertificate) -> None:
        with self.guard("add a client certificate"):
            try:
                self._coll("client_certificates").insert_one(_doc(certificate))
            except DuplicateKeyError:
                raise Conflict(f"a client certificate with serial {certificate.serial} is already recorded") from None

    def get_certificate(self, serial: str) -> ClientCertificate | None:
        with self.guard("read a client certificate"):
            doc = self._coll("client_certificates").find_one({"_id": serial})
        return _certificate(doc) if doc else None

    def list_certificates(self, org_id: str | None = None) -> list[ClientCertificate]:
        query = {} if org_id is None else {"org": org_id}
        with self.guard("list client certificates"):
            docs = self._coll("client_certificates").find(query).sort([("issued", ASCENDING), ("_id", ASCENDING)])
            return [_certificate(d) for d in docs]

    def revoke_certificate(self, serial: str, when: str) -> bool:
        with self.guard("revoke a client certificate"):
            done = self._coll("client_certificates").update_one(
                {"_id": serial, "revoked": None}, {"$set": {"revoked": when}}
            )
        return done.modified_count == 1

    def import_certificate(self, certificate: ClientCertificate) -> None:
        with self.guard("write a client certificate"):
            self._coll("client_certificates").replace_one(
                {"_id": certificate.serial}, _doc(certificate), upsert=True
            )


def _doc(c: ClientCertificate) -> Doc:
    return {"_id": c.serial, "org": c.org_id, "subject": c.subject, "sha256": c.sha256, "nb": c.not_before,
            "na": c.not_after, "issued": c.issued, "revoked": c.revoked}


def _certificate(doc: Doc) -> ClientCertificate:
    return ClientCertificate(doc["_id"], doc["org"], doc["subject"], doc["sha256"], doc["nb"], doc["na"],
                             doc["issued"], doc.get("revoked"))


__all__ = ["CERTIFICATE_INDEXES", "MongoCertificates"]
