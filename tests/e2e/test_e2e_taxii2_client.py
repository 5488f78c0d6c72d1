"""The running hub driven by the clients members really use: taxii2-client 2.3 and stix2 3.0.2's TAXII store.

Checklist §2 says what these clients do on the wire; the rows cited below are what the hub must do for them.
The round-trip data lives in the collection FEED, which only the organisation `feeder` may use.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import stix2
from stix2 import Filter, TAXIICollectionSink, TAXIICollectionSource, TAXIICollectionStore
from stix2.datastore import DataSourceError
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, Status, as_pages

from tests.support.hubtest import C_MISSING, C_NONE, C_RO, C_RW, C_V20, C_WO, CEIL, INBOX, ROOT, indicator
from tests.support.serverproc import FEED, FEEDER, SCRATCH, STREAM, WALK, HubServer

pytestmark = pytest.mark.slow

PER_REQUEST = 7
BULK = 55
T0 = datetime.datetime(2024, 3, 1, 9, 0, 0, tzinfo=datetime.UTC)


def _auth(server: HubServer, org: str) -> dict[str, Any]:
    return {"user": org, "password": server.keys[org], "verify": server.ca_cert}


def api_root(server: HubServer, org: str) -> ApiRoot:
    return ApiRoot(server.url(f"/{ROOT}/"), **_auth(server, org))


def collection(server: HubServer, org: str, collection_id: str) -> Collection:
    return Collection(server.url(f"/{ROOT}/collections/{collection_id}/"), **_auth(server, org))


def new_indicator(n: int, **extra: Any) -> stix2.v21.Indicator:
    return stix2.v21.Indicator(
        name=f"e2e indicator {n}", pattern=f"[ipv4-addr:value = '198.51.{n // 250}.{n % 250 + 1}']",
        pattern_type="stix", valid_from=T0, **extra,
    )


def as_dict(obj: Any) -> dict[str, Any]:
    """A stix2 object as the JSON the server stores (timestamps in stix2's own precision)."""
    loaded: dict[str, Any] = json.loads(obj.serialize())
    return loaded


@dataclass(frozen=True)
class Feed:
    """What the module's fixture put into FEED, and how."""

    ids: frozenset[str]
    indicator_ids: frozenset[str]
    versioned: tuple[stix2.v21.Indicator, ...]
    bulk_status: Status


@pytest.fixture(scope="module")
def feed(server: HubServer) -> Feed:
    coll = collection(server, FEEDER, FEED)
    sink = TAXIICollectionSink(coll)
    single = new_indicator(0)
    sink.add(single)
    others = [stix2.v21.Malware(name="e2e malware", is_family=True),
              stix2.v21.Identity(name="e2e identity", identity_class="organization")]
    sink.add(others)  # stix2 posts a list one bundle at a time
    bulk = [as_dict(new_indicator(n)) for n in range(1, BULK + 1)]
    status = coll.add_objects({"objects": bulk})
    v1 = new_indicator(1000, created=T0, modified=T0)
    versions = (v1, v1.new_version(modified=T0 + datetime.timedelta(days=1), name="second"),
                v1.new_version(modified=T0 + datetime.timedelta(days=2), name="third"))
    for version in versions:
        sink.add(version)
    indicator_ids = {single.id, v1.id} | {o["id"] for o in bulk}
    return Feed(frozenset(indicator_ids | {o.id for o in others}), frozenset(indicator_ids), versions, status)


# -- discovery and collections ---------------------------------------------------------------------------------

def test_discovery_names_the_default_api_root_and_its_limits(server: HubServer) -> None:
    discovery = Server(server.url("/taxii2/"), **_auth(server, "alice"))
    assert discovery.title == "test hub"
    assert [r.url for r in discovery.api_roots] == [server.url(f"/{ROOT}/")]
    assert discovery.default is not None and discovery.default.url == server.url(f"/{ROOT}/")
    root = discovery.api_roots[0]
    assert root.title == "API root one"
    assert "application/taxii+json;version=2.1" in root.versions
    assert root.max_content_length == 65536


RIGHTS = {
    "alice": {C_RW: (True, True), C_RO: (True, False), C_WO: (False, True), INBOX: (True, True),
              CEIL: (True, True), C_V20: (True, True)},
    "bob": {INBOX: (True, True)},
    "reader": {C_RW: (True, False), INBOX: (True, True)},
    "writer": {C_RW: (False, True), INBOX: (True, True)},
    "analyst": {C_RW: (True, True), C_RO: (False, True), C_WO: (True, False), C_NONE: (True, True),
                INBOX: (True, True)},
    FEEDER: {FEED: (True, True), WALK: (True, True), STREAM: (True, True), SCRATCH: (True, True),
             INBOX: (True, True)},
}


@pytest.mark.parametrize("org", sorted(RIGHTS))
def test_each_organisation_sees_exactly_the_collections_its_rules_give_it(server: HubServer, org: str) -> None:
    listed = {c.id: (c.can_read, c.can_write) for c in api_root(server, org).collections}
    assert listed == RIGHTS[org]


@pytest.mark.parametrize("collection_id", [C_NONE, C_MISSING])
def test_a_collection_without_rights_is_as_missing_as_one_that_does_not_exist(
    server: HubServer, collection_id: str
) -> None:
    with pytest.raises(requests.HTTPError) as raised:
        collection(server, "alice", collection_id).refresh()
    assert raised.value.response.status_code == 404


def test_stix2_refuses_to_build_a_source_on_an_invisible_collection(server: HubServer) -> None:
    with pytest.raises(DataSourceError):
        TAXIICollectionSource(collection(server, "bob", C_RW))


# -- adding and status -----------------------------------------------------------------------------------------

def test_add_objects_answers_with_a_complete_status(feed: Feed) -> None:
    status = feed.bulk_status
    assert (status.status, status.total_count, status.success_count, status.failure_count,
            status.pending_count) == ("complete", BULK, BULK, 0, 0)


def test_the_status_reads_the_same_from_fresh_connections(server: HubServer, feed: Feed) -> None:
    """M12: several fresh clients (so both workers answer at some point) all read the complete status."""
    expected = {s["id"] for s in feed.bulk_status.successes}
    for _ in range(8):
        status = api_root(server, FEEDER).get_status(feed.bulk_status.id)
        assert status.status == "complete"
        assert {s["id"] for s in status.successes} == expected


def test_the_status_belongs_to_the_submitter_only(server: HubServer, feed: Feed) -> None:
    with pytest.raises(requests.HTTPError) as raised:
        api_root(server, "alice").get_status(feed.bulk_status.id)
    assert raised.value.response.status_code == 404


# -- paging ----------------------------------------------------------------------------------------------------

def test_as_pages_yields_every_object_exactly_once(server: HubServer, feed: Feed) -> None:
    pages = list(as_pages(collection(server, FEEDER, FEED).get_objects, per_request=PER_REQUEST))
    seen = [o["id"] for page in pages for o in page.get("objects", [])]
    assert sorted(seen) == sorted(feed.ids)
    assert all(len(page["objects"]) <= PER_REQUEST for page in pages)
    assert len(pages) == -(-len(feed.ids) // PER_REQUEST)


def test_manifest_pages_list_every_object_once_at_its_latest_version(server: HubServer, feed: Feed) -> None:
    pages = list(as_pages(collection(server, FEEDER, FEED).get_manifest, per_request=PER_REQUEST))
    entries = [e for page in pages for e in page.get("objects", [])]
    assert sorted(e["id"] for e in entries) == sorted(feed.ids)
    latest = as_dict(feed.versioned[-1])
    assert [e["version"] for e in entries if e["id"] == latest["id"]] == [latest["modified"]]


def test_object_versions_lists_every_version_oldest_first(server: HubServer, feed: Feed) -> None:
    versions = collection(server, FEEDER, FEED).object_versions(feed.versioned[0].id)
    assert versions["versions"] == [as_dict(v)["modified"] for v in feed.versioned]


# -- stix2 data sources ----------------------------------------------------------------------------------------

def test_source_get_returns_the_latest_version(server: HubServer, feed: Feed) -> None:
    got = TAXIICollectionSource(collection(server, FEEDER, FEED)).get(feed.versioned[0].id)
    assert got is not None
    assert (got.modified, got.name) == (feed.versioned[-1].modified, "third")


def test_source_all_versions_returns_every_version(server: HubServer, feed: Feed) -> None:
    got = TAXIICollectionSource(collection(server, FEEDER, FEED)).all_versions(feed.versioned[0].id)
    assert sorted(o.modified for o in got) == [v.modified for v in feed.versioned]


def test_source_query_by_type_returns_each_indicator_once(server: HubServer, feed: Feed) -> None:
    got = TAXIICollectionSource(collection(server, FEEDER, FEED)).query([Filter("type", "=", "indicator")])
    assert sorted(o.id for o in got) == sorted(feed.indicator_ids)


def test_store_reads_what_it_wrote(server: HubServer) -> None:
    store = TAXIICollectionStore(collection(server, FEEDER, SCRATCH))
    written = new_indicator(2000)
    store.add(written)
    assert store.get(written.id) == written


def test_deleted_object_is_gone_for_every_client(server: HubServer) -> None:
    coll = collection(server, FEEDER, SCRATCH)
    doomed = new_indicator(3000)
    TAXIICollectionSink(coll).add(doomed)
    assert TAXIICollectionSource(coll).get(doomed.id) is not None
    coll.delete_object(doomed.id)
    assert TAXIICollectionSource(coll).get(doomed.id) is None
    with pytest.raises(requests.HTTPError) as raised:
        coll.get_object(doomed.id)
    assert raised.value.response.status_code == 404


# -- what a member with fewer rights sees ----------------------------------------------------------------------

def _all_ids(coll: Collection) -> list[str]:
    return [o["id"] for page in as_pages(coll.get_objects, per_request=PER_REQUEST) for o in page.get("objects", [])]


def test_a_reader_polls_what_a_writer_added_and_may_not_write(server: HubServer) -> None:
    posted = [indicator() for _ in range(3)]
    status = collection(server, "writer", C_RW).add_objects({"objects": posted})
    assert status.success_count == 3
    as_reader = collection(server, "reader", C_RW)
    assert sorted(_all_ids(as_reader)) == sorted(o["id"] for o in posted)
    with pytest.raises(AccessError):
        as_reader.add_objects({"objects": [indicator()]})
    with pytest.raises(DataSourceError):
        TAXIICollectionSink(as_reader)


def test_a_writer_without_read_rights_cannot_poll(server: HubServer) -> None:
    with pytest.raises(DataSourceError):
        TAXIICollectionSource(collection(server, "writer", C_RW))


def test_an_inbox_shows_each_member_only_its_own_objects(server: HubServer) -> None:
    mine = {org: [indicator() for _ in range(2 + n)] for n, org in enumerate(("alice", "bob"))}
    for org, objects in mine.items():
        assert collection(server, org, INBOX).add_objects({"objects": objects}).success_count == len(objects)
    for org, objects in mine.items():
        assert sorted(_all_ids(collection(server, org, INBOX))) == sorted(o["id"] for o in objects)
    everything = sorted(o["id"] for objects in mine.values() for o in objects)
    assert sorted(_all_ids(collection(server, "analyst", INBOX))) == everything
