"""Mail as it really arrives: no exception, strict-valid bundles, no indicator on legitimate infrastructure.

The corpus (`tests/support/realworld.py`) is assembled there; a hypothesis test feeds the converter mutations of every
sample. What each rule does is checked on the mail that shows it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters import ConversionError, Summary, bundle_bytes, known_benign, parse_eml, record_to_bundle
from converters.patterns import unescape_literal
from converters.record import Record
from tests.support.conv_support import EML_SAMPLES, OPTIONS, strict_validation
from tests.support.realworld import VICTIM, allowed, corpus

CORPUS = corpus()
OPTIONS_WITH_ALLOW_LIST = dataclasses.replace(OPTIONS, allowed=allowed)
_VALUE = re.compile(
    r"(url:value|domain-name:value|ipv4-addr:value|ipv6-addr:value|email-message:from_ref\.value|email-addr:value"
    r"|file:hashes\.\S+) = ('(?:[^'\\]|\\.)*')"
)
_KINDS = {"url:value": "url", "domain-name:value": "domain-name", "ipv4-addr:value": "ipv4-addr",
          "ipv6-addr:value": "ipv6-addr", "email-message:from_ref.value": "email-addr",
          "email-addr:value": "email-addr"}


def convert(raw: bytes, name: str) -> tuple[Record, dict[str, Any], Summary]:
    record = parse_eml(raw, name)
    summary = Summary()
    return record, record_to_bundle(record, OPTIONS_WITH_ALLOW_LIST, summary), summary


def indicator_values(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for obj in bundle["objects"]:
        if obj["type"] == "indicator":
            for path, literal in _VALUE.findall(obj["pattern"]):
                out.append((_KINDS.get(path, "file"), unescape_literal(literal)))
    return out


def by_name(name: str) -> bytes:
    return dict(CORPUS)[name]


@pytest.mark.parametrize(("name", "raw"), CORPUS, ids=[name for name, _ in CORPUS])
def test_corpus_mail_converts_to_a_strict_valid_bundle_without_legitimate_indicators(name: str, raw: bytes) -> None:
    _, bundle, _ = convert(raw, name)
    assert strict_validation(bundle) == []
    for kind, value in indicator_values(bundle):
        assert known_benign(kind, value) is None, (kind, value)
        assert allowed(kind, value) is None, (kind, value)


def test_footer_images_pixels_and_social_links_are_context_and_the_mismatched_link_is_flagged() -> None:
    _, bundle, summary = convert(by_name("html-only-footer"), "footer.eml")
    urls = [v for k, v in indicator_values(bundle) if k == "url"]
    assert urls == ["https://acc0unt-verify.example/unlock?id=99"]
    indicator = next(o for o in bundle["objects"] if o["type"] == "indicator" and "unlock" in o["pattern"])
    assert "www.paypal.com" in indicator["description"] and indicator["confidence"] == 90
    assert summary.suppressed["URL: context (tracking pixel)"] == 1
    assert summary.suppressed["URL: context (unsubscribe or privacy footer)"] == 3
    assert any(reason.startswith("URL: MISP warning list") for reason in summary.suppressed)


def test_markdown_links_and_placeholders_never_crash_and_placeholders_are_warnings() -> None:
    record, bundle, _summary = convert(by_name("markdown-placeholders"), "md.eml")
    assert record.messages[0].urls == ("https://payroll-update.example/form", "https://payroll-update.example/help")
    assert any("template placeholder" in w for w in record.messages[0].defects)
    assert strict_validation(bundle) == []


def test_idn_urls_are_punycode_in_patterns_entities_are_decoded_and_split_hrefs_joined() -> None:
    _record, bundle, _ = convert(by_name("idn-entities-whitespace"), "idn.eml")
    urls = [v for k, v in indicator_values(bundle) if k == "url"]
    assert "https://xn--r8jz45g.jp/%E3%83%AD%E3%82%B0%E3%82%A4%E3%83%B3?a=1&b=2" in urls
    assert len([u for u in urls if "xn--r8jz45g" in u]) == 1  # &amp; and & are one URL
    assert "https://split.example/very/long/path" in urls
    assert "https://cdn-files.example/doc.zip" in urls  # protocol-relative


@pytest.mark.parametrize(
    ("name", "sender"),
    [("from-comma-bare", "info@bank-alerts.example"), ("from-empty-angle", None),
     ("from-quoted-addr-spec", "x@pp-secure.example"), ("from-two-addresses", None)],
)
def test_odd_from_forms_give_a_sender_or_none_but_never_a_refusal(name: str, sender: str | None) -> None:
    record, bundle, _ = convert(by_name(name), name)
    got = record.messages[0].from_
    assert (got.address if got else None) == sender
    senders = [v for k, v in indicator_values(bundle) if k == "email-addr"]
    assert senders == ([sender] if sender else [])


def test_a_dotless_sender_is_kept_as_text_not_as_an_invalid_email_addr() -> None:
    _, bundle, _summary = convert(by_name("from-dotless"), "dotless.eml")
    assert not [o for o in bundle["objects"] if o["type"] == "email-addr"]
    message = next(o for o in bundle["objects"] if o["type"] == "email-message")
    assert message["additional_header_fields"]["From"] == "phishing@pot"
    assert strict_validation(bundle) == []


def test_utf8_from_with_an_encoded_word_is_valid_canonical_json() -> None:
    record, bundle, _ = convert(by_name("from-utf8-raw"), "utf8.eml")
    assert json.loads(bundle_bytes(bundle))["type"] == "bundle"
    sender = record.messages[0].from_
    assert sender is not None and sender.address == "büro@xn--caf-pay-dya.example"
    assert sender.display_name == "Café Büro"
    assert [v for k, v in indicator_values(bundle) if k == "email-addr"] == []  # not a STIX address: text
    assert strict_validation(bundle) == []


def test_a_spoofed_sender_is_no_indicator_and_a_freemail_reply_to_is_a_candidate() -> None:
    _, bundle, summary = convert(by_name("spoofed-bank"), "spoof.eml")
    values = indicator_values(bundle)
    assert ("email-addr", "alerts@bankofamerica.com") not in values
    assert ("email-addr", "boa.secure.desk@freemail.example") in values
    assert summary.suppressed["sender: spoofed (receiving side dmarc=fail)"] == 1


def test_originating_ip_comes_from_the_client_header_or_microsofts_received_form() -> None:
    record, _, _ = convert(by_name("microsoft-received"), "ms.eml")
    assert record.messages[0].headers["X-Originating-IP"] == "[203.0.113.78]"
    without = by_name("microsoft-received").replace(b"X-Originating-IP: [203.0.113.78]\n", b"")
    record = parse_eml(without, "ms2.eml")
    assert record.messages[0].headers["X-Originating-IP"] == "[203.0.113.77]"


def test_recipient_identifiers_in_urls_are_replaced_so_the_url_stays_publishable() -> None:
    _, bundle, _ = convert(by_name("personalised-link"), "personal.eml")
    text = bundle_bytes(bundle).decode()
    assert VICTIM not in text and "dGFyby5zdXp1a2lAbWVtYmVyLmV4YW1wbGU" not in text and "taro.suzuki" not in text
    urls = [v for k, v in indicator_values(bundle) if k == "url"]
    assert "https://benefit-portal.example/login?email=recipient@example.invalid" in urls
    assert "https://benefit-portal.example/p/recipient/start" in urls


def test_inline_images_signature_logos_and_empty_files_are_not_malicious_files() -> None:
    record, bundle, summary = convert(by_name("inline-images-empty-file"), "inline.eml")
    names = [a.name for a in record.messages[0].attachments]
    assert names == ["empty.pdf", "invoice.pdf"]
    file_indicators = [o for o in bundle["objects"] if o["type"] == "indicator" and "file:hashes" in o["pattern"]]
    assert [o["name"].split(" ")[2] for o in file_indicators] == ["invoice.pdf"]
    assert len([o for o in bundle["objects"] if o["type"] == "malware"]) == 1
    assert any("empty-hashes" in reason for reason in summary.suppressed)


def test_list_unsubscribe_targets_are_context() -> None:
    _, bundle, summary = convert(by_name("list-unsubscribe"), "list.eml")
    assert [v for k, v in indicator_values(bundle) if k == "url"] == ["https://cheap-watches.example/buy"]
    assert summary.suppressed["URL: context (List-Unsubscribe target)"] == 1


def test_allow_listed_values_are_held_back_with_the_reason() -> None:
    _, bundle, summary = convert(by_name("allow-listed-partner"), "partner.eml")
    assert indicator_values(bundle) == []
    assert summary.suppressed["URL: hub allow-list (partner newsletter)"] == 1


# ------------------------------------------------------------------------------------------------ mutations

SAMPLES = [*CORPUS, *((p.name, p.read_bytes()) for p in EML_SAMPLES)]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name, raw = draw(st.sampled_from(SAMPLES))
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        if action == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.sampled_from(
                [b"\r\n", b"<", b"]", b"(", b"=?utf-8?b?", b"\xff\xfe", b"&amp;", b"https://[x]/", b"@", b"\n\n",
                 b"From: a@b, <c@d>\r\n", b"--", b"\x00", "例え".encode()]))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        else:
            start = draw(st.integers(0, max(len(data) - 1, 0)))
            data[position:position] = data[start : start + 40]
    return name, bytes(data)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_no_mutation_of_any_sample_crashes_the_converter(case: tuple[str, bytes]) -> None:
    name, raw = case
    try:
        record = parse_eml(raw, name)
    except ConversionError as exc:
        assert str(exc).startswith(f"{name}: ") and "\n" not in str(exc)
        return
    bundle = record_to_bundle(record, OPTIONS)
    assert json.loads(bundle_bytes(bundle))["type"] == "bundle"
