"""A mail's bytes -> its MIME tree, within the limits, and raw header access.

Owns: the cheap checks made before the recursive stdlib parser runs (`converters.limits`), the header size
checks of each part, and reading raw header values (Message-ID, List-Unsubscribe targets, loose dates). Parsed
with the `compat32` policy so every header stays raw text (converters/eml.py says why). Decodes no charset.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.message import Message as MimePart
from email.parser import BytesParser

from converters import forwards, senders
from converters.errors import EmlLimitExceeded
from converters.limits import EmlLimits

_MULTIPART = re.compile(rb"(?im)^content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/")
_BOUNDARY_LINE = re.compile(rb"(?m)^--")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")

Get = Callable[[str], list[str]]


def parse_bytes(raw: bytes, source: str, limits: EmlLimits) -> MimePart:
    """The MIME tree of one mail; `EmlLimitExceeded` before parsing when the bytes exceed a limit."""
    _precheck(raw, source, limits)
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw)
    except RecursionError as exc:
        raise EmlLimitExceeded(source, "max_mime_depth", "MIME structure nested too deeply") from exc


def _precheck(raw: bytes, source: str, limits: EmlLimits) -> None:
    if len(raw) > limits.max_raw_bytes:
        raise EmlLimitExceeded(source, "max_raw_bytes", f"mail is {len(raw)} bytes (limit {limits.max_raw_bytes})")
    end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    if end > limits.max_header_block_bytes:
        raise EmlLimitExceeded(
            source,
            "max_header_block_bytes",
            f"header block is {end} bytes (limit {limits.max_header_block_bytes})",
        )
    # Cheap upper bounds before the recursive parser runs: nesting depth <= number of multipart containers,
    # parts <= number of lines starting with "--".
    multiparts = len(_MULTIPART.findall(raw))
    if multiparts > 4 * limits.max_mime_depth:
        raise EmlLimitExceeded(
            source,
            "max_mime_depth",
            f"{multiparts} multipart containers (nesting limit {limits.max_mime_depth})",
        )
    boundaries = len(_BOUNDARY_LINE.findall(raw))
    if boundaries > 2 * limits.max_parts + 10:
        raise EmlLimitExceeded(source, "max_parts", f"about {boundaries // 2} MIME parts (limit {limits.max_parts})")


def checked_headers(part: MimePart, source: str, limits: EmlLimits) -> list[tuple[str, str]]:
    """Raw (name, value) pairs of a part, after the size limits."""
    items = [(str(name), str(value)) for name, value in part.raw_items()]
    total = 0
    for name, value in items:
        size = len(value)
        total += size + len(name)
        if size > limits.max_header_bytes:
            raise EmlLimitExceeded(
                source,
                "max_header_bytes",
                f"header {name[:60]!r} is {size} bytes (limit {limits.max_header_bytes})",
            )
        words = value.count("=?")
        if words > limits.max_encoded_words:
            raise EmlLimitExceeded(
                source,
                "max_encoded_words",
                f"header {name[:60]!r} has {words} encoded-words (limit {limits.max_encoded_words})",
            )
    if total > limits.max_header_block_bytes:
        raise EmlLimitExceeded(
            source,
            "max_header_block_bytes",
            f"headers of a part are {total} bytes (limit {limits.max_header_block_bytes})",
        )
    return items


def getter(headers: list[tuple[str, str]]) -> Get:
    """Every raw value of a header, by case-insensitive name, in order."""

    def get(name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in headers if key.lower() == lowered]

    return get


def first_id(values: list[str]) -> str | None:
    """The first `<…>` message id in the values (Message-ID, In-Reply-To, Content-ID)."""
    for value in values:
        match = _MESSAGE_ID.search(value)
        if match:
            return match.group(0)
    return None


def bracketed(value: str) -> list[str]:
    """http(s) targets of a `List-Unsubscribe:` header (`mailto:` ones are not web links)."""
    return [u for u in re.findall(r"<\s*([^<>\s]+)\s*>", value) if u.lower().startswith(("http://", "https://"))]


def loose_date(value: str) -> datetime | None:
    """An RFC 5322 date, tolerating garbage before the day (`��, 29 Jan 2023`) and other client forms."""
    text = senders.clean(value).strip()
    for candidate in (text, re.sub(r"^[^0-9]*?(?=\d{1,2}\s+[A-Za-z]{3}\s+\d{4})", "", text)):
        try:
            parsed = email.utils.parsedate_to_datetime(candidate)
        except (IndexError, TypeError, ValueError):
            continue
        if parsed is not None:
            return parsed
    return forwards.parse_loose_date(text)
