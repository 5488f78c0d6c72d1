"""How every backend compares and stamps object versions: `date_added` of a commit's last version on a whole
millisecond, and two JSON texts of one version compared as values. Pure functions; no storage access."""

from __future__ import annotations

import orjson

MS_US = 1000


def on_whole_ms(value_us: int) -> int:
    """The first whole millisecond at or after `value_us`. A commit's last date_added sits on one, so a client
    that keeps X-TAXII-Date-Added-Last truncated to milliseconds (OpenCTI) asks for nothing it already has."""
    return -(-value_us // MS_US) * MS_US


def same_content(stored: bytes, sent: bytes) -> bool:
    """Whether two JSON texts of one object version are the same object: compared as values (canonical JSON,
    keys sorted), so key order and whitespace never turn a duplicate into a conflict (stix2's serialiser,
    successive ATT&CK releases). `1` and `1.0`, `true` and `1` stay different, as JSON types differ."""
    if stored == sent:
        return True
    try:
        return _canonical(stored) == _canonical(sent)
    except orjson.JSONDecodeError:
        return False


def _canonical(text: bytes) -> bytes:
    return orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
