"""The fast pattern recogniser accepts only what stix2-patterns' full parser accepts (identical verdicts) and
reads what it accepts as stix2-patterns' inspector does, checked on generated near-miss patterns and on every
pattern the converters produce."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from converters import ConversionOptions, load_records, record_to_bundle
from converters.patterns import (
    _canonical,
    _fast_accepts,
    _parsed_inspection,
    equality_values,
    full_parser_error,
    inspect,
    pattern_error,
)

GOOD_TYPES = ["file", "domain-name", "ipv4-addr", "url", "email-addr", "email-message", "x-custom"]
ODD_TYPES = ["true", "a-", "A", "1x", "IN"]
GOOD_IDENTS = ["value", "name", "from_ref", "body_multipart", "Value", "_x", "MD5"]
ODD_IDENTS = ["true", "false", "9a", "x-y", "IN", "LIKE", "AND"]
GOOD_KEYS = ["'SHA-256'", "'MD5'", "MD5", "'SHA-1'", "SHA256"]
ODD_KEYS = ["'sha-256'", "'x y'", "'SSDEEP'", "'MD6'"]
HASH_LENGTHS = {"'SHA-256'": 64, "SHA256": 64, "'MD5'": 32, "MD5": 32, "'SHA-1'": 40}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def mostly(good: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """Mostly well-formed pieces, sometimes a near miss: the generator must reach both verdicts often."""
    return st.one_of(*([st.sampled_from(good)] * 9), st.sampled_from(odd))


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    otype = draw(mostly(GOOD_TYPES, ODD_TYPES))
    if draw(st.booleans()):
        key = draw(mostly(GOOD_KEYS, ODD_KEYS))
        path = f"hashes.{key}"
        length = HASH_LENGTHS.get(key, 64)
        raw = draw(st.one_of(st.text("0123456789abcdefABCDEF", min_size=length, max_size=length),
                             st.text("0123456789abcdefg\n", min_size=0, max_size=length + 2)))
    else:
        path = draw(mostly(GOOD_IDENTS, ODD_IDENTS))
        for _ in range(draw(st.integers(0, 2))):
            path += draw(st.sampled_from(["." + draw(mostly(GOOD_IDENTS, ODD_IDENTS)), "[*]", "[0]", "[12]", "[01]"]))
        raw = draw(st.one_of(st.text(max_size=16), st.text("abc.-/:?'\\\\ 資料", max_size=16)))
    value = draw(mostly([f"'{_escape(raw)}'"], [f"'{raw}'", raw, f"t'{raw}'", f"h'{raw}'", f'"{raw}"']))
    op = draw(mostly(["=", "!="], ["==", "LIKE", "<"]))
    space = draw(mostly([" "], ["  ", "", "\t"]))
    return f"{otype}:{path}{space}{op}{space}{value}"


@st.composite
def patterns(draw: st.DrawFn) -> str:
    body = draw(comparisons())
    for _ in range(draw(st.integers(0, 3))):
        body += draw(mostly([" OR ", " AND "], [" or ", " FOLLOWEDBY ", "OR", "  OR "])) + draw(comparisons())
    return draw(mostly(["[{}]"], ["{}", "[{}", "([{}])", "[{}] WITHIN 10 SECONDS"])).format(body)


@st.composite
def canonical_comparisons(draw: st.DrawFn) -> str:
    otype = draw(st.sampled_from(GOOD_TYPES))
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(HASH_LENGTHS)))
        n = HASH_LENGTHS[key]
        return f"{otype}:hashes.{key} = '{draw(st.text('0123456789abcdefABCDEF', min_size=n, max_size=n))}'"
    path = draw(st.sampled_from(GOOD_IDENTS)) + "".join(
        draw(st.lists(st.sampled_from([".value", ".name", "[*]", "[0]", "[7]", ".MD5"]), max_size=2)))
    op = draw(st.sampled_from(["=", "!="]))
    return f"{otype}:{path} {op} '{_escape(draw(st.text(max_size=24)))}'"


@st.composite
def canonical_patterns(draw: st.DrawFn) -> str:
    first = draw(canonical_comparisons())
    rest = draw(st.lists(st.tuples(st.sampled_from([" OR ", " AND "]), canonical_comparisons()), max_size=3))
    return "[" + first + "".join(j + c for j, c in rest) + "]"


@settings(max_examples=600, deadline=None)
@given(st.one_of(patterns(), canonical_patterns()))
def test_whatever_the_fast_path_accepts_the_full_parser_accepts(pattern: str) -> None:
    if _fast_accepts(pattern):
        assert full_parser_error(pattern) is None, pattern


@settings(max_examples=300, deadline=None)
@given(st.one_of(patterns(), canonical_patterns()))
def test_the_fast_inspection_is_stix2_patterns_inspection(pattern: str) -> None:
    if _canonical(pattern) is not None and full_parser_error(pattern) is None:
        parsed = _parsed_inspection(pattern)
        assert parsed is not None
        assert inspect(pattern) == parsed, pattern
        equalities = parsed.equalities()
        expected = None if equalities is None else [(c.object_type, c.dotted, c.value) for c in equalities]
        assert equality_values(pattern) == expected, pattern


@settings(max_examples=300, deadline=None)
@given(patterns())
def test_the_verdict_is_the_full_parsers_verdict(pattern: str) -> None:
    assert (pattern_error(pattern) is None) == (full_parser_error(pattern) is None)


def test_common_forms_take_the_fast_path() -> None:
    sha = "a" * 64
    for pattern in (
        f"[file:hashes.'SHA-256' = '{sha}']",
        f"[file:hashes.'SHA-256' = '{sha}' OR file:hashes.MD5 = '{'b' * 32}']",
        "[domain-name:value = 'c2.example']",
        "[ipv4-addr:value = '198.51.100.7']",
        "[url:value = 'http://x.example/a?b=\\'c\\'']",
        "[email-message:from_ref.value = 'a@x.example']",
        "[email-message:body_multipart[*].body_raw_ref.name = '資料.rar']",
    ):
        assert _fast_accepts(pattern), pattern
        assert full_parser_error(pattern) is None


def test_bad_hashes_go_to_the_parser_and_are_refused() -> None:
    assert not _fast_accepts("[file:hashes.'SHA-256' = 'abc']")
    assert pattern_error("[file:hashes.'SHA-256' = 'abc']") is not None


def test_every_pattern_the_converters_make_gets_the_same_verdict() -> None:
    options = ConversionOptions(id_key="test")
    seen = 0
    for path in sorted((Path(__file__).parent / "data" / "samples" / "records").glob("*.json")):
        for record in load_records(path.read_bytes(), path.name):
            for obj in record_to_bundle(record, options)["objects"]:
                if obj["type"] == "indicator":
                    seen += 1
                    assert pattern_error(obj["pattern"]) == full_parser_error(obj["pattern"]), obj["pattern"]
    assert seen > 20
