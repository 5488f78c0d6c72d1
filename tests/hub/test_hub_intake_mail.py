"""Intake of mail as members report it: forwarded reports, member domains and the allow-list from the register,
and a report the converter cannot handle kept as rejected (never a 500)."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage
from typing import Any

import orjson

from converters import ConversionOptions
from taxii_server.hub.intake import Intake
from tests.support.hubflow import DemoHub, principal
from tests.support.mailmaker import ATTACKER, attacker_mail

ANALYST = principal("hub-analyst")


def _report_from(org: str, *wrapped: EmailMessage) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"SOC desk <soc@{org}.example>"
    mail["To"] = "report@hub.example"
    mail["Subject"] = "FW: suspicious"
    mail["Date"] = "Tue, 01 Oct 2013 16:00:00 +0900"
    mail.set_content("Forwarding a suspicious mail. Ext. 4321")
    for inner in wrapped:
        mail.add_attachment(inner)
    return mail.as_bytes()


def _draft_patterns(hub: DemoHub, submission_id: str) -> list[str]:
    content = hub.store.get_submission_content(submission_id)
    assert content is not None
    draft: dict[str, Any] = orjson.loads(content.draft)
    return [o["pattern"] for o in draft["objects"] if o["type"] == "indicator"]


def _post(hub: DemoHub, org: str, body: bytes, name: str, content_type: str = "message/rfc822") -> Any:
    return hub.api("POST", "/submissions", org, body, **{"Content-Type": content_type, "X-Filename": name})


def test_a_forwarded_report_yields_the_attackers_indicators_and_nothing_of_the_reporter(demo_hub: DemoHub) -> None:
    response = _post(demo_hub, "kita-heavy", _report_from("kita-heavy", attacker_mail()), "report.eml")
    assert response.status_code == 202 and response.json["status"] == "converted"
    patterns = " ".join(_draft_patterns(demo_hub, response.json["id"]))
    assert ATTACKER in patterns and "evil-docs.example" in patterns
    content = demo_hub.store.get_submission_content(response.json["id"])
    assert content is not None and b"soc@kita-heavy.example" not in content.draft and b"4321" not in content.draft


def test_a_sender_at_a_registered_member_domain_is_never_an_indicator(demo_hub: DemoHub) -> None:
    spoofed = attacker_mail()
    spoofed.replace_header("From", "CEO <ceo@higashi-gas.example>")
    response = _post(demo_hub, "kita-heavy", spoofed.as_bytes(), "spoofed.eml")
    assert response.status_code == 202
    patterns = _draft_patterns(demo_hub, response.json["id"])
    assert not [p for p in patterns if "higashi-gas.example" in p]
    assert [p for p in patterns if "evil-docs.example" in p]


def test_an_allow_listed_value_is_never_an_indicator(demo_hub: DemoHub) -> None:
    demo_hub.services.allowlist.add(ANALYST, "domain-name", "evil-docs.example", "a partner's document portal")
    response = _post(demo_hub, "kita-heavy", attacker_mail().as_bytes(), "mail.eml")
    patterns = _draft_patterns(demo_hub, response.json["id"])
    assert patterns and not [p for p in patterns if "evil-docs.example" in p]
    (entry,) = [e for e in demo_hub.store.list_audit() if e.action == "submit" and e.target == response.json["id"]]
    held_back = orjson.loads(entry.details)["held_back"]
    assert held_back["URL: hub allow-list (a partner's document portal)"] == 1  # the analyst can review it


def test_an_upload_without_a_specific_media_type_is_recognised_by_the_registry(demo_hub: DemoHub) -> None:
    response = _post(demo_hub, "kita-heavy", attacker_mail().as_bytes(), "mail.eml", "application/octet-stream")
    assert response.status_code == 202 and response.json["status"] == "converted"
    junk = _post(demo_hub, "kita-heavy", b"\x00\x01 not a report", "junk.bin", "application/octet-stream")
    assert junk.status_code == 202 and junk.json["status"] == "rejected"
    (error,) = junk.json["errors"]
    assert error.startswith("junk.bin: ") and "\n" not in error


class _BrokenConverterIntake(Intake):
    """An intake whose conversion hits a bug (the allow-list callback raises), as an unknown mail might."""

    def conversion_options(self, reporter: str | None = None) -> ConversionOptions:
        def broken(kind: str, value: str) -> str | None:
            raise RuntimeError("converter bug")

        return dataclasses.replace(super().conversion_options(reporter), allowed=broken)


def test_a_converter_bug_is_a_rejected_submission_with_one_line_not_a_500(demo_hub: DemoHub) -> None:
    intake = demo_hub.services.intake
    broken = _BrokenConverterIntake(demo_hub.store, intake.options, intake.audit)
    submission = broken.submit(principal("kita-heavy"), attacker_mail().as_bytes(), "message/rfc822", "cli", "x.eml")
    assert submission.state == "rejected"
    (error,) = submission.errors
    assert error.startswith("x.eml: (internal): ") and "\n" not in error and "Traceback" not in error
    assert demo_hub.store.get_submission_content(submission.id) is not None  # kept for an analyst
