"""The one registry of report formats: media type, file suffix and magic -> the reader.

Intake, the console's upload, `taxii-hub submit` and `taxii-hub convert` all decide here what a file is and
read it here, so a new format is added in one place. STIX bundles are registered (so they are recognised) but
have no record reader: the hub keeps a member's STIX as it is, after its own validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import ijson

from converters import msg
from converters.budget import UNLIMITED, Budget
from converters.eml import parse_eml
from converters.errors import ConversionError
from converters.limits import DEFAULT_LIMITS, DEFAULT_RECORD_LIMITS, EmlLimits, RecordLimits
from converters.record import Record, load_records


@dataclass(frozen=True)
class InputFormat:
    name: str  # eml, msg, record, stix
    label: str
    media_types: tuple[str, ...]  # the first is the canonical one
    suffixes: tuple[str, ...]
    magic: Callable[[bytes], bool]

    @property
    def media_type(self) -> str:
        return self.media_types[0]


_TOKENS = ijson.get_backend("yajl2_c")
_BUNDLE_TYPE = re.compile(rb'"type"\s*:\s*"bundle"')


def _is_stix(data: bytes) -> bool:
    """A JSON object whose top-level "type" is "bundle". The text is searched before it is decoded, so an
    oversized incident record is never decoded here: the reader refuses it at its first exceeded budget."""
    head = data.lstrip()[:1]
    if head != b"{" or not _BUNDLE_TYPE.search(data):
        return False
    try:  # the top-level "type" only, found by the C token reader without decoding the rest
        return bool(next(_TOKENS.items(data, "type"), None) == "bundle")
    except (ijson.JSONError, UnicodeDecodeError, ValueError):
        return False


def _is_record(data: bytes) -> bool:
    return data.lstrip()[:1] in (b"{", b"[") and not _is_stix(data)


def _is_mail(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return any(head[:64].lower().startswith(name) for name in (b"from", b"received", b"return-path", b"date",
                                                                 b"message-id", b"subject", b"mime-version",
                                                                 b"delivered-to", b"x-", b"to:", b"content-"))


FORMATS = (
    InputFormat("msg", "Outlook message (.msg)", ("application/vnd.ms-outlook",), (".msg",), msg.is_msg),
    InputFormat("stix", "STIX 2.1 bundle", ("application/stix+json",), (".stix",), _is_stix),
    InputFormat(
        "record", "incident-record/1 JSON", ("application/json", "application/x-ndjson"),
        (".json", ".jsonl", ".ndjson"), _is_record,
    ),
    InputFormat("eml", "RFC 5322 mail (.eml)", ("message/rfc822",), (".eml",), _is_mail),
)
SUFFIXES = tuple(suffix for f in FORMATS for suffix in f.suffixes)
MEDIA_TYPES = tuple(dict.fromkeys(m for f in FORMATS for m in f.media_types))
_GENERIC = frozenset({"", "application/octet-stream", "text/plain", "binary/octet-stream"})


def by_name(name: str) -> InputFormat:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def by_media_type(media_type: str) -> InputFormat | None:
    base = media_type.split(";", 1)[0].strip().lower()
    return next((f for f in FORMATS if base in f.media_types), None)


def detect(data: bytes, filename: str, media_type: str | None = None) -> InputFormat:
    """The format of a report: a specific media type decides, then the suffix, then the content.
    `.json` holding a STIX bundle is STIX. Raises `ConversionError` when nothing fits."""
    if media_type and media_type.split(";", 1)[0].strip().lower() not in _GENERIC:
        found = by_media_type(media_type)
        if found is None:
            raise ConversionError(filename, "(format)", f"unsupported media type {media_type!r}; one of "
                                  f"{', '.join(MEDIA_TYPES)}")
        if found.name == "record" and _is_stix(data):
            return by_name("stix")
        return found
    lowered = filename.lower()
    for fmt in FORMATS:
        if lowered.endswith(fmt.suffixes) and fmt.suffixes:
            if fmt.name == "record" and _is_stix(data):
                return by_name("stix")
            return fmt
    for fmt in FORMATS:
        if fmt.magic(data):
            return fmt
    raise ConversionError(filename, "(format)", "not a mail (.eml/.msg), incident-record JSON or STIX bundle")


def read_report(
    data: bytes,
    source: str,
    fmt: InputFormat | None = None,
    *,
    limits: EmlLimits = DEFAULT_LIMITS,
    record_limits: RecordLimits = DEFAULT_RECORD_LIMITS,
    budget: Budget = UNLIMITED,
    member_domains: frozenset[str] = frozenset(),
) -> list[Record]:
    """The incident records in one report file. Raises `ConversionError` (one line: file, field, message)."""
    fmt = fmt or detect(data, source)
    if fmt.name == "record":
        return load_records(data, source, record_limits, budget)
    if fmt.name in ("eml", "msg"):
        mail = msg.to_rfc822(data, source, limits) if fmt.name == "msg" else data
        return [
            parse_eml(
                mail, source, limits=limits, record_limits=record_limits, budget=budget, member_domains=member_domains
            )
        ]
    raise ConversionError(source, "(format)", f"{fmt.label} is not converted to incident records")
