"""The facts a STIX submission's indicators carry are read out of their patterns by stix2-patterns' inspector:
a value with an escaped quote or a backslash is read whole, never cut at the escape."""

from __future__ import annotations

from typing import Any

import pytest

from converters import patterns
from taxii_server.hub.features import from_stix


def _indicator(pattern: str) -> dict[str, Any]:
    return {"type": "indicator", "pattern": pattern}


@pytest.mark.parametrize(("pattern", "fact"), [
    (patterns.sender("o'brien\\x@evil.example"), ("sender-address", "o'brien\\x@evil.example")),
    ("[email-addr:value='O\\'Brien@Evil.Example']", ("sender-address", "o'brien@evil.example")),
    (patterns.url("http://evil.example/a'b\\c?d='e'"), ("url", "http://evil.example/a'b\\c?d='e'")),
    ("[url:value  =  'http://evil.example/\\\\\\'x']", ("url", "http://evil.example/\\'x")),
    (patterns.domain("c2.evil.example"), ("c2-domain", "c2.evil.example")),
    (patterns.ipv4("198.51.100.7"), ("c2-ip", "198.51.100.7")),
])
def test_a_value_with_an_escaped_quote_or_backslash_is_read_whole(pattern: str, fact: tuple[str, str]) -> None:
    assert from_stix([_indicator(pattern)]) == {fact}


def test_file_hashes_are_named_and_lower_cased() -> None:
    pattern = patterns.file_hashes({"SHA-256": "A" * 64, "MD5": "b" * 32})
    assert from_stix([_indicator(pattern)]) == {("file-hash", "sha256:" + "a" * 64), ("file-hash", "md5:" + "b" * 32)}


def test_every_observation_of_a_compound_pattern_gives_its_facts() -> None:
    pattern = patterns.conversation_sequence("it's@evil.example", 900)
    assert from_stix([_indicator(pattern)]) == {("sender-address", "it's@evil.example")}


@pytest.mark.parametrize("pattern", [
    "[domain-name:value != 'c2.evil.example']",
    "[domain-name:value LIKE '%.evil.example']",
    "[url:value MATCHES '^http://evil']",
    "[domain-name:value = 'c2.evil.example'",  # not a pattern
])
def test_only_equalities_of_a_valid_pattern_are_facts(pattern: str) -> None:
    assert from_stix([_indicator(pattern)]) == set()
