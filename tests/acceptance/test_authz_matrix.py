"""The generated authorisation matrix: every TAXII, /hub/v1 and feed endpoint × every kind of caller × an existing and
a nonexistent resource (spec/security.md T1, T3; the pattern of arango_taxii_server's per-role suites).

The endpoints come from the application's URL map, not from a list in this file: a route of the `taxii`, `hub_api`
or `feeds_api` blueprint (each kind of feed is a row of its own) that EXPECTED does not classify fails
`test_every_endpoint_is_in_the_matrix`. For each endpoint the table gives, per kind of caller, the status for an
existing resource and for a nonexistent one. Whenever both answers are the same error, they must be byte-identical
in body and headers: a caller who may not see a resource cannot tell it from one that does not exist, and a
refusal never depends on the resource.

Kinds of caller, relative to collection CA and to organisation A's resources (tests/support/acceptance_hub.py):
the owner (A), a reader, a writer-only organisation, an outsider, a hub analyst, no credentials, A's revoked key, and
A's expired and revoked client certificates (presented the way gunicorn's TLS socket presents a verified one).
"""

from __future__ import annotations

import base64
import datetime
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from werkzeug.test import TestResponse

from taxii_server.accounts import OPERATOR
from taxii_server.certificates import ClientCertificates
from taxii_server.tls import ensure_development_tls
from tests.support.acceptance_hub import (
    ANALYST,
    CA,
    OUTSIDER,
    READER,
    WRITER,
    A,
    AcceptanceHub,
    B,
    build,
    valid,
)
from tests.support.hubtest import MT, ROOT, new_id

KINDS = ("owner", "reader", "writer", "outsider", "analyst", "anonymous", "revoked", "expired-cert",
         "revoked-cert")
CERT_KINDS = ("expired-cert", "revoked-cert")
ORG_OF: dict[str, str | None] = {"owner": A, "reader": READER, "writer": WRITER, "outsider": OUTSIDER,
                                 "analyst": ANALYST, "anonymous": None, "revoked": A, "expired-cert": A,
                                 "revoked-cert": A}


class PeerSocket:
    """What the application sees of gunicorn's TLS socket: the DER certificate the client presented."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    def getpeercert(self, binary_form: bool = False) -> bytes:
        return self.der
SENDERS = iter(f"sender-{n}@attacker.example" for n in range(1_000_000))
# Each request comes from its own client address, so the failed-authentication throttle (429, its own tests)
# never stands in for the answer the matrix is about.
ADDRESSES = iter(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(1, 1 << 24))


@dataclass
class World:
    """What exists: A's object, status and submission, a campaign candidate, a publication; a revoked key."""

    acc: AcceptanceHub
    revoked_key: str
    object_id: str
    status_id: str
    submission_id: str
    candidate_id: str
    publication_id: str
    certificates: dict[str, bytes] | None = None
    other_candidate_id: str = ""

    def headers(self, kind: str, json_api: bool) -> dict[str, str]:
        headers = {"Accept": "application/json" if json_api else MT}
        if kind in CERT_KINDS:
            return headers  # the certificate alone speaks for the caller
        org = ORG_OF[kind]
        secret = self.revoked_key if kind == "revoked" else self.acc.keys[org] if org else None
        if org is not None and secret is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{org}:{secret}".encode()).decode()
        return headers

    # -- resources made afresh for requests that consume them -----------------------------------------------

    def fresh_object(self) -> str:
        object_id = new_id("indicator")
        assert self.acc.post(CA, [valid(object_id)]).status_code == 202
        return object_id

    def fresh_submission(self, org: str = A) -> str:
        response = self.acc.client().post("/hub/v1/submissions", data=orjson.dumps(record(org, next(SENDERS))),
                                          headers={**self.acc.auth(org), "Content-Type": "application/json",
                                                   "Accept": "application/json"})
        assert response.status_code == 202, response.data
        return str(response.json["id"])

    def fresh_exclusion(self) -> str:
        analyst = self.acc.accounts.store.get_organisation(ANALYST)
        assert analyst is not None
        return self.acc.app.extensions["taxii_hub"].hub.campaigns.exclude(
            analyst.principal(), "c2-domain", f"{uuid.uuid4().hex}.example", "sinkhole").id

    def candidate_submission(self) -> str:
        found = self.acc.client().get(f"/hub/v1/campaign-candidates/{self.candidate_id}",
                                      headers=self.headers("analyst", True))
        return str(found.json["submissions"][0])


def record(reporter: str, sender: str) -> dict[str, Any]:
    """An incident-record/1 report of one attack mail by `reporter`."""
    sent_at = "2024-05-01T09:00:00Z"
    return {
        "format": "incident-record/1", "id": f"rec-{uuid.uuid4().hex[:12]}", "reporter": reporter,
        "reported_at": sent_at, "tlp": "amber", "lang": "en", "title": "invoice",
        "messages": [{"ref": "#1", "role": "attack", "sent_at": sent_at, "from": {"address": sender},
                      "to": [{"address": f"soc@{reporter}.example"}], "subject": "invoice", "body": "see attached"}],
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    acc = build(tmp_path_factory.mktemp("matrix"))
    revoked = acc.accounts.create_key(OPERATOR, A, "to be revoked")
    acc.accounts.revoke_key(OPERATOR, revoked.credential.id)
    made = World(acc, revoked.secret, "", "", "", "", "", _certificates(acc))
    made.object_id = made.fresh_object()
    made.status_id = str(acc.post(CA, [valid()]).json["id"])
    made.submission_id = made.fresh_submission()
    made.fresh_submission(B)  # no candidate yet: a different sender
    # Two campaign candidates: A and B report mail from the same sender, twice.
    for sender in ("boss@campaign.example", "chief@other-campaign.example"):
        for org in (A, B):
            response = acc.client().post("/hub/v1/submissions", data=orjson.dumps(record(org, sender)),
                                         headers={**acc.auth(org), "Content-Type": "application/json"})
            assert response.status_code == 202, response.data
    analyst = {**acc.auth(ANALYST), "Accept": "application/json"}
    acc.app.extensions["taxii_hub"].hub.campaigns.drain()  # what the correlation worker does in the background
    candidate, other = acc.client().get("/hub/v1/campaign-candidates", headers=analyst).json["candidates"]
    made.candidate_id, made.other_candidate_id = candidate["id"], other["id"]
    published = acc.client().post("/hub/v1/publications", headers={**analyst, "Content-Type": "application/json"},
                                  data=orjson.dumps(publication_request(made.fresh_submission())))
    assert published.status_code == 201, published.data
    made.publication_id = published.json["id"]
    yield made
    acc.store.close()


def _certificates(acc: AcceptanceHub) -> dict[str, bytes]:
    """A's certificate that expired yesterday, and A's certificate that was revoked, both hub-issued."""
    ensure_development_tls(acc.settings.ca_cert.parent)
    issuer = ClientCertificates(acc.store, acc.settings.ca_cert.parent)
    expired = issuer.issue(OPERATOR, A, days=1, not_before=datetime.datetime.now(datetime.UTC)
                           - datetime.timedelta(days=3))
    revoked = issuer.issue(OPERATOR, A)
    issuer.revoke(OPERATOR, revoked.record.serial)

    def der(pem: bytes) -> bytes:
        return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)

    return {"expired-cert": der(expired.cert_pem), "revoked-cert": der(revoked.cert_pem)}


def publication_request(submission_id: str) -> dict[str, Any]:
    return {"submissions": [submission_id], "name": "Invoice lure", "tlp": "amber", "collections": [CA]}


# -- requests: (method, path, JSON body or None) for the existing and the nonexistent resource --------------

Request = tuple[str, str, Any]
Build = Callable[[World, bool], Request]
NOWHERE = "6f0c2a6e-0000-4000-8000-000000000000"
FEED_RESOURCES = ("ipv4.txt", "url.txt?format=fortigate", "indicators.csv", "indicators.csv?since=2020-01-01T00:00:00Z",
                  "bundle.json", "misp/manifest.json", "misp/hashes.csv")


def _taxii(method: str, template: str, body: Callable[[World], Any] | None = None) -> Build:
    """A TAXII request on CA (or a collection that does not exist), on object O (or an unknown object)."""
    def make(w: World, exists: bool) -> Request:
        object_id = (w.fresh_object() if method == "DELETE" else w.object_id) if exists else new_id("indicator")
        path = template.format(root=ROOT if exists else "no-such-root", c=CA if exists else NOWHERE,
                               o=object_id, s=w.status_id if exists else NOWHERE)
        if "{o}" in template:  # object endpoints: the object is missing, the collection is the same
            path = template.format(root=ROOT, c=CA, o=object_id, s="")
        return method, path, body(w) if body else None
    return make


def _hub(method: str, template: str, body: Callable[[World, bool], Any] | None = None,
         fresh: Callable[[World], str] | None = None, existing: Callable[[World], str] | None = None) -> Build:
    def make(w: World, exists: bool) -> Request:
        resource = (fresh(w) if fresh else existing(w) if existing else "") if exists else NOWHERE
        return method, "/hub/v1" + template.format(id=resource), body(w, exists) if body else None
    return make


def _feed(resource: str) -> Build:
    """A feed of CA (or of a collection that does not exist) under /hub/v1/feeds/."""
    def make(w: World, exists: bool) -> Request:
        return "GET", f"/hub/v1/feeds/{CA if exists else NOWHERE}/{resource}", None
    return make


def _envelope(w: World) -> Any:
    return {"objects": [valid()]}


def _own_record(w: World, exists: bool) -> Any:
    return None  # the submission body depends on the caller; see _send


ENDPOINTS: dict[str, tuple[Build, bool]] = {
    # name: (request builder, whether the answer is the hub API's JSON)
    "taxii.discovery": (_taxii("GET", "/taxii2/"), False),
    "taxii.api_root": (_taxii("GET", "/{root}/"), False),
    "taxii.status": (_taxii("GET", "/" + ROOT + "/status/{s}/"), False),
    "taxii.collections": (_taxii("GET", "/{root}/collections/"), False),
    "taxii.collection": (_taxii("GET", "/" + ROOT + "/collections/{c}/"), False),
    "taxii.manifest": (_taxii("GET", "/" + ROOT + "/collections/{c}/manifest/"), False),
    "taxii.get_objects": (_taxii("GET", "/" + ROOT + "/collections/{c}/objects/"), False),
    "taxii.add_objects": (_taxii("POST", "/" + ROOT + "/collections/{c}/objects/", _envelope), False),
    "taxii.get_object": (_taxii("GET", "/" + ROOT + "/collections/{c}/objects/{o}/"), False),
    "taxii.delete_object": (_taxii("DELETE", "/" + ROOT + "/collections/{c}/objects/{o}/"), False),
    "taxii.versions": (_taxii("GET", "/" + ROOT + "/collections/{c}/objects/{o}/versions/"), False),
    "hub_api.submit": (_hub("POST", "/submissions", _own_record), True),
    "hub_api.list_submissions": (_hub("GET", "/submissions"), True),
    "hub_api.get_submission": (_hub("GET", "/submissions/{id}", existing=lambda w: w.submission_id), True),
    "hub_api.dismiss": (_hub("POST", "/submissions/{id}/dismissal", lambda w, e: {"reason": "spam"},
                             fresh=World.fresh_submission), True),
    "hub_api.candidates": (_hub("GET", "/campaign-candidates"), True),
    "hub_api.candidate": (_hub("GET", "/campaign-candidates/{id}", existing=lambda w: w.candidate_id), True),
    "hub_api.split": (_hub("POST", "/campaign-candidates/{id}/split", lambda w, e: {
        "submissions": [w.candidate_submission()], "reason": "another actor"},
        existing=lambda w: w.candidate_id), True),
    "hub_api.merge": (_hub("POST", "/campaign-candidates/{id}/merge", lambda w, e: {
        "with": w.other_candidate_id, "reason": "one actor"}, existing=lambda w: w.candidate_id), True),
    "hub_api.exclusions": (_hub("GET", "/correlation-exclusions"), True),
    "hub_api.exclude": (_hub("POST", "/correlation-exclusions", lambda w, e: {
        "kind": "c2-domain" if e else "no-such-kind", "value": f"{uuid.uuid4().hex}.example", "reason": "sinkhole"}),
        True),
    "hub_api.include": (_hub("POST", "/correlation-exclusions/{id}/removal", lambda w, e: {"reason": "withdrawn"},
                             fresh=World.fresh_exclusion), True),
    "hub_api.publish": (_hub("POST", "/publications", lambda w, e: publication_request(
        w.fresh_submission() if e else NOWHERE)), True),
    "hub_api.publications": (_hub("GET", "/publications"), True),
    "hub_api.publication": (_hub("GET", "/publications/{id}", existing=lambda w: w.publication_id), True),
    "hub_api.approve": (_hub("POST", "/publications/{id}/approval", existing=lambda w: w.publication_id), True),
    "hub_api.revoke": (_hub("POST", "/revocations", lambda w, e: {"id": w.fresh_object() if e else new_id(
        "indicator")}), True),
    "hub_api.stats": (_hub("GET", "/stats"), True),
    "hub_api.polls": (_hub("GET", "/polls"), True),
    "hub_api.audit": (_hub("GET", "/audit"), True),
    "feeds_api.listing": (_hub("GET", "/feeds/"), True),
    "feeds_api.collection": (_feed(""), True),
    "feeds_api.feed": (_feed("domain.txt"), True),
    # the same route, for each kind of feed (one access decision serves them all; this checks it does)
    **{f"feeds_api.feed[{r}]": (_feed(r), True) for r in FEED_RESOURCES},
}

# Expected (existing, nonexistent) status per kind. "denied" = 401 for no credentials and the revoked key.
_ALL = ("owner", "reader", "writer", "outsider", "analyst")


def _row(default: tuple[int, int], **per_kind: tuple[int, int]) -> dict[str, tuple[int, int]]:
    row = dict.fromkeys(_ALL, default) | per_kind
    return row | {"anonymous": (401, 401), "revoked": (401, 401), "expired-cert": (401, 401),
                  "revoked-cert": (401, 401)}


_ANALYST_ONLY = dict.fromkeys(("owner", "reader", "writer", "outsider"), (404, 404))
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "taxii.discovery": _row((200, 200)),
    "taxii.api_root": _row((200, 404)),
    "taxii.status": _row((404, 404), owner=(200, 404)),
    "taxii.collections": _row((200, 404)),
    "taxii.collection": _row((200, 404), outsider=(404, 404)),
    "taxii.manifest": _row((200, 404), writer=(403, 404), outsider=(404, 404)),
    "taxii.get_objects": _row((200, 404), writer=(403, 404), outsider=(404, 404)),
    "taxii.add_objects": _row((202, 404), reader=(403, 404), outsider=(404, 404)),
    "taxii.get_object": _row((200, 404), writer=(403, 403), outsider=(404, 404)),
    "taxii.delete_object": _row((200, 404), reader=(403, 403), writer=(403, 403), outsider=(404, 404)),
    "taxii.versions": _row((200, 404), writer=(403, 403), outsider=(404, 404)),
    "hub_api.submit": _row((202, 202)),
    "hub_api.list_submissions": _row((200, 200)),
    "hub_api.get_submission": _row((404, 404), owner=(200, 404), analyst=(200, 404)),
    "hub_api.dismiss": _row((404, 404), analyst=(200, 404)),
    "hub_api.candidates": _row((404, 404), analyst=(200, 200)),
    "hub_api.candidate": _row((404, 404), analyst=(200, 404)),
    "hub_api.split": _row((404, 404), analyst=(201, 404)),
    "hub_api.merge": _row((404, 404), analyst=(201, 404)),
    "hub_api.exclusions": _row((404, 404), analyst=(200, 200)),
    "hub_api.exclude": _row((404, 404), analyst=(201, 422)),
    "hub_api.include": _row((404, 404), analyst=(200, 404)),
    "hub_api.publish": _row((404, 404), analyst=(201, 404)),
    "hub_api.publications": _row((404, 404), analyst=(200, 200)),
    "hub_api.publication": _row((404, 404), analyst=(200, 404)),
    "hub_api.approve": _row((404, 404), analyst=(409, 404)),  # already published: nothing to approve
    "hub_api.revoke": _row((404, 404), analyst=(200, 404)),
    "hub_api.stats": _row((404, 404), analyst=(200, 200)),
    "hub_api.polls": _row((200, 200)),
    "hub_api.audit": _row((404, 404), analyst=(200, 200)),
    "feeds_api.listing": _row((200, 200)),
    "feeds_api.collection": _row((200, 404), writer=(403, 404), outsider=(404, 404)),
    "feeds_api.feed": _row((200, 404), writer=(403, 404), outsider=(404, 404)),
    **{f"feeds_api.feed[{r}]": _row((200, 404), writer=(403, 404), outsider=(404, 404)) for r in FEED_RESOURCES},
}
assert all(set(row) == set(KINDS) for row in EXPECTED.values())
MATRIX_BLUEPRINTS = ("taxii", "hub_api", "feeds_api")


def routed_endpoints(acc: AcceptanceHub) -> set[str]:
    return {r.endpoint for r in acc.app.url_map.iter_rules() if r.endpoint.split(".")[0] in MATRIX_BLUEPRINTS}


def _send(w: World, kind: str, endpoint: str, exists: bool) -> TestResponse:
    make, json_api = ENDPOINTS[endpoint]
    method, path, body = make(w, exists)
    if endpoint == "hub_api.submit":
        body = record(ORG_OF[kind] or A, next(SENDERS))
    headers = w.headers(kind, json_api)
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json" if json_api else MT
        data = orjson.dumps(body)
    environ: dict[str, Any] = {"REMOTE_ADDR": next(ADDRESSES)}
    if kind in CERT_KINDS and w.certificates is not None:
        environ["gunicorn.socket"] = PeerSocket(w.certificates[kind])
    return w.acc.client().open(path, method=method, headers=headers, data=data, environ_base=environ)


def _cases() -> Iterator[Any]:
    for endpoint in EXPECTED:
        for kind in KINDS:
            yield pytest.param(endpoint, kind, id=f"{endpoint}-{kind}")


def test_every_endpoint_is_in_the_matrix(world: World) -> None:
    routed = routed_endpoints(world.acc)
    assert routed - set(EXPECTED) == set(), "classify the new endpoints in EXPECTED"
    assert set(EXPECTED) == set(ENDPOINTS)


@pytest.mark.parametrize(("endpoint", "kind"), list(_cases()))
def test_each_caller_gets_what_its_rights_give_and_refusals_never_depend_on_the_resource(
    world: World, endpoint: str, kind: str
) -> None:
    if endpoint.split("[")[0] not in routed_endpoints(world.acc):
        pytest.skip(f"{endpoint} is not routed in this build")
    want_existing, want_missing = EXPECTED[endpoint][kind]
    existing = _send(world, kind, endpoint, exists=True)
    missing = _send(world, kind, endpoint, exists=False)
    assert (existing.status_code, missing.status_code) == (want_existing, want_missing), (existing.data,
                                                                                             missing.data)
    for response in (existing, missing):
        if response.status_code >= 400:
            body = orjson.loads(response.data)
            assert body["http_status"] == str(response.status_code)
            assert response.headers["Content-Type"] == ("application/json" if ENDPOINTS[endpoint][1] else MT)
        if response.status_code == 401:
            assert response.headers.get_all("WWW-Authenticate")
            if kind in CERT_KINDS:  # refused for the certificate itself, not for a missing credential
                reason = "has expired" if kind == "expired-cert" else "has been revoked"
                assert reason in orjson.loads(response.data)["description"]
    if existing.status_code == missing.status_code >= 400:
        assert existing.data == missing.data
        assert dict(existing.headers) == dict(missing.headers)
