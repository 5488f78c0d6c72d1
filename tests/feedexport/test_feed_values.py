"""Which values a pattern yields for the block-lists, and that every value is safe on a list line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern

from converters import patterns as build
from taxii_server.feedexport.values import KINDS, Value, list_line, normalise, simple_values


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[ipv4-addr:value = '198.51.100.7']", [Value("ipv4", "198.51.100.7")]),
    ("[ipv4-addr:value = '198.51.100.0/24']", [Value("ipv4", "198.51.100.0/24")]),
    ("[ipv4-addr:value = '198.51.100.9/32']", [Value("ipv4", "198.51.100.9")]),
    ("[ipv6-addr:value = '2001:DB8::1']", [Value("ipv6", "2001:db8::1")]),
    ("[domain-name:value = 'Evil.Example.']", [Value("domain", "evil.example")]),
    ("[domain-name:value = 'bücher.example']", [Value("domain", "xn--bcher-kva.example")]),
    ("[url:value = 'https://Evil.Example:8443/a?b=c']", [Value("url", "https://evil.example:8443/a?b=c")]),
    ("[email-message:from_ref.value = 'ceo@evil.example']", [Value("email", "ceo@evil.example")]),
    ("[email-addr:value = 'x@evil.example']", [Value("email", "x@evil.example")]),
    ("[file:hashes.'SHA-256' = '" + "A" * 64 + "']", [Value("sha256", "a" * 64)]),
    ("[file:hashes.MD5 = '" + "b" * 32 + "' OR file:hashes.'SHA-1' = '" + "c" * 40 + "']",
     [Value("md5", "b" * 32), Value("sha1", "c" * 40)]),
])
def test_simple_equalities_yield_their_normalised_values(pattern: str, expected: list[Value]) -> None:
    assert list(simple_values(pattern)) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[email-addr:value = 'o\\'brien@evil.example']", [Value("email", "o'brien@evil.example")]),
    ("[url:value = 'http://evil.example/a\\'b\\\\c']", [Value("url", "http://evil.example/a%27b%5Cc")]),
    ("[domain-name:value='a.example'  OR\n domain-name:value = 'b.example']",
     [Value("domain", "a.example"), Value("domain", "b.example")]),
    ("[(domain-name:value = 'a.example' OR domain-name:value = 'b.example')]",
     [Value("domain", "a.example"), Value("domain", "b.example")]),
])
def test_escapes_spacing_and_parentheses_are_read_as_stix2_patterns_reads_them(
        pattern: str, expected: list[Value]) -> None:
    assert list(simple_values(pattern)) == expected


@pytest.mark.parametrize("pattern", [
    "[domain-name:value = 'a.example' AND domain-name:value = 'b.example']",
    "[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']",
    "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']",
    "[domain-name:value = 'a.example'] WITHIN 60 SECONDS",
    "[domain-name:value = 'a.example'] REPEATS 3 TIMES",
    "[domain-name:value != 'a.example']",
    "[domain-name:value LIKE '%.example']",
    "[domain-name:value MATCHES '^a']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[url:value IN ('http://a.example/', 'http://b.example/')]",
    "[domain-name:value = 'a.example' OR email-message:is_multipart = false]",
    "[domain-name:value = 'a.example' OR (domain-name:value = 'b.example' AND url:value = 'http://c.example/')]",
    "[domain-name:value = 'a.example' OR domain-name:value NOT = 'b.example']",
    build.conversation_sequence("a@evil.example", 900),
    build.recon_burst("a@evil.example", 3, 600),
])
def test_compound_patterns_are_never_flattened(pattern: str) -> None:
    assert simple_values(pattern) == ()


@pytest.mark.parametrize(("kind", "raw"), [
    ("domain", "evil.example\nwww.bank.example"),
    ("domain", "evil.example,bank.example"),
    ("domain", "evil\".example"),
    ("domain", "#evil.example"),
    ("domain", "evil.example #comment"),
    ("ipv4", "198.51.100.7\n10.0.0.0/8"),
    ("ipv4", "198.51.100.7 # note"),
    ("email", "a,b@evil.example"),
    ("email", "a#b@evil.example"),
    ("email", "a\nb@evil.example"),
    ("email", "\"quoted\"@evil.example"),
    ("md5", "b" * 31 + "\n"),
    ("sha1", "z" * 40),
])
def test_values_that_would_break_a_line_are_refused(kind: str, raw: str) -> None:
    assert normalise(kind, raw) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "line"), [
    ("http://evil.example/a\nb", "evil.example/a%0Ab"),
    ("http://evil.example/a,b\"c", "evil.example/a%2Cb%22c"),
    ("http://evil.example/a#\nwww.bank.example", "evil.example/a"),
    ("http://evil.example/a b'c", "evil.example/a%20b%27c"),
    ("HTTP://evil.example", "evil.example/"),
])
def test_urls_are_percent_encoded_and_lose_their_fragment(raw: str, line: str) -> None:
    value = normalise("url", raw)
    assert value is not None
    assert list_line(value, "url", "panos") == line
    assert list_line(value, "url", "plain").endswith(line)


def test_urls_keep_their_scheme_except_for_pan_os() -> None:
    value = normalise("url", "https://evil.example/x")
    assert value is not None
    assert [list_line(value, "url", d) for d in ("panos", "fortigate", "plain")] == [
        "evil.example/x", "https://evil.example/x", "https://evil.example/x"]


_VALUES = {
    "ipv4-addr:value": st.ip_addresses(v=4).map(str),
    "domain-name:value": st.from_regex(r"[a-z][a-z0-9]{0,10}\.(example|test)", fullmatch=True),
    "file:hashes.MD5": st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
}


@settings(max_examples=60, deadline=None)
@given(terms=st.lists(st.sampled_from(sorted(_VALUES)).flatmap(lambda p: _VALUES[p].map(lambda v: (p, v))),
                      min_size=1, max_size=3),
       joiner=st.sampled_from(["OR", "AND"]))
def test_the_recogniser_agrees_with_stix2_patterns_inspector(terms: list[tuple[str, str]], joiner: str) -> None:
    """What we list is exactly the inspector's comparisons, and only for one observation without AND."""
    pattern = build.observation(*(build.equals(p, v) for p, v in terms), joiner=joiner)
    inspected = Pattern(pattern).inspect()
    comparisons = [(t, ".".join(str(s) for s in path), op, value.strip("'"))
                   for t, items in inspected.comparisons.items() for path, op, value in items]
    got = simple_values(pattern)
    if joiner == "AND" and len(terms) > 1:
        assert got == ()
        return
    assert all(op == "=" for _, _, op, _ in comparisons)
    assert {v.value for v in got} == {normalise(_kind(t, path), value) for t, path, _, value in comparisons}


def _kind(otype: str, path: str) -> str:  # type: ignore[return]
    return {"ipv4-addr": "ipv4", "domain-name": "domain", "file": "md5"}[otype]


def test_every_kind_has_a_list() -> None:
    assert KINDS == ("ipv4", "ipv6", "domain", "url", "sha256", "sha1", "md5", "email")
