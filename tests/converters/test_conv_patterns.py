"""STIX patterns: exact forms, and escaping that no value can break (checked with stix2-patterns)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern

from converters import PatternError, patterns


def _only_value(pattern: str) -> str:
    comparisons = Pattern(pattern).inspect().comparisons
    ((_, values),) = comparisons.items()
    return patterns.unescape_literal(values[0][2])


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=120))
def test_any_string_round_trips_through_an_accepted_pattern(value: str) -> None:
    pattern = patterns.observation(patterns.equals("email-message:subject", value))
    assert patterns.full_parser_error(pattern) is None
    assert _only_value(pattern) == value


@settings(max_examples=100, deadline=None)
@given(value=st.text(alphabet=st.sampled_from("'\\ a\n]["), max_size=40))
def test_quotes_and_backslashes_cannot_end_a_literal_early(value: str) -> None:
    pattern = patterns.url(value)
    assert patterns.full_parser_error(pattern) is None
    assert _only_value(pattern) == value


@settings(max_examples=60, deadline=None)
@given(header=st.text(min_size=1, max_size=30), value=st.text(max_size=30))
@example(header="false", value="keyword as a key")
def test_quoted_property_keys_round_trip(header: str, value: str) -> None:
    path = f"email-message:additional_header_fields.{patterns.key(header)}"
    pattern = patterns.observation(patterns.equals(path, value))
    assert patterns.full_parser_error(pattern) is None
    ((_, comparisons),) = Pattern(pattern).inspect().comparisons.items()
    assert comparisons[0][0] == ["additional_header_fields", header]


def test_exact_forms_from_the_mapping() -> None:
    hashes = {"MD5": "b" * 32, "SHA-1": "c" * 40, "SHA-256": "a" * 64}
    assert patterns.file_hashes(hashes) == (
        f"[file:hashes.'SHA-256' = '{'a' * 64}' OR file:hashes.MD5 = '{'b' * 32}' OR file:hashes.'SHA-1' = "
        f"'{'c' * 40}']")
    assert patterns.sender("k@freemail.example") == "[email-message:from_ref.value = 'k@freemail.example']"
    assert patterns.domain("x.example") == "[domain-name:value = 'x.example']"
    assert patterns.ipv6("2001:db8::1") == "[ipv6-addr:value = '2001:db8::1']"
    assert patterns.literal("Kanazawa's") == "'Kanazawa\\'s'"
    assert patterns.conversation_sequence("x@y.example", 86400).endswith("WITHIN 86400 SECONDS")
    assert patterns.recon_burst("x@y.example", 3, 240) == (
        "[email-message:from_ref.value = 'x@y.example'] REPEATS 3 TIMES WITHIN 240 SECONDS")


@pytest.mark.parametrize(
    ("build", "value"),
    [
        (lambda v: patterns.file_hashes({"SHA-256": v}), "aa"),
        (lambda v: patterns.file_hashes({"MD5": v}), "z" * 32),
        (patterns.ipv4, "999.1.1.1"),
        (patterns.ipv6, "198.51.100.1"),
    ],
    ids=["short-sha256", "non-hex-md5", "bad-ipv4", "v4-as-v6"],
)
def test_values_the_grammar_cannot_express_are_refused(build: object, value: str) -> None:
    with pytest.raises(PatternError):
        build(value)  # type: ignore[operator]
