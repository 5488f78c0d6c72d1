"""The MISP warning lists as shipped by pymispwarninglists: what is known-legitimate, what is an abused service."""

from __future__ import annotations

import pytest

from converters import benign


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("domain-name", "google.com"),
        ("domain-name", "mail.google.com"),
        ("domain-name", "GOOGLE.COM."),
        ("domain-name", "co.jp"),
        ("domain-name", "bit.ly"),
        ("domain-name", "web.app"),
        ("url", "https://www.google.com/"),
        ("url", "https://www.facebook.com/brand"),
        ("url", "https://fonts.gstatic.com/s/roboto.woff2"),
        ("url", "//www.linkedin.com/company/x"),
        ("ipv4-addr", "8.8.8.8"),
        ("ipv4-addr", "10.1.2.3"),
        ("ipv4-addr", "10.0.0.0/8"),
        ("ipv4-addr", "209.85.220.41"),
        ("ipv6-addr", "2001:4860:4860::8888"),
        ("email-addr", "service@paypal.com"),
        ("email-addr", "abuse@anything.example"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E"),
        ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ],
)
def test_well_known_infrastructure_is_benign_and_named_by_its_list(kind: str, value: str) -> None:
    name = benign.known_benign(kind, value)
    assert name is not None
    assert name in (*benign.LEGITIMATE_LISTS, *benign.ABUSED_SERVICE_LISTS)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("domain-name", "evil.web.app"),  # under a public suffix: the attacker's own sub-host
        ("domain-name", "evil.duckdns.org"),
        ("domain-name", "kaisha-invoice.example"),
        ("domain-name", "example.co.jp"),  # second-level TLDs match only exactly
        ("url", "https://docs.google.com/forms/d/e/1FAIpQL/viewform"),  # content on an abused service
        ("url", "https://bit.ly/3xYz"),
        ("url", "https://www.dropbox.com/s/abc/invoice.zip"),
        ("url", "https://evil.web.app/login"),
        ("url", "https://login-microsoftonline.example/"),
        ("ipv4-addr", "1.2.3.4"),
        ("ipv4-addr", "192.0.2.7"),  # documentation ranges: the samples' made-up attacker addresses
        ("ipv6-addr", "2001:db8::77"),
        ("email-addr", "attacker@gmail.com"),  # a free-mail account is the attacker's
        ("email-addr", "someone@mailinator.com"),  # disposable mail likewise
        ("sha256", "00" * 32),
        ("url", "not a url"),
        ("ipv4-addr", "999.1.1.1"),
    ],
)
def test_attacker_controlled_values_are_not_benign(kind: str, value: str) -> None:
    assert benign.known_benign(kind, value) is None


def test_the_abused_service_is_named_for_content_on_it() -> None:
    assert benign.abused_service("url", "https://bit.ly/3xYz") is not None
    assert benign.abused_service("domain-name", "evil.duckdns.org") == "lots-project"
    assert benign.abused_service("url", "https://kaisha-invoice.example/a") is None


def test_idn_hosts_are_compared_in_punycode() -> None:
    assert benign.normalise_host("ＧＯＯＧＬＥ.com") == "google.com"
    assert benign.known_benign("domain-name", "ＧＯＯＧＬＥ.com") == benign.known_benign("domain-name", "google.com")


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        benign.known_benign("mutex", "x")


def test_lists_are_loaded_once() -> None:
    assert benign.warning_lists() is benign.warning_lists()
    assert len(benign.warning_lists().names) >= 50  # the package really ships the list data
