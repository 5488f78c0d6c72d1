"""Budgets before work: every list and string of a report has a cap checked before schema validation or
conversion; over one is a 413 that names the field and the limit and never quotes the input (how fast: bench/
slowclients.py); a conversion has a CPU budget; one organisation's conversions hold at most a share of a
worker's threads."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from converters import Budget, BudgetExceeded
from taxii_server.errors import TooManyRequests
from taxii_server.hub.share import WorkerShare, slots_for
from tests.support.hubflow import INBOX, RECORDS, DemoHub, make_demo_hub, principal

CASE10 = RECORDS / "case10-unrelated-phishing.json"
ORG = "chuo-oil"


def _record() -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(CASE10.read_bytes())
    doc["reporter"] = ORG
    return doc


def _recipients(n: int) -> list[dict[str, str]]:
    return [{"address": f"v{i}@r.example"} for i in range(n)]


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = _record()
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


OVERSIZED = {
    "max_recipients": (("messages", 0, "to"), _recipients(501), "messages[0]"),
    "max_messages": (("messages",), None, "messages"),
    "max_attachments": (("messages", 0, "attachments"), [{"name": f"a{i}.zip"} for i in range(101)],
                        "messages[0].attachments"),
    "max_urls": (("messages", 0, "urls"), [f"https://u{i}.example/" for i in range(501)], "messages[0].urls"),
    "max_text_chars": (("messages", 0, "body"), "x" * (512 * 1024 + 1), "messages[0].body"),
    "max_field_chars": (("messages", 0, "subject"), "s" * (16 * 1024 + 1), "messages[0].subject"),
}


@pytest.mark.parametrize("limit", sorted(OVERSIZED))
def test_a_report_over_a_budget_is_a_fast_413_naming_field_and_limit(demo_hub: DemoHub, limit: str) -> None:
    path, value, field = OVERSIZED[limit]
    doc = _with(path, value) if value is not None else _with(path, _record()["messages"] * 101)
    body = orjson.dumps(doc)
    response = demo_hub.api("POST", "/submissions", ORG, body)
    assert response.status_code == 413, response.data
    description = response.json["description"]
    assert limit in description and field in description
    assert len(response.data) < 600  # the message, never the content
    assert "v1@r" not in description and "xxxx" not in description
    assert demo_hub.store.list_submissions() == []  # refused, not kept


def test_600_000_recipients_are_refused_at_the_501st_without_reading_the_rest(demo_hub: DemoHub) -> None:
    body = orjson.dumps(_with(("messages", 0, "to"), _recipients(600_000)))
    broken = body[:-2] + b",,"  # invalid JSON at the very end: a reader that got there would say so instead
    for sent in (body, broken):
        response = demo_hub.api("POST", "/submissions", ORG, sent)
        assert response.status_code == 413, response.data
        assert response.json["description"] == ("upload: (file): messages[0]: more than 500 recipients in to and cc "
                                                 "(limit 500, max_recipients)")
        assert response.headers["Content-Type"].startswith("application/json")
    assert demo_hub.store.list_submissions() == []


def test_a_file_with_more_records_than_allowed_is_a_413(demo_hub: DemoHub) -> None:
    records = []
    for n in range(1001):
        doc = _record()
        doc["id"] = f"r-{n}"
        records.append(doc)
    response = demo_hub.api("POST", "/submissions", ORG, orjson.dumps(records))
    assert response.status_code == 413
    assert "max_records" in response.json["description"]


def test_a_mail_with_more_recipients_than_allowed_is_a_413(demo_hub: DemoHub) -> None:
    to = ", ".join(f"v{i}@recipient.example" for i in range(501))
    mail = (f"From: a@sender.example\r\nTo: {to}\r\nSubject: hi\r\nDate: Tue, 07 May 2024 01:00:00 +0000\r\n"
            "Message-ID: <m@sender.example>\r\n\r\nsee https://bad.example/x\r\n").encode()
    response = demo_hub.api("POST", "/submissions", ORG, mail, **{"Content-Type": "message/rfc822"})
    assert response.status_code == 413, response.data
    assert "max_recipients" in response.json["description"]
    assert "v1@" not in response.json["description"]


def test_the_budgets_are_configurable_in_limits(tmp_path: Path) -> None:
    hub = make_demo_hub(tmp_path, "[limits]\nmax_recipients = 2\n")
    try:
        response = hub.api("POST", "/submissions", ORG, orjson.dumps(_with(("messages", 0, "to"), _recipients(3))))
        assert response.status_code == 413
        assert "limit 2, max_recipients" in response.json["description"]
    finally:
        hub.store.close()


def test_a_json_string_over_the_json_budget_is_a_413_on_taxii_too(tmp_path: Path) -> None:
    hub = make_demo_hub(tmp_path, "[limits]\nmax_json_string_chars = 100\n")
    try:
        obj = {"type": "indicator", "id": "indicator--0c3f6d8e-5a4b-4c2d-9e1f-000000000001", "name": "n" * 101}
        response = hub.client().post(
            f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": [obj]}),
            headers=hub.auth(ORG, Accept="application/taxii+json;version=2.1",
                             **{"Content-Type": "application/taxii+json;version=2.1"}))
        assert response.status_code == 413, response.data
        assert "objects[0].name" in response.json["description"]
        assert "max_json_string_chars" in response.json["description"] and "nnnn" not in response.data.decode()
        assert response.headers["Content-Type"] == "application/taxii+json;version=2.1"
    finally:
        hub.store.close()


def test_an_envelope_with_one_huge_list_is_refused_at_the_first_item_over_the_budget(tmp_path: Path) -> None:
    hub = make_demo_hub(tmp_path, "[limits]\nmax_json_array_items = 1000\n")
    try:
        labels = b", ".join(b'"l%d"' % n for n in range(200_000))
        body = b'{"objects": [{"type": "indicator", "labels": [' + labels + b", !!!"  # broken after the list
        response = hub.client().post(
            f"/hub/collections/{INBOX}/objects/", data=body,
            headers=hub.auth(ORG, Accept="application/taxii+json;version=2.1",
                             **{"Content-Type": "application/taxii+json;version=2.1"}))
        assert response.status_code == 413, response.data
        assert response.json["description"] == ("objects[0].labels: more than 1000 items (limit 1000, "
                                                "max_json_array_items)")
        assert response.headers["Content-Type"] == "application/taxii+json;version=2.1"
    finally:
        hub.store.close()


class _Ticking:
    """A CPU clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_conversion_over_its_cpu_budget_is_refused_clearly() -> None:
    budget = Budget(1, clock=_Ticking())
    budget.check("r.json")
    with pytest.raises(BudgetExceeded) as refused:
        budget.check("r.json")
    assert "conversion_cpu_seconds" in str(refused.value) and "1 s of CPU time" in str(refused.value)


def test_the_hub_refuses_a_report_whose_conversion_exceeds_the_budget(demo_hub: DemoHub) -> None:
    demo_hub.services.intake.cpu_seconds = 0.0
    many = _record()
    many["messages"] = many["messages"] * 50
    response = demo_hub.api("POST", "/submissions", ORG, orjson.dumps(many))
    assert response.status_code == 422, response.data
    assert "CPU time" in response.json["description"]
    assert demo_hub.store.list_submissions() == []


@pytest.mark.parametrize(("threads", "share", "slots"), [(2, 50, 1), (4, 50, 2), (4, 100, 3), (1, 50, 1), (8, 25, 2)])
def test_an_organisation_holds_at_most_its_share_and_never_every_thread(threads: int, share: int, slots: int) -> None:
    assert slots_for(threads, share) == slots


def test_an_organisation_over_its_share_gets_429_while_others_proceed() -> None:
    share = WorkerShare(1)
    with share.hold("a"):
        with pytest.raises(TooManyRequests) as refused, share.hold("a"):
            pass
        assert refused.value.retry_after >= 1
        with share.hold("b"):
            pass
    with share.hold("a"):  # released again
        pass


def test_intake_converts_inside_the_organisations_share(demo_hub: DemoHub) -> None:
    intake = demo_hub.services.intake
    intake.share = WorkerShare(1)
    with intake.share.hold(ORG):
        with pytest.raises(TooManyRequests):
            intake.submit(principal(ORG), orjson.dumps(_record()), "application/json", "http", "r.json")
    assert intake.submit(principal(ORG), orjson.dumps(copy.deepcopy(_record())), "application/json", "http",
                         "r.json").state == "converted"
