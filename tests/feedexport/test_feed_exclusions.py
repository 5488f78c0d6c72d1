"""The feeds' exclusions: the shortcut that skips the allow-list never skips a value the allow-list matches."""

from __future__ import annotations

import pytest

from converters.benign import known_benign
from taxii_server.feedexport.exclusions import HubExclusions
from taxii_server.hub.allowlist import AllowList, normalise
from taxii_server.model import AllowedValue

ENTRIES = [("domain-name", "partner.example"), ("ipv4-addr", "192.0.2.0/24"), ("ipv6-addr", "2001:db8:1::/48"),
           ("url", "https://files.vendor.example/setup.exe"), ("email-addr", "relay@mail.member.example"),
           ("sha256", "a" * 64), ("md5", "b" * 32)]


class Entries:
    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = [AllowedValue(k, normalise(k, v), "test", "analyst", "2026-01-01T00:00:00Z")
                        for k, v in entries]

    def list_allowed(self, kind: str | None = None) -> list[AllowedValue]:
        return [e for e in self.entries if kind is None or e.kind == kind]


VALUES = [("domain", "partner.example"), ("domain", "www.partner.example"), ("domain", "partner.example.evil"),
          ("domain", "files.vendor.example"), ("domain", "other.example"), ("ipv4", "192.0.2.9"),
          ("ipv4", "192.0.2.0/25"), ("ipv4", "192.0.3.1"), ("ipv6", "2001:db8:1::5"), ("ipv6", "2001:db8:2::5"),
          ("url", "https://files.vendor.example/setup.exe"), ("url", "https://files.vendor.example/other.exe"),
          ("url", "http://www.partner.example/x"), ("url", "http://192.0.2.7/x"), ("url", "http://[2001:db8:1::9]/x"),
          ("email", "relay@mail.member.example"), ("email", "ceo@partner.example"), ("email", "x@mail.member.example"),
          ("sha256", "a" * 64), ("sha256", "c" * 64), ("md5", "b" * 32), ("sha1", "d" * 40)]
KIND = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "domain": "domain-name", "url": "url", "email": "email-addr",
        "sha256": "sha256", "sha1": "sha1", "md5": "md5"}


@pytest.mark.parametrize(("kind", "value"), VALUES)
def test_a_value_is_excluded_exactly_when_the_allow_list_or_the_warning_lists_match(kind: str, value: str) -> None:
    store = Entries(ENTRIES)
    allow = AllowList(store.entries)
    exclusions = HubExclusions(store)  # type: ignore[arg-type]
    expected = allow.matches(KIND[kind], value) is not None or known_benign(KIND[kind], value) is not None
    assert exclusions.excluded(kind, value) == expected


def test_the_expected_values_are_matched() -> None:
    exclusions = HubExclusions(Entries(ENTRIES))  # type: ignore[arg-type]
    assert exclusions.excluded("domain", "www.partner.example")
    assert exclusions.excluded("url", "http://192.0.2.7/x")
    assert exclusions.excluded("email", "ceo@partner.example")
    assert not exclusions.excluded("domain", "partner.example.evil")


def test_an_empty_allow_list_changes_nothing_but_the_version() -> None:
    empty, full = HubExclusions(Entries([])), HubExclusions(Entries(ENTRIES))  # type: ignore[arg-type]
    assert not empty.excluded("domain", "partner.example")
    assert empty.version() != full.version()


@pytest.mark.parametrize(("kind", "value"), [
    ("ipv4", "192.0.2.0/23"),  # holds the allow-listed 192.0.2.0/24
    ("ipv4", "192.0.2.76/31"),  # inside it (the allow-list's own rule)
    ("ipv6", "2001:db8::/32"),  # holds the allow-listed 2001:db8:1::/48
    ("ipv4", "8.8.0.0/16"),  # holds a public resolver on the warning lists
    ("ipv4", "1.1.1.0/24"),
])
def test_a_network_holding_an_allowed_or_warning_listed_address_is_excluded(kind: str, value: str) -> None:
    assert HubExclusions(Entries(ENTRIES)).excluded(kind, value)  # type: ignore[arg-type]


def test_a_network_holding_nothing_allowed_is_not_excluded() -> None:
    assert not HubExclusions(Entries(ENTRIES)).excluded("ipv4", "198.51.100.0/24")  # type: ignore[arg-type]
