"""Deterministic identifiers: the spec's UUIDv5 for SCOs (as the stix2 library computes it), keyed v4 ids
for SDOs/SROs, byte-identical bundles on reconversion, and shared objects across reports."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import stix2
from hypothesis import given, settings
from hypothesis import strategies as st

from converters import ConversionOptions, bundle_bytes, load_records, record_to_bundle
from converters.ids import ID_CONTRIBUTING_PROPERTIES, KeyedIds, sco_id
from tests.support.conv_support import OPTIONS, SAMPLES, objects_of

CASE04 = (SAMPLES / "records" / "case04-conversation.json").read_bytes()
MD5 = "8b9523640c4d7e5f0fda916d08dbc2c5"
SHA256 = "658c96a3e24c5a20163c5415a15d246c7094f85b78632ee4a3aee52cfb3d0253"
text = st.text(min_size=1, max_size=60)


def test_the_id_contributing_properties_are_the_stix2_librarys_for_every_sco_type() -> None:
    """The project's table (the hub does not depend on stix2 at run time) is the library's, type by type."""
    library = {otype: tuple(getattr(cls, "_id_contributing_properties", None) or ())
               for otype, cls in stix2.registry.STIX2_OBJ_MAPS["2.1"]["observables"].items()}
    assert len(library) >= 18
    assert dict(ID_CONTRIBUTING_PROPERTIES) == library


@settings(max_examples=60, deadline=None)
@given(value=text)
def test_email_addr_and_url_ids_match_the_stix2_library(value: str) -> None:
    assert sco_id("email-addr", {"value": value}) == stix2.EmailAddress(value=value).id
    assert sco_id("url", {"value": value}) == stix2.URL(value=value).id


@settings(max_examples=40, deadline=None)
@given(name=text)
def test_file_ids_match_the_stix2_library_including_archive_members(name: str) -> None:
    member = stix2.File(hashes={"SHA-256": SHA256, "MD5": MD5}, name=name)
    assert sco_id("file", {"hashes": {"MD5": MD5, "SHA-256": SHA256}, "name": name}) == member.id
    extensions = {"archive-ext": {"contains_refs": [member.id]}}
    archive = stix2.File(hashes={"SHA-256": SHA256}, name=name + ".zip", extensions=extensions)
    ours = sco_id("file", {"hashes": {"SHA-256": SHA256}, "name": name + ".zip", "extensions": extensions})
    assert ours == archive.id


def test_every_sco_in_a_bundle_has_the_id_the_stix2_library_computes() -> None:
    bundle = record_to_bundle(load_records(CASE04, "c.json")[0], OPTIONS)
    checked = 0
    for obj in bundle["objects"]:
        if obj["type"] in ("email-addr", "file", "url", "domain-name", "ipv4-addr", "artifact"):
            parsed = stix2.parse({k: v for k, v in obj.items() if k != "id"}, allow_custom=True)
            assert parsed.id == obj["id"], obj
            checked += 1
    assert checked == 10


def test_sdo_ids_are_uuid4_shaped_and_depend_on_the_key() -> None:
    first = KeyedIds("key-one").sdo_id("indicator", {"pattern": "[url:value = 'x']"})
    again = KeyedIds("key-one").sdo_id("indicator", {"pattern": "[url:value = 'x']"})
    other = KeyedIds("key-two").sdo_id("indicator", {"pattern": "[url:value = 'x']"})
    assert first == again != other
    parsed = uuid.UUID(first.split("--", 1)[1])
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_converting_the_same_record_twice_gives_byte_identical_output() -> None:
    first = bundle_bytes(record_to_bundle(load_records(CASE04, "c.json")[0], OPTIONS), pretty=True)
    second = bundle_bytes(record_to_bundle(load_records(CASE04, "c.json")[0], OPTIONS), pretty=True)
    assert first == second


def test_another_hub_key_changes_sdo_ids_but_not_sco_ids() -> None:
    record = load_records(CASE04, "c.json")[0]
    ours = record_to_bundle(record, OPTIONS)
    theirs = record_to_bundle(record, dataclasses.replace(OPTIONS, id_key="another-key"))
    scos = {"email-addr", "file", "url", "domain-name", "ipv4-addr", "artifact"}
    assert {o["id"] for o in objects_of(ours, "file")} == {o["id"] for o in objects_of(theirs, "file")}
    sdo_ours = {o["id"] for o in ours["objects"] if o["type"] not in scos | {"marking-definition"}}
    sdo_theirs = {o["id"] for o in theirs["objects"] if o["type"] not in scos | {"marking-definition"}}
    assert len(sdo_ours - sdo_theirs) > 50


def _record_with(record_id: str, reporter: str, sent_at: str) -> Any:
    document = json.loads((SAMPLES / "records" / "case07-repeat-ichitaro.json").read_bytes())
    document.update(id=record_id, reporter=reporter)
    document["messages"][0]["sent_at"] = sent_at
    document["messages"][0]["to"] = [{"address": f"info@{reporter}.example"}]
    return load_records(json.dumps(document).encode(), "r.json")[0]


def test_the_same_attachment_in_two_reports_yields_the_same_objects() -> None:
    first = record_to_bundle(_record_with("A-1", "kita-heavy", "2014-02-19T13:45:00+09:00"), OPTIONS)
    second = record_to_bundle(_record_with("B-7", "nishi-chem", "2014-02-25T09:00:00+09:00"), OPTIONS)
    for object_type in ("file", "domain-name", "ipv4-addr", "url", "email-addr"):
        assert objects_of(first, object_type) == objects_of(second, object_type)
    patterns = {i["id"]: i["pattern"] for i in objects_of(first, "indicator")}
    assert {i["id"]: i["pattern"] for i in objects_of(second, "indicator")} == patterns
    assert {o["id"] for o in objects_of(first, "observed-data")}.isdisjoint(
        o["id"] for o in objects_of(second, "observed-data"))


@settings(max_examples=25, deadline=None)
@given(subject=st.text(max_size=80), body=st.text(max_size=200), name=text, key=st.text(min_size=1, max_size=20))
def test_any_record_content_converts_deterministically(subject: str, body: str, name: str, key: str) -> None:
    document = json.loads(CASE04)
    message = document["messages"][4]
    message.update(subject=subject, body=body)
    message["attachments"][0]["name"] = name
    options = ConversionOptions(id_key=key)
    first = bundle_bytes(record_to_bundle(load_records(json.dumps(document).encode(), "p.json")[0], options))
    second = bundle_bytes(record_to_bundle(load_records(json.dumps(document).encode(), "p.json")[0], options))
    assert first == second
    ids = [o["id"] for o in json.loads(first)["objects"]]
    assert len(ids) == len(set(ids))
