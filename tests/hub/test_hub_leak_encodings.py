"""One leak check that sees through encodings. The attack: a victim value hidden in what the hub publishes —
the address percent-encoded in a URL (`?u=it-admin%40kita-heavy.example`), the recipient's display name
(北 太郎), a bare local part (`?for=suzuki.ichiro`), a base64-encoded address, a short form of the member's
name (`KitaHeavy`) — passed the old exact-text check and was published to every member. Now every string is
read in all its decoded forms, token by token, and a finding names the object, the property and the kind of
value, never the value."""

from __future__ import annotations

import base64
import dataclasses
import html
import quopri
import urllib.parse
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from converters import load_records
from taxii_server.hub import leaks, sensitive
from taxii_server.hub.sensitive import Sensitive
from tests.support.hubflow import MEMBER_FEED, DemoHub, principal, record, submit_campaign

ANALYST = principal("hub-analyst")

RECIPIENT = "it-admin@kita-heavy.example"
RECORD = {
    **record("kita-heavy", "KITA-2024-0777", sender="attacker@evil.example", subject="請求書",
             sent_at="2024-05-01T10:00:00+09:00", victim=RECIPIENT),
}
RECORD["messages"][0]["to"] = [{"address": RECIPIENT, "display_name": "北 太郎"},
                               {"address": "suzuki.ichiro@kita-heavy.example"}]
RECORD["messages"][0]["received"] = [
    "from mailgw.corp-internal.example ([10.20.30.40]) by exch01.corp-internal.example ([10.20.30.41]); "
    "Wed, 1 May 2024 10:00:05 +0900",
    "from mail.evil.example ([198.51.100.9]) by mailgw.corp-internal.example ([10.20.30.40]); "
    "Wed, 1 May 2024 10:00:03 +0900",
]
RECORD["messages"].append({
    "ref": "#2", "role": "reply", "sent_at": "2024-05-01T11:00:00+09:00",
    "from": {"address": RECIPIENT, "display_name": "北 太郎"}, "to": [{"address": "attacker@evil.example"}],
    "subject": "Re: 請求書", "body": "確認します", "message_id": "<r1.x9@mail.kita-heavy.example>",
})

# (value, kind) the check must find, each as the victim facts of the record above or the register give them
VALUES = [
    (RECIPIENT, sensitive.RECIPIENT),
    ("北 太郎", sensitive.DISPLAY_NAME),
    ("suzuki.ichiro", sensitive.LOCAL_PART),
    ("KitaHeavy", sensitive.MEMBER_ID),
    ("kita heavy", sensitive.MEMBER_ID),
    ("Kita Heavy Industries", sensitive.MEMBER_NAME),
    ("KHI-Group", sensitive.MEMBER_ALIAS),
    ("kita-heavy.example", sensitive.MEMBER_DOMAIN),
    ("exch01.corp-internal.example", sensitive.HOST),
    ("10.20.30.41", sensitive.PRIVATE_ADDRESS),
    ("<r1.x9@mail.kita-heavy.example>", sensitive.MESSAGE_ID),
    ("KITA-2024-0777", sensitive.RECORD_ID),
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda v: v,
    "percent": lambda v: urllib.parse.quote(v, safe=""),
    "percent-twice": lambda v: urllib.parse.quote(urllib.parse.quote(v, safe=""), safe=""),
    "html-entities": lambda v: "".join(f"&#{ord(c)};" for c in v),
    "html-named": lambda v: html.escape(v).replace("@", "&commat;").replace(".", "&period;"),
    "base64": _b64,
    "base64-urlsafe": lambda v: base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
    "base64-of-percent": lambda v: _b64(urllib.parse.quote(v, safe="")),
    "quoted-printable": lambda v: quopri.encodestring(v.encode(), quotetabs=True).decode().replace("=\n", "")
    .replace(".", "=2E").replace("@", "=40").replace("-", "=2D"),
    "rfc2047": lambda v: f"=?utf-8?b?{_b64(v)}?=",
    "fullwidth": lambda v: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in v),
    "upper-case": lambda v: v.upper(),
    "separators": lambda v: v.replace(".", " ").replace("-", "_").replace("@", " at "),
    "zero-width": lambda v: "\u200b".join(v),
}

PLACES: dict[str, Callable[[dict[str, Any], str], str]] = {}


def _place(name: str) -> Callable[[Callable[[dict[str, Any], str], str]], Callable[[dict[str, Any], str], str]]:
    def register(put: Callable[[dict[str, Any], str], str]) -> Callable[[dict[str, Any], str], str]:
        PLACES[name] = put
        return put
    return register


@_place("description")
def _description(obj: dict[str, Any], text: str) -> str:
    obj["description"] = f"Seen on 1 May. ({text}) Details follow."
    return "description"


@_place("url-in-pattern")
def _pattern(obj: dict[str, Any], text: str) -> str:
    obj["pattern"] = f"[url:value = 'https://track.evil.example/c?u={text}&t=1']"
    return "pattern"


@_place("external-reference")
def _external(obj: dict[str, Any], text: str) -> str:
    obj["external_references"] = [{"source_name": "ticket", "url": f"https://tickets.example/view?for={text}"}]
    return "external_references[0].url"


@_place("custom-property")
def _custom(obj: dict[str, Any], text: str) -> str:
    obj["x_notes"] = {"seen": [f"{text}"]}
    return "x_notes.seen[0]"


@_place("property-name")
def _key(obj: dict[str, Any], text: str) -> str:
    obj[f"x_{text}"] = True
    return "<a property name> (name)"


@pytest.fixture(scope="module")
def needles() -> list[tuple[Any, str]]:
    (rec,) = load_records(orjson.dumps(RECORD), "crafted.json")
    facts = sensitive.from_record(rec)
    org = sensitive.from_register([_kita()])
    return sensitive.needles(facts | org)


def _kita() -> Any:
    from taxii_server.model import Organisation

    return Organisation("kita-heavy", "Kita Heavy Industries (demo)", "heavy-industry", ("member",), "2024-01-01",
                        aliases=("KHI-Group",), domains=("kita-heavy.example",))


def _indicator() -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b8f5c62-3c7e-4d6a-8f1e-2a3b4c5d6e7f",
            "created": "2024-05-02T00:00:00.000Z", "modified": "2024-05-02T00:00:00.000Z",
            "name": "Phishing link", "pattern": "[url:value = 'https://track.evil.example/c']",
            "pattern_type": "stix", "valid_from": "2024-05-02T00:00:00Z"}


def test_the_record_yields_every_kind_of_protected_value(needles: list[tuple[Any, str]]) -> None:
    kinds = {kind for _, kind in needles}
    assert {kind for _, kind in VALUES} <= kinds


# a property name holds no percent signs, entities or `=?…?=`: only the encodings that can sit there
_IN_NAMES = ("plain", "upper-case", "separators", "fullwidth", "base64")
CASES = [pytest.param(value, kind, encoding, place, id=f"{kind.split()[-1]}-{value[:12]}-{encoding}-{place}")
         for value, kind in VALUES for encoding in sorted(ENCODINGS) for place in sorted(PLACES)
         if place != "property-name" or encoding in _IN_NAMES]


@pytest.mark.parametrize(("value", "kind", "encoding", "place"), CASES)
def test_an_encoded_victim_value_is_found_wherever_it_sits(
    needles: list[tuple[Any, str]], value: str, kind: str, encoding: str, place: str
) -> None:
    obj = _indicator()
    prop = PLACES[place](obj, ENCODINGS[encoding](value))
    found = leaks.scan([obj], needles)
    assert any(f.object_id == obj["id"] and f.property == prop for f in found), (found, prop)
    assert all(value not in str(f) and ENCODINGS[encoding](value) not in str(f) for f in found)


def test_a_clean_indicator_has_no_findings(needles: list[tuple[Any, str]]) -> None:
    assert leaks.scan([_indicator()], needles) == []


@pytest.mark.parametrize("text", [
    "the attacker also shops for operations data",  # "ops" is a 3-letter local part
    "sent to the sales department",  # a role mailbox alone says nothing
    "a heavy industries campaign",  # part of a name is not the name
    "kitakyushu heavy rain",  # token-aligned: kita != kitakyushu
    "198ff0c034b9cd08c21de619d1ee73f0ed2461e611b5ac3dbea9f161604cf8f0",
])
def test_short_and_partial_values_do_not_block_ordinary_text(text: str) -> None:
    values = {Sensitive("ops@kita-heavy.example", sensitive.RECIPIENT), Sensitive("ops", sensitive.LOCAL_PART),
              Sensitive("sales", sensitive.LOCAL_PART), Sensitive("Kita Heavy Industries", sensitive.MEMBER_NAME),
              Sensitive("kita-heavy", sensitive.MEMBER_ID), Sensitive("c034b9cd08", sensitive.RECORD_ID)}
    obj = {**_indicator(), "description": text}
    assert leaks.scan([obj], sensitive.needles(values)) == []


def test_a_role_mailbox_is_still_protected_as_a_whole_address() -> None:
    values = {Sensitive("sales@kita-heavy.example", sensitive.RECIPIENT), Sensitive("sales", sensitive.LOCAL_PART)}
    obj = {**_indicator(), "description": "mail to sales%40kita-heavy.example"}
    assert [f.kind for f in leaks.scan([obj], sensitive.needles(values))] == [f"contains {sensitive.RECIPIENT}"]


def test_any_private_address_is_refused_even_if_no_report_named_it() -> None:
    obj = {**_indicator(), "pattern": "[ipv4-addr:value = '192.168.10.5']"}
    assert [(f.property, f.kind) for f in leaks.scan([obj], [])] == [
        ("pattern", f"contains {sensitive.PRIVATE_ADDRESS}")]


@pytest.mark.parametrize("url", [
    "http://acct-verify9.example/10.20.30.40.php",  # a dot after the quad
    "http://acct-verify9.example/a/da192.168.7.7",  # hex letters before it
    "http://acct-verify9.example/v1.10.20.30.40",  # a longer run of dotted numbers
    "http://[::ffff:10.20.30.42]/y",  # IPv4-mapped IPv6, dotted
    "http://[::ffff:a14:1e2a]/y",  # IPv4-mapped IPv6, hex (10.20.30.42)
    "http://[2002:a14:1e2a::1]/y",  # 6to4 of 10.20.30.42
    "http://[64:ff9b::a14:1e2a]/y",  # NAT64 of 10.20.30.42
    "http://[fe80::1]/y",
])
def test_a_private_address_in_any_written_form_is_refused(url: str) -> None:
    obj = {**_indicator(), "pattern": f"[url:value = '{url}']"}
    assert [(f.property, f.kind) for f in leaks.scan([obj], [])] == [
        ("pattern", f"contains {sensitive.PRIVATE_ADDRESS}")]


@pytest.mark.parametrize("url", ["http://198.51.100.7/x", "http://[2001:db8::7]/x", "http://[::ffff:198.51.100.7]/",
                                 "http://evil.example/v2.0.1.3/setup.exe", "http://evil.example/cafe::beef"])
def test_public_addresses_and_version_numbers_pass(url: str) -> None:
    obj = {**_indicator(), "pattern": f"[url:value = '{url}']"}
    assert leaks.scan([obj], []) == []


# -- through the hub: the analyst's text, and the hub's direct-write check -----------------------------------

ATTACKS = {
    "percent-encoded address": "https://evil.example/?u=it-admin%40kita-heavy.example",
    "display name": "宛先は北太郎様",
    "bare local part": "https://evil.example/?for=suzuki.ichiro",
    "base64 address": f"https://evil.example/?d={_b64(RECIPIENT)}",
    "short form of the member's name": "KitaHeavy was targeted",
}


@pytest.fixture
def kita_reported(demo_hub: DemoHub) -> list[str]:
    """The campaign, plus kita-heavy's report above; the submissions to publish (kita-heavy's)."""
    submit_campaign(demo_hub)
    assert demo_hub.submit_record("kita-heavy", RECORD).status_code == 202
    return [s.id for s in demo_hub.store.list_submissions("kita-heavy")]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_publication_whose_text_hides_a_victim_value_is_refused(
    demo_hub: DemoHub, kita_reported: list[str], attack: str
) -> None:
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "submissions": kita_reported, "name": "Invoice wave", "tlp": "amber", "collections": ["member-feed"],
        "description": f"Observed: {ATTACKS[attack]}"})
    assert response.status_code == 422, response.data
    findings = response.json["details"]["findings"]
    assert any(": description: contains " in f for f in findings), findings
    assert ATTACKS[attack] not in response.data.decode() and RECIPIENT not in response.data.decode()
    assert demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "higashi-gas").json == {}


def test_the_register_aliases_are_protected(demo_hub: DemoHub, kita_reported: list[str]) -> None:
    org = demo_hub.store.get_organisation("kita-heavy")
    assert org is not None
    demo_hub.store.update_organisation(dataclasses.replace(org, aliases=("KHI-Group",)))
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "submissions": kita_reported, "name": "Invoice wave", "tlp": "amber", "collections": ["member-feed"],
        "description": "khi_group customers"})
    assert response.status_code == 422
    assert any(sensitive.MEMBER_ALIAS in f for f in response.json["details"]["findings"])


def test_the_direct_write_check_knows_every_stored_report(demo_hub: DemoHub, kita_reported: list[str]) -> None:
    check = demo_hub.services.publishing.leak_check
    obj = {**_indicator(), "pattern": "[url:value = 'https://evil.example/?u=exch01%2Ecorp-internal%2Eexample']"}
    refused = check.refusals([obj], lambda ref: False)
    assert list(refused) == [obj["id"]]
    assert sensitive.HOST in refused[obj["id"]] and "exch01" not in refused[obj["id"]]
    assert check.refusals([_indicator()], lambda ref: False) == {}
