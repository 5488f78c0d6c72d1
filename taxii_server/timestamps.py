"""TAXII/STIX timestamps as integer microseconds since the epoch, and back.

Input is read leniently (0–9 fractional digits; an RFC 3339 offset where the caller allows one), output is
always the TAXII form with exactly six fractional digits and `Z` (TAXII 2.1 §2, checklist C10, J3).
"""

from __future__ import annotations

import calendar
import functools
import re
import time
from datetime import UTC, datetime

_TS = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$"
)


def parse_us(text: str, *, allow_offset: bool = False) -> int:
    """Microseconds since the epoch; ValueError naming the problem. STIX timestamps require `Z`."""
    return _parse_us(text, allow_offset)


@functools.lru_cache(maxsize=8192)  # real content repeats its timestamps (created = modified = valid_from …)
def _parse_us(text: str, allow_offset: bool) -> int:
    m = _TS.match(text)
    if not m:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp like 2026-01-31T09:00:00.000000Z")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if zone not in ("Z", "z") and not allow_offset:
        raise ValueError(f"{text!r} must be in UTC, ending in Z")
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date and time: {exc}") from exc
    micros = int((frac or "0").ljust(6, "0")[:6])
    offset = 0
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    seconds = calendar.timegm(dt.utctimetuple()) - offset
    if not _FIRST_S <= seconds <= _LAST_S:
        raise ValueError(f"{text!r} lies outside the years 0001 to 9999 once taken to UTC")
    return seconds * 1_000_000 + micros


_FIRST_S = calendar.timegm((1, 1, 1, 0, 0, 0))
_LAST_S = calendar.timegm((9999, 12, 31, 23, 59, 59))


def format_us(us: int) -> str:
    """The TAXII form: YYYY-MM-DDTHH:MM:SS.ssssssZ."""
    seconds, micros = divmod(us, 1_000_000)
    t = time.gmtime(seconds)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
            f".{micros:06d}Z")


def format_datetime(value: datetime) -> str:
    """An aware datetime in the TAXII form (microseconds); a naive one is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return format_us((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def now_us() -> int:
    return time.time_ns() // 1000
