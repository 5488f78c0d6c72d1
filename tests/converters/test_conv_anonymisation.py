"""No output contains a reporter id, a victim address, a victim Message-ID or a member's internal Received hop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import audit_bundle, bundle_bytes, load_records, parse_eml, record_to_bundle, sensitive_values
from tests.support.conv_support import EML_SAMPLES, OPTIONS, RECORD_SAMPLES, objects_of

INTERNAL_HOP = ("from mx1.kita-heavy.example (mx1.kita-heavy.example [10.1.2.3]) by mbox.kita-heavy.example "
                "with ESMTP; Tue, 01 Oct 2013 14:43:09 +0900")
GATEWAY_HOP = ("from mail.freemail.example (mail.freemail.example [198.51.100.7]) by mx1.kita-heavy.example "
               "with ESMTPS; Tue, 01 Oct 2013 14:43:07 +0900")
SENDER_HOP = "from [192.0.2.77] (unknown [192.0.2.77]) by mail.freemail.example with ESMTPA; Tue, 01 Oct 2013"

THREAD = {
    "format": "incident-record/1", "id": "KITA-2013-0099", "reporter": "kita-heavy",
    "reported_at": "2013-10-03T09:30:00+09:00", "tlp": "amber",
    "messages": [
        {"ref": "#1", "role": "recon", "sent_at": "2013-10-01T10:00:00+09:00",
         "from": {"address": "lure@freemail.example"},
         "to": [{"address": "contact@kita-heavy.example", "display_name": "窓口"}],
         "cc": [{"address": "sales@kita-heavy.example"}], "subject": "お問い合わせ", "body": "資料をください。",
         "message_id": "<m1@freemail.example>"},
        {"ref": "#2", "role": "reply", "sent_at": "2013-10-01T11:00:00+09:00",
         "from": {"address": "yamada.taro@kita-heavy.example", "display_name": "山田 太郎"},
         "to": [{"address": "lure@freemail.example"}], "subject": "Re: お問い合わせ",
         "body": "山田です。弊社の Lhaplus で開けます。", "message_id": "<v2.secret@mail.kita-heavy.example>",
         "in_reply_to": "<m1@freemail.example>", "headers": {"X-Mailer": "KitaMail 3.1"}},
        {"ref": "#3", "role": "attack", "sent_at": "2013-10-01T11:13:00+09:00",
         "from": {"address": "lure@freemail.example"},
         "to": [{"address": "yamada.taro@kita-heavy.example"}],
         "subject": "Re: お問い合わせ (yamada.taro@kita-heavy.example 様)",
         "body": "山田様\nご確認ください。http://www.kita-heavy.example/news と http://evil.example/x\n"
                 "> 山田です。弊社の Lhaplus で開けます。\n-----Original Message-----\nFrom: yamada.taro",
         "message_id": "<m3@freemail.example>", "in_reply_to": "<v2.secret@mail.kita-heavy.example>",
         "headers": {"References": "<m1@freemail.example> <v2.secret@mail.kita-heavy.example>",
                     "Delivered-To": "yamada.taro@kita-heavy.example", "X-Mailer": "Outlook 14.0"},
         "received": [INTERNAL_HOP, GATEWAY_HOP, SENDER_HOP],
         "urls": ["http://www.kita-heavy.example/news", "http://evil.example/x"],
         "attachments": [{"name": "資料.doc", "sha256": "a" * 64, "kind": "word"}]},
    ],
}


@pytest.fixture(scope="module")
def record_and_json() -> tuple[object, str]:
    record = load_records(json.dumps(THREAD).encode(), "thread.json")[0]
    return record, bundle_bytes(record_to_bundle(record, OPTIONS)).decode()


def test_sensitive_values_cover_reporter_addresses_message_ids_and_internal_hops(
        record_and_json: tuple[object, str]) -> None:
    record, _ = record_and_json
    values = sensitive_values(record)  # type: ignore[arg-type]
    assert {"kita-heavy", "contact@kita-heavy.example", "sales@kita-heavy.example",
            "yamada.taro@kita-heavy.example", "<v2.secret@mail.kita-heavy.example>", INTERNAL_HOP,
            GATEWAY_HOP} <= values
    assert SENDER_HOP not in values
    assert "lure@freemail.example" not in values


def test_no_sensitive_value_and_not_even_the_victim_domain_is_published(
        record_and_json: tuple[object, str]) -> None:
    record, text = record_and_json
    for value in sensitive_values(record):  # type: ignore[arg-type]
        assert value not in text
    assert "kita-heavy" not in text
    assert "v2.secret" not in text
    assert "山田 太郎" not in text


def test_sender_side_facts_survive_anonymisation(record_and_json: tuple[object, str]) -> None:
    _, text = record_and_json
    bundle = json.loads(text)
    attack = next(m for m in objects_of(bundle, "email-message") if m.get("body_multipart"))
    assert attack["received_lines"] == [SENDER_HOP]
    assert attack["additional_header_fields"]["X-Mailer"] == "Outlook 14.0"
    assert "Delivered-To" not in attack["additional_header_fields"]
    references = attack["additional_header_fields"]["References"]
    assert references.startswith("<m1@freemail.example> <redacted-")
    assert [u["value"] for u in objects_of(bundle, "url")] == ["http://evil.example/x"]


def test_quoted_victim_text_is_cut_from_attacker_bodies(record_and_json: tuple[object, str]) -> None:
    _, text = record_and_json
    assert "Lhaplus" not in text
    assert "Original Message" not in text


def test_victim_reply_keeps_no_mailer_sender_or_body(record_and_json: tuple[object, str]) -> None:
    _, text = record_and_json
    assert "KitaMail" not in text
    assert audit_bundle(json.loads(text)) == []


@pytest.mark.parametrize("path", RECORD_SAMPLES + EML_SAMPLES, ids=lambda p: p.name)
def test_samples_publish_nothing_sensitive(path: Path) -> None:
    if path.suffix == ".eml":
        records = [parse_eml(path.read_bytes(), path.name)]
    else:
        records = load_records(path.read_bytes(), path.name)
    for record in records:
        text = bundle_bytes(record_to_bundle(record, OPTIONS)).decode()
        values = sensitive_values(record)
        assert values
        for value in values:
            assert value not in text
        for message in (m for m in record.messages if m.role != "reply"):
            for recipient in (*message.to, *message.cc):
                assert recipient.address.split("@")[1] not in text
        if record.reporter:
            assert record.reporter not in text


def test_audit_flags_what_a_careless_converter_would_leak() -> None:
    record = load_records(json.dumps(THREAD).encode(), "thread.json")[0]
    bundle = json.loads(bundle_bytes(record_to_bundle(record, OPTIONS)))
    email = next(m for m in objects_of(bundle, "email-message") if m.get("from_ref"))
    email["to_refs"] = [email["from_ref"]]
    email.setdefault("additional_header_fields", {})["Delivered-To"] = "x"
    reply = next(m for m in objects_of(bundle, "email-message") if not m.get("from_ref"))
    reply["message_id"] = "<v2.secret@mail.kita-heavy.example>"
    bundle["objects"].append({"type": "identity", "spec_version": "2.1", "id": "identity--1", "name": "Kita",
                              "identity_class": "organization", "object_marking_refs": ["marking-definition--x"]})
    fields = {f.field for f in audit_bundle(bundle, sensitive_values(record))}
    assert {"to_refs", "additional_header_fields.Delivered-To", "message_id", "identity_class",
            "object_marking_refs", "(any)"} <= fields
