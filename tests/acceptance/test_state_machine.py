"""A hypothesis state machine over organisations × collections × objects, through the Flask test client
(spec/security.md §4.2). Rules add valid and invalid objects, new versions (own and other organisations'),
delete, and read with filters and paging; a model of what each collection holds is kept beside the hub.

Invariants after every step: no organisation ever reads an object it is not entitled to (another's in an
inbox, anything in a collection it cannot read); every acknowledged object version is readable by everyone
entitled; no request is answered 5xx; paging returns each object version exactly once.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.support.acceptance_hub import CA, CB, CR, CS, INBOX, A, AcceptanceHub, B, build
from tests.support.hubtest import MT, ROOT, indicator

ORGS = (A, B)
COLLECTIONS = (CA, CB, CS, CR, INBOX)
READS = {CA: {A}, CB: {B}, CS: {A, B}, CR: {A, B}, INBOX: {A, B}}
WRITES = {CA: {A}, CB: {B}, CS: {A, B}, CR: {A}, INBOX: {A, B}}
UUIDS = [f"6f0c2a6e-0000-4000-8000-{n:012d}" for n in range(3)]
DAYS = [f"2021-01-{d:02d}T00:00:00.000Z" for d in range(1, 4)]
# the shared collections and the inbox come up more often: that is where organisations meet
TARGETS = st.sampled_from((CA, CB, CS, CS, CS, CR, INBOX, INBOX))
BAD = [{"type": "indicator", "id": "indicator--nope"}, {"foo": "bar"},
       indicator(modified=""), indicator(pattern="[[[")]

Version = tuple[str, str]  # (id, modified)
Held = tuple[str, str, str]  # (partition, id, modified): an inbox keeps one namespace per organisation


class HubMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hub-state-"))
        self.acc: AcceptanceHub = build(self.tmp)
        # collection -> {(partition, id, modified): adder}; owner: collection -> {(partition, id): org}
        self.held: dict[str, dict[Held, str]] = {c: {} for c in COLLECTIONS}
        self.owner: dict[str, dict[tuple[str, str], str]] = {c: {} for c in COLLECTIONS}

    def teardown(self) -> None:
        self.acc.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _send(self, method: str, path: str, org: str | None, body: bytes | None = None) -> Any:
        headers = {"Accept": MT, **self.acc.auth(org)}
        if body is not None:
            headers["Content-Type"] = MT
        response = self.acc.client().open(path, method=method, headers=headers, data=body)
        assert response.status_code < 500, (method, path, response.data)
        return response

    def _part(self, collection: str, org: str) -> str:
        return org if collection == INBOX else ""

    # -- rules ---------------------------------------------------------------------------------------------

    @rule(org=st.sampled_from(ORGS), collection=TARGETS, n=st.sampled_from(range(len(UUIDS))),
          day=st.sampled_from(DAYS), bad=st.lists(st.sampled_from(BAD), max_size=2))
    def add(self, org: str, collection: str, n: int, day: str, bad: list[dict[str, Any]]) -> None:
        object_id = f"indicator--{UUIDS[n]}"
        obj = indicator(object_id, modified=day, name=f"{org} {day}")
        response = self._send("POST", f"/{ROOT}/collections/{collection}/objects/", org,
                              orjson.dumps({"objects": [obj, *bad]}))
        if org not in READS[collection] | WRITES[collection]:
            assert response.status_code == 404
            return
        if org not in WRITES[collection]:
            assert response.status_code == 403
            return
        assert response.status_code == 202
        body = response.json
        assert body["failure_count"] >= len(bad)
        key = (self._part(collection, org), object_id)
        owner = self.owner[collection].get(key)
        held = self.held[collection].get((key[0], object_id, day))
        # in a shared collection, an id another organisation first added in any shared collection this one
        # reads is not this one's to write (the contents differ: each adder names the object after itself)
        shared_read = [c for c in COLLECTIONS if c != INBOX and org in READS[c]]
        others = {self.owner[c].get(("", object_id)) for c in shared_read} - {None, org}
        foreign = collection != INBOX and bool(others)
        if foreign or (owner is not None and owner != org):
            assert body["success_count"] == 0
        elif held is not None:
            assert body["success_count"] == (1 if held == org else 0)  # same adder, same name: a duplicate
        else:
            assert body["success_count"] == 1
            self.held[collection][(key[0], object_id, day)] = org
            self.owner[collection].setdefault(key, org)

    @rule(org=st.sampled_from(ORGS), collection=TARGETS, n=st.sampled_from(range(len(UUIDS))))
    def delete(self, org: str, collection: str, n: int) -> None:
        object_id = f"indicator--{UUIDS[n]}"
        response = self._send("DELETE", f"/{ROOT}/collections/{collection}/objects/{object_id}/", org)
        if org not in READS[collection] | WRITES[collection]:
            assert response.status_code == 404
            return
        if org not in READS[collection] or org not in WRITES[collection]:
            assert response.status_code == 403
            return
        part = self._part(collection, org)
        owner = self.owner[collection].get((part, object_id))
        if owner is None:
            assert response.status_code == 404
        elif owner != org:
            assert response.status_code == 403
        else:
            assert response.status_code == 200
            for v in [v for v in self.held[collection] if v[:2] == (part, object_id)]:
                del self.held[collection][v]
            del self.owner[collection][(part, object_id)]

    @rule(org=st.sampled_from(ORGS), collection=TARGETS, limit=st.integers(1, 4),
          by_type=st.booleans())
    def filtered_read(self, org: str, collection: str, limit: int, by_type: bool) -> None:
        query = f"?limit={limit}&match[version]=all" + ("&match[type]=indicator" if by_type else "")
        response = self._send("GET", f"/{ROOT}/collections/{collection}/objects/{query}", org)
        assert response.status_code == (200 if org in READS[collection] else 404)

    # -- invariants ----------------------------------------------------------------------------------------

    def _walk(self, org: str, collection: str, endpoint: str, limit: int) -> list[Version]:
        seen: list[Version] = []
        query = f"?match[version]=all&limit={limit}"
        for _ in range(100):
            response = self._send("GET", f"/{ROOT}/collections/{collection}/{endpoint}/{query}", org)
            assert response.status_code == 200, response.data
            items = response.json.get("objects", [])
            seen += [(o["id"], o["modified"] if endpoint == "objects" else o["version"]) for o in items]
            if not response.json.get("more"):
                return seen
            query = f"?match[version]=all&limit={limit}&next={response.json['next']}"
        raise AssertionError("paging did not end")

    def _entitled(self, org: str, collection: str) -> list[Version]:
        return sorted((object_id, day) for (_, object_id, day), who in self.held[collection].items()
                      if collection != INBOX or who == org)

    @invariant()
    def each_org_reads_exactly_what_it_is_entitled_to_once(self) -> None:
        for collection in COLLECTIONS:
            for org in ORGS:
                if org not in READS[collection]:
                    response = self._send("GET", f"/{ROOT}/collections/{collection}/objects/", org)
                    assert response.status_code == 404
                    continue
                seen = self._walk(org, collection, "objects", limit=3)
                assert len(seen) == len(set(seen)), "a page repeated an object version"
                assert sorted(seen) == self._entitled(org, collection)

    @precondition(lambda self: any(self.held.values()))
    @invariant()
    def manifests_agree_with_objects(self) -> None:
        for collection in (CS, INBOX):
            for org in ORGS:
                seen = self._walk(org, collection, "manifest", limit=2)
                assert sorted(seen) == self._entitled(org, collection)


HubMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_hub_state_machine = HubMachine.TestCase
