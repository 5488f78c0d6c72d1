"""The small rules behind reading real mail: URL normalising, recipient placeholders, redaction by tokens,
originating IPs in the common Received forms, and the receiving side's verdict on the sender."""

from __future__ import annotations

import pytest

from converters import anonymisation, senders, urls
from converters.anonymisation import VictimFacts


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("https://a.example/x?p=1&amp;q=2", "https://a.example/x?p=1&q=2"),
        ("https://a.example/x?p=1&copy=2", "https://a.example/x?p=1&copy=2"),  # no ';': not an entity
        ("https://a.exa\n  mple/very/\tlong", "https://a.example/very/long"),
        ("<https://a.example/x>.", "https://a.example/x"),
        ("(https://a.example/wiki/A_(b))", "https://a.example/wiki/A_(b)"),
        ("//cdn.a.example/f.zip", "https://cdn.a.example/f.zip"),
        ("HTTPS://A.Example:443/Path", "https://a.example/Path"),
        ("http://a.example:8080", "http://a.example:8080/"),
        ("https://例え.jp/パス", "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9"),
        ("https://a.example/a b|c", "https://a.example/ab%7Cc"),
        ("https://a.example/100%/x#f#g", "https://a.example/100%25/x#f%23g"),
        ("http://[2001:db8::1]/x", "http://[2001:db8::1]/x"),
    ],
)
def test_urls_are_normalised_to_strict_rfc3986(raw: str, value: str) -> None:
    result = urls.normalise(raw)
    assert isinstance(result, urls.Url)
    assert result.value == value


def test_the_display_form_keeps_the_unicode_host() -> None:
    result = urls.normalise("https://例え.jp/x")
    assert isinstance(result, urls.Url) and result.display == "https://例え.jp/x" and result.host == "xn--r8jz45g.jp"


@pytest.mark.parametrize(
    "raw",
    ["https://[body_domain]/verify", "https://{{domain}}/x", "https://%%host%%/x", "https://*|DOMAIN|*/x",
     "https://localhost/x", "https://-bad-.example/", "mailto:a@b.example", "https://a.example:99999/", "https://1234/"],
)
def test_placeholders_and_non_hosts_are_refused_with_a_reason_never_an_exception(raw: str) -> None:
    result = urls.normalise(raw)
    assert isinstance(result, urls.Refused) and result.reason


def test_recipient_identifiers_in_a_url_become_placeholders_as_whole_tokens() -> None:
    forms = urls.recipient_forms(["taro.suzuki@member.example"])
    replaced = urls.without_recipients(
        "https://x.example/p/taro.suzuki/?e=taro.suzuki%40member.example&b=dGFyby5zdXp1a2lAbWVtYmVyLmV4YW1wbGU=", forms)
    assert replaced == ("https://x.example/p/recipient/?e=recipient%40example.invalid"
                        "&b=cmVjaXBpZW50QGV4YW1wbGUuaW52YWxpZA==")
    assert urls.without_recipients("https://x.example/taro.suzukis", forms) == "https://x.example/taro.suzukis"


def test_redaction_replaces_whole_tokens_only() -> None:
    victim = VictimFacts(frozenset({"taro@pot"}), frozenset({"pot"}), frozenset())
    text = "Potential issue for taro@pot, see mail.pot and spot.example"
    assert anonymisation.redact(text, victim) == "Potential issue for [redacted], see mail.[redacted] and spot.example"


@pytest.mark.parametrize(
    ("hop", "ips"),
    [
        ("from mail.x.example (mail.x.example [203.0.113.5]) by mx.member.example", ["203.0.113.5"]),
        ("from BN6PR01MB.prod.outlook.com (2603:10b6:404:1::17) by BN6PR.outlook.com", ["2603:10b6:404:1::17"]),
        ("from host.x.example (198.51.100.7) by MWHPR01.member.example (10.1.1.5)", ["198.51.100.7"]),
        ("from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com",
         ["209.85.220.41"]),
        ("from [IPv6:2001:db8::5] (port=1234 helo=pc) by smtp.x.example", ["2001:db8::5"]),
        ("from unknown (HELO pc) (192.0.2.44) by smtp.x.example", ["192.0.2.44"]),
    ],
)
def test_client_addresses_are_read_in_every_common_received_form(hop: str, ips: list[str]) -> None:
    assert anonymisation.hop_client_ips(hop) == ips


def test_the_originating_ip_skips_private_ranges_and_the_members_relays() -> None:
    chain = [  # newest first
        "from relay.member.example (relay.member.example [198.51.100.99]) by mail.member.example",
        "from out.sender.example (out.sender.example [203.0.113.20]) by relay.member.example",
        "from [10.0.0.7] by out.sender.example",
    ]
    assert anonymisation.originating_ip(chain, {"member.example"}) == "203.0.113.20"
    assert anonymisation.originating_ip(chain[:1], {"member.example"}) is None


@pytest.mark.parametrize(
    ("headers", "verdict"),
    [
        ({"Authentication-Results": "mx.member.example; spf=pass; dkim=none; dmarc=fail header.from=bank.example"},
         "dmarc=fail"),
        ({"Authentication-Results": "spf=softfail smtp.mailfrom=bank.example; dkim=none; compauth=fail reason=001"},
         "compauth=fail"),
        ({"Authentication-Results": "mx; spf=fail smtp.mailfrom=bank.example; dkim=none"}, "spf=fail"),
        ({"Authentication-Results": "mx; spf=fail smtp.mailfrom=bulk.example; dkim=none"}, None),  # other domain
        ({"Authentication-Results": "mx; spf=fail smtp.mailfrom=bank.example; dkim=pass"}, None),
        ({"Received-SPF": "Fail (mx: domain of a@bank.example does not designate) envelope-from=a@bank.example"},
         "Received-SPF: fail"),
        ({"Authentication-Results": ("mx; dmarc=pass header.from=bank.example", "forged; dmarc=fail")}, None),
        ({}, None),
    ],
)
def test_the_receiving_sides_verdict_on_the_from_domain(headers: dict[str, str | tuple[str, ...]],
                                                         verdict: str | None) -> None:
    assert senders.spoofing_verdict(headers, "bank.example") == verdict
