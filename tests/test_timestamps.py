from __future__ import annotations

import pytest

from taxii_server.timestamps import format_us, parse_us


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-01-01T00:00:00Z", "2021-01-01T00:00:00.000000Z"),
        ("2021-01-01T00:00:00.1Z", "2021-01-01T00:00:00.100000Z"),
        ("2016-11-04T03:04:05.123456789Z", "2016-11-04T03:04:05.123456Z"),
    ],
)
def test_j3_any_precision_in_six_digits_out(text: str, expected: str) -> None:
    assert format_us(parse_us(text)) == expected


def test_offsets_are_read_only_where_allowed() -> None:
    assert format_us(parse_us("2021-01-01T09:00:00+09:00", allow_offset=True)) == "2021-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="must be in UTC"):
        parse_us("2021-01-01T09:00:00+09:00")


@pytest.mark.parametrize("text", ["2021-13-01T00:00:00Z", "2021-01-01", "yesterday", "2021-01-01T00:00:00.Z"])
def test_invalid_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_us(text)


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_instant_outside_the_four_digit_years_once_in_utc_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="outside the years 0001 to 9999"):
        parse_us(text, allow_offset=True)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00.000000Z", "0999-03-04T05:06:07.000008Z",
                                  "9999-12-31T23:59:59.999999Z"])
def test_the_first_and_last_years_round_trip_with_four_digits(text: str) -> None:
    assert format_us(parse_us(text)) == text
