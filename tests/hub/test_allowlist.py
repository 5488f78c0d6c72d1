"""The hub-local allow-list: the normal form of each kind, the membership test (a domain covers its
subdomains, a network its addresses, a URL or address falls back to its host), and the administration:
analysts and administrators only, every change in the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxii_server.accounts import OPERATOR
from taxii_server.errors import BadRequest, Conflict, NotFound
from taxii_server.hub.allowlist import AllowList, AllowListAdmin, normalise
from taxii_server.hub.audit import AuditLog
from taxii_server.model import AllowedValue, Principal
from taxii_server.storage.sqlite import SQLiteStore

MEMBER = Principal("kita-heavy", "heavy-industry", frozenset({"member"}))
ANALYST = Principal("hub-analyst", "hub", frozenset({"analyst"}))


def entry(kind: str, value: str) -> AllowedValue:
    return AllowedValue(kind, normalise(kind, value), "known", "hub-analyst", "2026-01-01T00:00:00.000000Z")


@pytest.mark.parametrize(
    ("kind", "written", "stored"),
    [
        ("domain-name", "Portal.Vendor.example.", "portal.vendor.example"),
        ("domain-name", "北重工.example", "xn--djr64w755b.example"),
        ("ipv4-addr", " 192.0.2.7 ", "192.0.2.7/32"),
        ("ipv4-addr", "198.51.100.0/24", "198.51.100.0/24"),
        ("ipv6-addr", "2001:DB8::1", "2001:db8::1/128"),
        ("url", "HTTPS://Portal.Vendor.example:443/login?x=1#top", "https://portal.vendor.example/login?x=1"),
        ("url", "http://portal.vendor.example:8080", "http://portal.vendor.example:8080/"),
        ("email-addr", "Notices@Vendor.EXAMPLE", "notices@vendor.example"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ],
)
def test_each_kind_has_one_normal_form(kind: str, written: str, stored: str) -> None:
    assert normalise(kind, written) == stored


@pytest.mark.parametrize(
    ("kind", "written"),
    [("domain-name", "not a domain"), ("ipv4-addr", "2001:db8::1"), ("ipv4-addr", "10.0.0.1/8"),
     ("ipv6-addr", "192.0.2.1"), ("url", "/relative/path"), ("url", "https://[body_domain]/x"),
     ("email-addr", "no-at-sign"), ("md5", "abc"), ("sha256", "z" * 64), ("hostname", "x.example")],
)
def test_a_value_that_is_not_of_its_kind_is_refused(kind: str, written: str) -> None:
    with pytest.raises(ValueError):
        normalise(kind, written)


ALLOWED = AllowList([
    entry("domain-name", "vendor.example"),
    entry("ipv4-addr", "198.51.100.0/24"),
    entry("ipv4-addr", "203.0.113.9"),
    entry("ipv6-addr", "2001:db8:abcd::/48"),
    entry("url", "https://files.example/shared/report.pdf"),
    entry("email-addr", "alerts@bank.example"),
    entry("md5", "d41d8cd98f00b204e9800998ecf8427e"),
])


@pytest.mark.parametrize(
    ("kind", "value", "by"),
    [
        ("domain-name", "vendor.example", "vendor.example"),
        ("domain-name", "cdn.eu.Vendor.example", "vendor.example"),
        ("ipv4-addr", "198.51.100.200", "198.51.100.0/24"),
        ("ipv4-addr", "198.51.100.128/25", "198.51.100.0/24"),
        ("ipv4-addr", "203.0.113.9", "203.0.113.9/32"),
        ("ipv6-addr", "2001:db8:abcd:12::5", "2001:db8:abcd::/48"),
        ("url", "https://files.example/shared/report.pdf", "https://files.example/shared/report.pdf"),
        ("url", "http://www.vendor.example/unsubscribe?id=1", "vendor.example"),
        ("url", "http://198.51.100.3/pixel.gif", "198.51.100.0/24"),
        ("email-addr", "ALERTS@bank.example", "alerts@bank.example"),
        ("email-addr", "support@mail.vendor.example", "vendor.example"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_a_listed_value_is_matched_by_the_entry_that_covers_it(kind: str, value: str, by: str) -> None:
    found = ALLOWED.matches(kind, value)
    assert found is not None and found.value == by


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("domain-name", "evilvendor.example"),
        ("domain-name", "vendor.example.attacker.example"),
        ("ipv4-addr", "198.51.101.1"),
        ("ipv4-addr", "198.51.100.0/23"),  # wider than the entry
        ("ipv4-addr", "203.0.113.10"),
        ("ipv6-addr", "2001:db8:abce::1"),
        ("url", "https://files.example/shared/other.pdf"),
        ("url", "https://[body_domain]/login"),
        ("email-addr", "alerts@bank.example.attacker.example"),
        ("email-addr", "fraud@bank-example.example"),
        ("sha1", "d41d8cd98f00b204e9800998ecf8427e"),  # the right digits under another kind
        ("md5", "not-hex"),
        ("hostname", "vendor.example"),
        ("ipv4-addr", "vendor.example"),
    ],
)
def test_anything_else_matches_nothing_and_never_raises(kind: str, value: str) -> None:
    assert ALLOWED.matches(kind, value) is None


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "md5", "x"]),
       value=st.text(max_size=80))
def test_matching_never_raises_on_any_text(kind: str, value: str) -> None:
    ALLOWED.matches(kind, value)


@settings(max_examples=100, deadline=None)
@given(address=st.ip_addresses(v=4), prefix=st.integers(min_value=8, max_value=32))
def test_an_ipv4_network_entry_covers_exactly_the_addresses_inside_it(address: object, prefix: int) -> None:
    import ipaddress

    net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    listed = AllowList([entry("ipv4-addr", str(net))])
    inside = ipaddress.ip_address(int(net.network_address) + (net.num_addresses - 1) // 2)
    assert listed.matches("ipv4-addr", str(inside)) is not None
    outside = int(net.broadcast_address) + 1
    if outside < 2**32:
        assert listed.matches("ipv4-addr", str(ipaddress.ip_address(outside))) is None


@pytest.fixture
def admin(tmp_path: Path) -> AllowListAdmin:
    store = SQLiteStore(tmp_path / "a.sqlite3")
    store.initialise()
    return AllowListAdmin(store, AuditLog(store, clock=lambda: 1_700_000_000_000_000),
                          clock=lambda: 1_700_000_000_000_000)


def test_an_analyst_adds_and_removes_a_value_and_both_are_audited(admin: AllowListAdmin) -> None:
    added = admin.add(ANALYST, "domain-name", "Portal.Vendor.example", "  the vendor's  support portal ")
    assert added == AllowedValue("domain-name", "portal.vendor.example", "the vendor's support portal",
                                 "hub-analyst", "2023-11-14T22:13:20.000000Z")
    assert admin.current().matches("url", "https://x.portal.vendor.example/") == added
    assert admin.remove(ANALYST, "domain-name", "PORTAL.vendor.example") == added
    assert admin.entries(ANALYST) == []
    trail = [(e.actor, e.action, e.target) for e in admin.audit.entries(ANALYST)]
    assert trail == [("hub-analyst", "allow-add", "domain-name:portal.vendor.example"),
                     ("hub-analyst", "allow-remove", "domain-name:portal.vendor.example")]


def test_to_a_member_the_allow_list_does_not_exist(admin: AllowListAdmin) -> None:
    admin.add(OPERATOR, "md5", "d41d8cd98f00b204e9800998ecf8427e", "the empty file")
    for attempt in (lambda: admin.add(MEMBER, "domain-name", "vendor.example", "mine"),
                    lambda: admin.remove(MEMBER, "md5", "d41d8cd98f00b204e9800998ecf8427e"),
                    lambda: admin.entries(MEMBER)):
        with pytest.raises(NotFound, match="no such allow-list"):
            attempt()
    assert len(admin.entries(OPERATOR)) == 1
    assert [e.action for e in AuditLog(admin.store).entries(OPERATOR)] == ["allow-add"]  # type: ignore[arg-type]


def test_a_value_is_listed_once_and_an_absent_one_cannot_be_removed(admin: AllowListAdmin) -> None:
    admin.add(ANALYST, "domain-name", "vendor.example", "portal")
    with pytest.raises(Conflict, match="already on the allow-list"):
        admin.add(ANALYST, "domain-name", "VENDOR.example.", "again")
    with pytest.raises(NotFound, match="not on the allow-list"):
        admin.remove(ANALYST, "domain-name", "other.example")


@pytest.mark.parametrize(
    ("kind", "value", "reason", "fragment"),
    [("domain-name", "bad domain", "x", "domain-name:"), ("ipv4-addr", "10.0.0.1/8", "x", "host bits"),
     ("domain-name", "vendor.example", "   ", "say why"), ("domain-name", "vendor.example", "x" * 501, "longer")],
)
def test_a_bad_value_or_reason_is_one_clear_refusal(admin: AllowListAdmin, kind: str, value: str, reason: str,
                                                    fragment: str) -> None:
    with pytest.raises(BadRequest, match=fragment):
        admin.add(ANALYST, kind, value, reason)
    assert admin.entries(ANALYST) == []
