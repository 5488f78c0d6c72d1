"""The conversation-type case #4-1 … #4-9 yields the objects and relationships of stix-mapping §1.3."""

from __future__ import annotations

from typing import Any

import pytest

from converters import load_records, record_to_bundle
from converters.observables import THREAD_EXTENSION_ID
from tests.support.conv_support import OPTIONS, SAMPLES, objects_of

TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
INNER_SHA256 = "658c96a3e24c5a20163c5415a15d246c7094f85b78632ee4a3aee52cfb3d0253"


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    data = (SAMPLES / "records" / "case04-conversation.json").read_bytes()
    return record_to_bundle(load_records(data, "case04-conversation.json")[0], OPTIONS)


def _by_step(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["extensions"][THREAD_EXTENSION_ID]["step"]: m for m in objects_of(bundle, "email-message")}


def _relations(bundle: dict[str, Any]) -> set[tuple[str, str, str]]:
    by_id = {o["id"]: o for o in bundle["objects"]}

    def label(ref: str) -> str:
        obj = by_id[ref]
        external = obj.get("external_references", [{}])[0].get("external_id")
        return external or obj["type"]

    return {(label(r["source_ref"]), r["relationship_type"], label(r["target_ref"]))
            for r in objects_of(bundle, "relationship")}


def test_one_email_message_and_one_observed_data_per_step(bundle: dict[str, Any]) -> None:
    steps = _by_step(bundle)
    assert sorted(steps) == [f"4-{n}" for n in range(1, 10)]
    observed = objects_of(bundle, "observed-data")
    assert len(observed) == 9
    assert {o["object_refs"][0] for o in observed} == {m["id"] for m in steps.values()}


@pytest.mark.parametrize("step", ["4-2", "4-4", "4-6", "4-8"])
def test_victim_replies_are_metadata_only_and_amber_strict(bundle: dict[str, Any], step: str) -> None:
    reply = _by_step(bundle)[step]
    assert set(reply) <= {"type", "spec_version", "id", "is_multipart", "date", "subject", "message_id",
                          "additional_header_fields", "extensions", "object_marking_refs"}
    assert reply["message_id"].startswith("<redacted-") and reply["message_id"].endswith("@member.invalid>")
    assert reply["object_marking_refs"] == [TLP_AMBER_STRICT]
    assert reply["extensions"][THREAD_EXTENSION_ID]["role"] == "victim-reply"


def test_attacker_messages_have_sender_subject_and_attachments(bundle: dict[str, Any]) -> None:
    steps = _by_step(bundle)
    sender = objects_of(bundle, "email-addr")
    assert [a["value"] for a in sender] == ["k.tanaka.lab2013@freemail.example"]
    for step in ("4-1", "4-3", "4-5", "4-7", "4-9"):
        assert steps[step]["from_ref"] == sender[0]["id"]
        assert steps[step]["subject"].endswith("製品に関する問い合わせ")
        assert steps[step]["object_marking_refs"] == [TLP_AMBER]
    for step in ("4-3", "4-5", "4-9"):
        parts = steps[step]["body_multipart"]
        assert steps[step]["is_multipart"] is True
        assert parts[-1]["body_raw_ref"].startswith("file--")


def test_attacker_in_reply_to_quoting_a_victim_message_id_is_pseudonymised(bundle: dict[str, Any]) -> None:
    steps = _by_step(bundle)
    assert steps["4-3"]["additional_header_fields"]["In-Reply-To"] == steps["4-2"]["message_id"]


@pytest.mark.parametrize(("step", "seconds"), [("4-3", 785), ("4-5", 880), ("4-7", 795), ("4-9", 3090)])
def test_reply_latency_of_each_attacker_answer(bundle: dict[str, Any], step: str, seconds: int) -> None:
    extension = _by_step(bundle)[step]["extensions"][THREAD_EXTENSION_ID]
    assert extension["reply_latency_seconds"] == seconds
    assert extension["in_reply_to_step"] == f"4-{int(step[-1]) - 1}"


def test_both_rar_archives_contain_the_same_inner_file(bundle: dict[str, Any]) -> None:
    files = {f["id"]: f for f in objects_of(bundle, "file")}
    archives = [f for f in files.values() if f["name"].endswith(".rar")]
    assert len(archives) == 2
    assert archives[0]["hashes"]["SHA-256"] != archives[1]["hashes"]["SHA-256"]
    inner = {tuple(a["extensions"]["archive-ext"]["contains_refs"]) for a in archives}
    assert len(inner) == 1
    (inner_id,) = next(iter(inner))
    assert files[inner_id]["hashes"]["SHA-256"] == INNER_SHA256
    assert [f["id"] for f in files.values() if f["hashes"]["SHA-256"] == INNER_SHA256] == [inner_id]


def test_archive_password_sits_on_an_artifact_reached_by_content_ref(bundle: dict[str, Any]) -> None:
    artifacts = {a["id"]: a for a in objects_of(bundle, "artifact")}
    for archive in (f for f in objects_of(bundle, "file") if f["name"].endswith(".rar")):
        artifact = artifacts[archive["content_ref"]]
        assert artifact["decryption_key"] == "lab2013"
        assert artifact["encryption_algorithm"] == "mime-type-indicated"
        assert artifact["hashes"] == archive["hashes"]
        assert "password" not in str(archive.get("extensions"))


def test_the_lhaplus_follow_up_is_an_amber_strict_note(bundle: dict[str, Any]) -> None:
    (note,) = objects_of(bundle, "note")
    steps = _by_step(bundle)
    assert "Lhaplus" in note["content"] and "#4-7" in note["content"] and "#4-9" in note["content"]
    assert note["object_marking_refs"] == [TLP_AMBER_STRICT]
    assert note["object_refs"] == [steps["4-7"]["id"], steps["4-8"]["id"], steps["4-9"]["id"]]


def test_attack_patterns_for_what_the_thread_shows(bundle: dict[str, Any]) -> None:
    ids = {p["external_references"][0]["external_id"] for p in objects_of(bundle, "attack-pattern")}
    assert ids == {"T1598", "T1592.002", "T1585.002", "T1566.001", "T1204.002", "T1027.013", "T1071.001",
                   "T1584.004"}
    for pattern in objects_of(bundle, "attack-pattern"):
        assert set(pattern["external_references"][0]) == {"source_name", "external_id"}


def test_relationships_link_indicators_malware_infrastructure_and_techniques(bundle: dict[str, Any]) -> None:
    relations = _relations(bundle)
    expected = {
        ("indicator", "indicates", "T1598"),
        ("indicator", "indicates", "T1585.002"),
        ("indicator", "indicates", "infrastructure"),
        ("indicator", "indicates", "malware"),
        ("indicator", "indicates", "T1027.013"),
        ("indicator", "indicates", "T1584.004"),
        ("indicator", "based-on", "observed-data"),
        ("T1566.001", "delivers", "malware"),
        ("malware", "beacons-to", "infrastructure"),
        ("malware", "uses", "T1071.001"),
        ("malware", "uses", "T1204.002"),
        ("infrastructure", "consists-of", "domain-name"),
        ("infrastructure", "consists-of", "email-addr"),
        ("infrastructure", "located-at", "location"),
        ("domain-name", "resolves-to", "ipv4-addr"),
        ("T1592.002", "targets", "identity"),
    }
    assert expected <= relations


def test_compromised_c2_site_is_marked_and_its_indicators_expire(bundle: dict[str, Any]) -> None:
    infrastructure = [i for i in objects_of(bundle, "infrastructure") if "command-and-control" in
                      i["infrastructure_types"]]
    assert len(infrastructure) == 1
    assert infrastructure[0]["labels"] == ["compromised-legitimate-site"]
    by_pattern = {i["pattern"]: i for i in objects_of(bundle, "indicator")}
    domain = by_pattern["[domain-name:value = 'www.kyoto-ryokan.example']"]
    ip = by_pattern["[ipv4-addr:value = '203.0.113.45']"]
    assert domain["indicator_types"] == ["compromised"] and ip["indicator_types"] == ["compromised"]
    assert domain["valid_until"] > domain["valid_from"] and ip["valid_until"] > ip["valid_from"]


def test_no_domain_indicator_for_the_free_mail_provider(bundle: dict[str, Any]) -> None:
    patterns = [i["pattern"] for i in objects_of(bundle, "indicator")]
    assert not [p for p in patterns if "freemail.example'" in p and p.startswith("[domain-name")]
    assert "[email-message:from_ref.value = 'k.tanaka.lab2013@freemail.example']" in patterns


def test_indicators_take_valid_from_from_the_record(bundle: dict[str, Any]) -> None:
    by_pattern = {i["pattern"]: i for i in objects_of(bundle, "indicator")}
    sender = by_pattern["[email-message:from_ref.value = 'k.tanaka.lab2013@freemail.example']"]
    assert sender["valid_from"] == "2013-10-01T01:02:10.000Z"
    for indicator in by_pattern.values():
        assert indicator["name"] and indicator["description"] and indicator["indicator_types"]
        assert indicator["created"] == "2013-10-03T00:30:00.000Z"


def test_targeted_party_is_an_anonymised_sector_class(bundle: dict[str, Any]) -> None:
    classes = [i for i in objects_of(bundle, "identity") if i["identity_class"] == "class"]
    assert len(classes) == 1
    assert classes[0]["sectors"] == ["manufacturing", "aerospace", "defense"]
    (sighting,) = objects_of(bundle, "sighting")
    assert sighting["where_sighted_refs"] == [classes[0]["id"]]
    assert sighting["count"] == 5


def test_japanese_text_carries_lang_ja_and_a_grouping_holds_the_thread(bundle: dict[str, Any]) -> None:
    malware = objects_of(bundle, "malware")
    assert {m["lang"] for m in malware} == {"ja"}
    (grouping,) = objects_of(bundle, "grouping")
    assert grouping["context"] == "suspicious-activity"
    assert set(_by_step(bundle)[s]["id"] for s in ("4-1", "4-9")) <= set(grouping["object_refs"])
    assert grouping["object_marking_refs"] == [TLP_AMBER_STRICT]
