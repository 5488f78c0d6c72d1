from __future__ import annotations

import pytest

from converters import strict_json as reader
from converters.limits import RecordLimits
from taxii_server import strict_json
from taxii_server.errors import BadRequest


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": 1, "a": 2}', "duplicate member name 'a'"),
        (b"[NaN]", "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"[9007199254740992]", "outside"),
        (b"[1e400]", "too large"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000, "nested more than"),
        (b'{"a":' * 70 + b"1" + b"}" * 70, "nested more than"),
    ],
)
def test_b8_only_i_json_is_accepted(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        strict_json.loads(body)
    assert message in refused.value.message


def test_ordinary_json_with_non_ascii_text_is_read() -> None:
    assert strict_json.loads('{"description": "標的型メール ①", "n": -9007199254740991}'.encode()) == {
        "description": "標的型メール ①", "n": -9007199254740991}


# -- budgets checked while reading (converters.strict_json.Caps) -----------------------------------------------

CAPS = reader.Caps(arrays={"to": reader.Cap(3, "max_recipients")}, string=reader.Cap(8, "max_field_chars"),
                   strings={"body": reader.Cap(20, "max_text_chars")}, root_array=reader.Cap(2, "max_records"))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b'{"m": [{"to": ["a", "b", "c", "d"]}]}', "m[0].to: more than 3 items (limit 3, max_recipients)"),
        (b'{"m": [{"subject": "secret-value"}]}', "m[0].subject: a string of more than 8 characters (limit 8, "
                                                  "max_field_chars)"),
        (b'{"body": "' + b"b" * 21 + b'"}', "body: a string of more than 20 characters (limit 20, max_text_chars)"),
        (b"[{}, {}, {}]", "(document): more than 2 items (limit 2, max_records)"),
    ],
)
def test_per_place_caps_name_the_place_and_the_limit_and_never_the_value(doc: bytes, message: str) -> None:
    with pytest.raises(reader.JSONRefused) as refused:
        reader.loads(doc, caps=CAPS)
    assert refused.value.message == message
    assert "secret" not in refused.value.message and "bbbb" not in refused.value.message


def test_reading_stops_at_the_first_exceeded_cap() -> None:
    # Everything after the fourth recipient is broken: a reader that decoded the whole text first would say so.
    doc = b'{"m": [{"to": ["a", "b", "c", "d", ' + b"x" * 1000 + b"}"
    with pytest.raises(reader.JSONRefused) as refused:
        reader.loads(doc, caps=CAPS)
    assert refused.value.limit == "max_recipients"


def test_recipients_in_to_and_cc_share_one_budget() -> None:
    limits = RecordLimits(max_recipients=3)
    doc = b'{"messages": [{"to": ["a", "b"], "cc": ["c", "d"]}]}'
    with pytest.raises(reader.JSONRefused) as refused:
        reader.loads(doc, limits.json, limits.caps)
    assert refused.value.message == ("messages[0]: more than 3 recipients in to and cc (limit 3, max_recipients)")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'["\\ud800"]', "lone surrogate"),
        (b'{"a": "\\udc00x"}', "lone surrogate"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),
        (b'[18446744073709551616]', "outside"),
        (b'[-9007199254740992]', "outside"),
        (b'{"a": 1}{"b": 2}', "not valid JSON"),
        (b'{"k": "\xc3"}', "not UTF-8"),
    ],
)
def test_strictness_is_kept_while_reading_token_by_token(body: bytes, message: str) -> None:
    with pytest.raises(reader.JSONRefused) as refused:
        reader.loads(body)
    assert message in refused.value.message


def test_a_syntax_error_message_never_quotes_the_input() -> None:
    with pytest.raises(reader.JSONRefused) as refused:
        reader.loads(b'{"password-like-secret": 1,,}')
    assert "secret" not in refused.value.message and refused.value.line == 1


def test_paired_surrogate_escapes_and_large_safe_numbers_are_text_and_numbers() -> None:
    assert reader.loads(b'{"e": "\\ud83d\\ude00", "n": 9007199254740991, "f": 1.5e300}') == {
        "e": "\U0001f600", "n": 9007199254740991, "f": 1.5e300}
