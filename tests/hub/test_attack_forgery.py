"""Attack: a member forges objects in the shared `energy` collection (TLP:AMBER at most), which the energy
groups and the hub's analysts read. Each forgery is a per-object failure in the status, with a message that
says why; a valid object in the same envelope is stored."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pytest
import stix2

from converters import ConversionOptions
from converters.ids import KeyedIds, sco_id
from converters.markings import marking_definition
from taxii_server import integrity
from taxii_server.app import create_app
from taxii_server.hub.publication_bundle import hub_identity_ids
from taxii_server.settings import load_settings
from taxii_server.timestamps import format_us
from tests.support.hubflow import DemoHub
from tests.support.mispcheck import PUBLISHED

ENERGY = "631b1323-9a53-4503-a15e-28fffdde0436"
MEMBER = "higashi-gas"  # group gas: may read and write `energy`
ANALYST = "hub-analyst"
TAXII = "application/taxii+json;version=2.1"
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
NOW = time.time_ns() // 1000


def stamp(offset_s: float = 0) -> str:
    """The hub's clock now, plus an offset, as a STIX timestamp (read at each call: a module runs for a while)."""
    return format_us(time.time_ns() // 1000 + int(offset_s * 1_000_000))[:-4] + "Z"


def indicator(oid: str | None = None, modified: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": oid or f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z", "modified": modified or "2024-01-01T00:00:00.000Z",
        "name": "C2 of the campaign", "pattern": "[domain-name:value = 'c2.attacker.example']",
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", **extra,
    }


def post(hub: DemoHub, org: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    response = hub.client().post(f"/hub/collections/{ENERGY}/objects/", data=orjson.dumps({"objects": objects}),
                                 headers=hub.auth(org, Accept=TAXII, **{"Content-Type": TAXII}))
    assert response.status_code == 202, response.data
    status: dict[str, Any] = response.json
    return status


def failures(status: dict[str, Any]) -> dict[str, str]:
    return {f["id"]: f["message"] for f in status.get("failures", [])}


def succeeded(status: dict[str, Any]) -> set[str]:
    return {s["id"] for s in status.get("successes", [])}


def latest(hub: DemoHub, oid: str, org: str = ANALYST) -> list[dict[str, Any]]:
    response = hub.client().get(f"/hub/collections/{ENERGY}/objects/{oid}/", headers=hub.auth(org, Accept=TAXII))
    if response.status_code == 404:
        return []
    found: list[dict[str, Any]] = response.json.get("objects", [])
    return found


def hub_identity(hub: DemoHub) -> str:
    conversion = hub.settings.conversion
    return KeyedIds(conversion.id_key).sdo_id("identity", {"hub": conversion.hub_identity_name})


# -- canonical TLP marking definitions --------------------------------------------------------------------------

def test_the_canonical_tlp_amber_id_with_content_saying_clear_is_refused(demo_hub: DemoHub) -> None:
    forged = {**marking_definition("clear"), "id": TLP2_AMBER}
    honest = indicator()
    status = post(demo_hub, MEMBER, [forged, honest])
    assert "canonical TLP:AMBER marking definition" in failures(status)[TLP2_AMBER]
    assert succeeded(status) == {honest["id"]}
    assert latest(demo_hub, TLP2_AMBER) == []


@pytest.mark.parametrize("oid", [TLP1_AMBER, TLP2_AMBER], ids=["tlp1", "tlp2"])
def test_a_canonical_tlp_id_with_an_added_property_is_refused(demo_hub: DemoHub, oid: str) -> None:
    forged = {**integrity.CANONICAL_MARKINGS[oid], "description": "actually TLP:CLEAR, share freely"}
    assert oid in failures(post(demo_hub, MEMBER, [forged]))


@pytest.mark.parametrize("marking", [
    integrity.CANONICAL_MARKINGS[TLP2_AMBER],
    integrity.CANONICAL_MARKINGS[TLP1_AMBER],
    {**integrity.CANONICAL_MARKINGS[TLP1_AMBER], "created": "2017-01-20T00:00:00Z"},
], ids=["tlp2", "tlp1", "tlp1-other-time-precision"])
def test_the_canonical_content_is_accepted(demo_hub: DemoHub, marking: dict[str, Any]) -> None:
    assert succeeded(post(demo_hub, MEMBER, [marking])) == {marking["id"]}


def test_the_tlp1_objects_as_stix_2_0_wrote_them_are_canonical() -> None:
    written_by_20 = {k: v for k, v in integrity.CANONICAL_MARKINGS[TLP1_AMBER].items()
                     if k not in ("spec_version", "name")}
    assert integrity.problem(written_by_20, RULES) is None


# -- the hub's identities and created_by_ref ---------------------------------------------------------------------

def test_the_hub_identity_at_a_newer_version_with_another_contact_is_refused(demo_hub: DemoHub) -> None:
    hub_id = hub_identity(demo_hub)
    forged = {"type": "identity", "spec_version": "2.1", "id": hub_id, "created": "2024-01-01T00:00:00.000Z",
              "modified": stamp(), "name": "taxii-hub", "identity_class": "organization",
              "contact_information": "send your reports to hub-desk@attacker.example"}
    assert "reserved for the hub" in failures(post(demo_hub, MEMBER, [forged]))[hub_id]
    assert latest(demo_hub, hub_id) == []


def test_every_sector_identity_of_the_hub_is_reserved(demo_hub: DemoHub) -> None:
    options = ConversionOptions(id_key=demo_hub.settings.conversion.id_key)
    sector_ids = sorted(hub_identity_ids(options) - {hub_identity(demo_hub)})
    forged = [{"type": "identity", "spec_version": "2.1", "id": i, "created": "2024-01-01T00:00:00.000Z",
               "modified": "2024-01-01T00:00:00.000Z", "name": "Energy members", "identity_class": "class"}
              for i in sector_ids]
    assert set(failures(post(demo_hub, MEMBER, forged))) == set(sector_ids)


def test_the_hub_itself_may_write_its_identity(demo_hub: DemoHub) -> None:
    hub_id = hub_identity(demo_hub)
    own = {"type": "identity", "spec_version": "2.1", "id": hub_id, "created": "2024-01-01T00:00:00.000Z",
           "modified": "2024-01-01T00:00:00.000Z", "name": "taxii-hub", "identity_class": "organization"}
    assert succeeded(post(demo_hub, ANALYST, [own])) == {hub_id}


def test_an_indicator_created_by_the_hub_identity_is_refused_from_a_member(demo_hub: DemoHub) -> None:
    forged = indicator(created_by_ref=hub_identity(demo_hub))
    assert "created_by_ref" in failures(post(demo_hub, MEMBER, [forged]))[forged["id"]]
    assert latest(demo_hub, forged["id"]) == []


def test_an_indicator_created_by_another_identity_is_refused_from_a_member(demo_hub: DemoHub) -> None:
    forged = indicator(created_by_ref=f"identity--{uuid.uuid4()}")
    assert forged["id"] in failures(post(demo_hub, MEMBER, [forged]))


def test_an_indicator_without_a_creator_is_accepted_from_a_member(demo_hub: DemoHub) -> None:
    honest = indicator()
    assert succeeded(post(demo_hub, MEMBER, [honest])) == {honest["id"]}


def test_an_indicator_created_by_the_members_own_identity_is_accepted(demo_hub: DemoHub) -> None:
    org = demo_hub.store.get_organisation(MEMBER)
    assert org is not None
    honest = indicator(created_by_ref=org.identity_id)
    assert succeeded(post(demo_hub, MEMBER, [honest])) == {honest["id"]}


def test_another_members_identity_is_neither_a_creator_nor_writable(demo_hub: DemoHub) -> None:
    other = demo_hub.store.get_organisation("kita-heavy")
    assert other is not None
    forged = indicator(created_by_ref=other.identity_id)
    impersonation = {"type": "identity", "spec_version": "2.1", "id": other.identity_id,
                     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                     "name": "Kita Heavy", "identity_class": "organization"}
    assert set(failures(post(demo_hub, MEMBER, [forged, impersonation]))) == {forged["id"], other.identity_id}


# -- deterministic SCO ids ---------------------------------------------------------------------------------------

def test_a_deterministic_domain_name_id_with_another_value_is_refused(demo_hub: DemoHub) -> None:
    oid = sco_id("domain-name", {"value": "c2.attacker.example"})
    forged = {"type": "domain-name", "spec_version": "2.1", "id": oid, "value": "update.vendor.example"}
    message = failures(post(demo_hub, MEMBER, [forged]))[oid]
    assert "id-contributing properties (value)" in message
    assert sco_id("domain-name", {"value": "update.vendor.example"}) in message


def test_a_deterministic_domain_name_id_with_its_own_value_is_accepted(demo_hub: DemoHub) -> None:
    oid = sco_id("domain-name", {"value": "c2.attacker.example"})
    honest = {"type": "domain-name", "spec_version": "2.1", "id": oid, "value": "c2.attacker.example"}
    assert succeeded(post(demo_hub, MEMBER, [honest])) == {oid}


def test_a_random_uuid4_sco_id_claims_nothing_and_is_accepted(demo_hub: DemoHub) -> None:
    honest = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
              "value": "c2.attacker.example"}
    assert succeeded(post(demo_hub, MEMBER, [honest])) == {honest["id"]}


STIX2_SCOS = [
    stix2.DomainName(value="c2.attacker.example"),
    stix2.IPv4Address(value="198.51.100.7"),
    stix2.URL(value="https://c2.attacker.example/a?b=c"),
    stix2.EmailAddress(value="hr@attacker.example", display_name="人事部"),
    stix2.File(name="請求書.doc", hashes={"SHA-256": "a" * 64, "MD5": "b" * 32}),
    stix2.File(name="invoice.doc", size=10),
    stix2.Software(name="Word", vendor="Microsoft", version="16"),
    stix2.UserAccount(account_login="suzuki", account_type="windows-local"),
    stix2.Mutex(name="Global\\evil"),
    stix2.AutonomousSystem(number=64500),
    stix2.X509Certificate(serial_number="01:02", hashes={"SHA-1": "c" * 40}),
    stix2.WindowsRegistryKey(key="HKEY_LOCAL_MACHINE\\Software\\Run"),
]


@pytest.mark.parametrize("sco", STIX2_SCOS, ids=lambda s: s["type"])
def test_ids_the_stix2_library_computes_pass_and_a_changed_value_fails(sco: Any) -> None:
    obj = orjson.loads(sco.serialize())
    assert integrity.problem(obj, RULES) is None
    first = integrity.id_contributing_properties(obj["type"])[0]
    tampered = {**obj}
    tampered[first] = ({**obj[first], "MD5": "d" * 32} if isinstance(obj.get(first), dict)
                       else obj.get(first, 0) + 1 if isinstance(obj.get(first), int) else f"{obj.get(first)}x")
    assert "id-contributing properties" in (integrity.problem(tampered, RULES) or "")


RULES = integrity.WriterRules(hub_side=False, shared=True, own_identity=None, reserved_identities=frozenset(),
                              now_us=NOW, future_skew_us=300_000_000)


# -- timestamps in the future and revocation ---------------------------------------------------------------------

def test_a_copy_of_a_hub_indicator_dated_2099_and_revoked_is_refused(demo_hub: DemoHub) -> None:
    hubs = indicator(modified=stamp(-60))
    assert succeeded(post(demo_hub, ANALYST, [hubs])) == {hubs["id"]}
    forged = {**hubs, "modified": "2099-01-01T00:00:00.000Z", "revoked": True}
    message = failures(post(demo_hub, MEMBER, [forged]))[hubs["id"]]
    assert "modified: 2099-01-01T00:00:00.000Z lies in the future" in message
    update = {**hubs, "modified": stamp(), "name": "the analyst's real update"}
    assert succeeded(post(demo_hub, ANALYST, [update])) == {hubs["id"]}
    assert [o["name"] for o in latest(demo_hub, hubs["id"], MEMBER)] == ["the analyst's real update"]


def test_created_in_the_future_is_refused_even_from_the_hub(demo_hub: DemoHub) -> None:
    early = indicator(created="2099-01-01T00:00:00.000Z", modified="2099-01-01T00:00:00.000Z")
    assert "created: 2099-01-01T00:00:00.000Z lies in the future" in failures(post(demo_hub, ANALYST, [early]))[
        early["id"]]


def test_a_clock_a_little_ahead_is_tolerated(demo_hub: DemoHub) -> None:
    ahead = indicator(modified=stamp(120))
    assert succeeded(post(demo_hub, MEMBER, [ahead])) == {ahead["id"]}


def test_the_tolerated_skew_is_a_setting(demo_hub: DemoHub) -> None:
    settings = load_settings(demo_hub.config_path, env={"TAXII_HUB_FUTURE_SKEW_SECONDS": "10"})
    assert settings.future_skew_seconds == 10
    demo_hub.app = create_app(settings, demo_hub.store, on_published=PUBLISHED)
    ahead = indicator(modified=stamp(120))
    assert "lies in the future (more than 10 s" in failures(post(demo_hub, MEMBER, [ahead]))[ahead["id"]]


def test_a_revoked_object_accepts_no_further_versions_from_anyone(demo_hub: DemoHub) -> None:
    hubs = indicator(modified=stamp(-120))
    revoked = {**hubs, "modified": stamp(-60), "revoked": True}
    assert succeeded(post(demo_hub, ANALYST, [hubs, revoked])) == {hubs["id"]}
    again = {**hubs, "modified": stamp(), "name": "live again"}
    assert "revoked" in failures(post(demo_hub, ANALYST, [again]))[hubs["id"]]
    assert "first added by the hub" in failures(post(demo_hub, MEMBER, [again]))[hubs["id"]]  # not its object
    assert [o.get("revoked") for o in latest(demo_hub, hubs["id"], MEMBER)] == [True]
    assert succeeded(post(demo_hub, ANALYST, [revoked])) == {hubs["id"]}  # the same version again: a duplicate


def test_a_later_version_after_a_revocation_in_the_same_envelope_is_refused(demo_hub: DemoHub) -> None:
    hubs = indicator(modified=stamp(-60), revoked=True)
    again = {**hubs, "modified": stamp(), "revoked": False}
    status = post(demo_hub, ANALYST, [hubs, again])
    assert succeeded(status) == {hubs["id"]} and hubs["id"] in failures(status)


# -- markings that claim a TLP level -----------------------------------------------------------------------------

def test_a_statement_marking_reading_tlp_red_is_refused_in_an_amber_collection(demo_hub: DemoHub) -> None:
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
                 "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": "TLP:RED - for the named recipients only"}}
    marked = indicator(object_marking_refs=[statement["id"]])
    status = post(demo_hub, MEMBER, [statement, marked])
    assert "claims TLP:RED, above this collection's ceiling TLP:AMBER" in failures(status)[statement["id"]]
    assert "marked TLP:RED" in failures(status)[marked["id"]]


@pytest.mark.parametrize("marking", [
    {"name": "tlp:red", "definition_type": "statement", "definition": {"statement": "internal"}},
    {"definition_type": "tlp", "definition": {"tlp": "red"}},
    {"name": "TLP: AMBER+STRICT", "definition_type": "statement", "definition": {"statement": "x"}},
], ids=["name", "tlp-definition-under-another-id", "amber-strict"])
def test_other_ways_of_claiming_a_level_count_too(demo_hub: DemoHub, marking: dict[str, Any]) -> None:
    oid = f"marking-definition--{uuid.uuid4()}"
    obj = {"type": "marking-definition", "spec_version": "2.1", "id": oid, "created": "2024-01-01T00:00:00.000Z",
           **marking}
    assert "above this collection's ceiling" in failures(post(demo_hub, MEMBER, [obj]))[oid]


def test_a_statement_within_the_ceiling_is_accepted(demo_hub: DemoHub) -> None:
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
                 "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": "Copyright 2024 Higashi Gas, TLP:GREEN"}}
    assert succeeded(post(demo_hub, MEMBER, [statement])) == {statement["id"]}
