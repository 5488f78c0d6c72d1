from __future__ import annotations

import pytest

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
