"""The `incident-record/1` model: loading, schema validation, and the frozen dataclasses the converters use.

Owns: turning JSON bytes (one record, a list, or JSON Lines) into `Record` objects, with errors that name
the record id and the JSON path of the field. The schema is the copy shipped in `converters/schema/`, so the
installed package never reads the shared reference tree. Must not: touch the file system beyond that
packaged schema, or know anything about STIX.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from converters import strict_json
from converters.budget import UNLIMITED, Budget
from converters.errors import RecordError, RecordLimitExceeded
from converters.limits import DEFAULT_RECORD_LIMITS, RecordLimits, record_budget_problem

if TYPE_CHECKING:  # imported on first use: jsonschema's optional format modules take most of a second to load
    import jsonschema
    from jsonschema import Draft202012Validator

FORMAT = "incident-record/1"
ROLES = ("recon", "reply", "attack")
_PRINTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # the schema's id pattern: safe to quote in errors


@dataclass(frozen=True)
class Address:
    address: str
    display_name: str | None = None


@dataclass(frozen=True)
class C2:
    domain: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    url: str | None = None
    port: int | None = None
    country: str | None = None
    compromised_site: bool = False


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    mime_type: str | None = None
    kind: str | None = None
    password: str | None = None
    opens_with: str | None = None
    members: tuple[Attachment, ...] = ()
    c2: tuple[C2, ...] = ()
    malware_family: str | None = None
    # Not part of incident-record/1: the hex magic number, known when the hub parsed the bytes itself (.eml).
    magic: str | None = None


@dataclass(frozen=True)
class FoundLink:
    """A link the mail parser found (not part of incident-record/1): the normalised URL, the part of the mail
    it came from, and why it is context (image, tracking pixel, footer…) or which other host its visible
    text shows."""

    url: str
    part: str
    context: str | None = None
    shown_host: str | None = None


@dataclass(frozen=True)
class Message:
    role: str
    sent_at: datetime
    from_: Address | None  # None: the mail shows no usable sender (no sender indicator is made)
    ref: str | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str | None = None
    body: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    headers: Mapping[str, str | tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    received: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    # Not part of incident-record/1: parser notes (charset fallbacks, MIME defects, unusable senders or URLs)
    # for the analyst, and the links the parser judged context rather than candidate indicators.
    defects: tuple[str, ...] = ()
    links: tuple[FoundLink, ...] = ()

    @property
    def attacker_authored(self) -> bool:
        return self.role != "reply"


@dataclass(frozen=True)
class Record:
    id: str
    reported_at: datetime
    tlp: str
    messages: tuple[Message, ...]
    reporter: str | None = None
    lang: str = "ja"
    title: str | None = None
    description: str | None = None


# --------------------------------------------------------------------------------------------------- loading


def load_records(data: bytes, source: str, limits: RecordLimits = DEFAULT_RECORD_LIMITS,
                 budget: Budget = UNLIMITED) -> list[Record]:
    """Parse and validate one record, a JSON list of records, or JSON Lines.

    Raises `RecordError` for the first invalid record; the message names the record and the field. The
    budgets of `limits` are checked on the decoded JSON before schema validation; `budget` is the CPU time the
    whole conversion may take (checked once per record).
    """
    documents = _documents(data, source, limits)
    records = []
    for index, (label, document) in enumerate(documents):
        budget.check(source)
        records.append(record_from_dict(document, source, fallback_label=label or f"record #{index + 1}",
                                        limits=limits))
    return records


def record_from_dict(document: Any, source: str, *, fallback_label: str = "record #1",
                     limits: RecordLimits = DEFAULT_RECORD_LIMITS) -> Record:
    """Validate one decoded JSON document against the schema and build the `Record`."""
    record_id = fallback_label
    if isinstance(document, Mapping) and isinstance(document.get("id"), str) and document["id"]:
        record_id = document["id"][:128] if _PRINTABLE_ID.match(document["id"]) else fallback_label
    problem = record_budget_problem(document, limits)
    if problem is not None:
        raise RecordLimitExceeded(source, record_id, *problem)
    errors = sorted(_validator().iter_errors(document), key=_error_sort_key)
    if errors:
        error = errors[0]
        raise RecordError(source, record_id, _json_path(error.absolute_path), _describe(error))
    return _build_record(document)


def _documents(data: bytes, source: str, limits: RecordLimits) -> list[tuple[str | None, Any]]:
    text = data.removeprefix(b"\xef\xbb\xbf")  # a file saved with a byte order mark (not over HTTP: I-JSON)
    try:
        document = strict_json.loads(text, limits.json, limits.caps)
    except strict_json.JSONRefused as first_error:
        if first_error.message.startswith("the text is not UTF-8"):
            raise RecordError(source, "(file)", "", first_error.message.removeprefix("the text is ")) from None
        if first_error.limit:
            raise _refused(source, "(file)", first_error) from first_error
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2 or not _parses(lines[0][1], limits):
            raise _refused(source, "(file)", first_error) from first_error
        if len(lines) > limits.max_records:
            raise RecordLimitExceeded(source, "(file)", "", f"{len(lines)} records (limit {limits.max_records}, "
                                      "max_records)", "max_records") from None
        documents: list[tuple[str | None, Any]] = []
        for number, line in lines:
            try:
                documents.append((f"line {number}", strict_json.loads(line, limits.json, limits.caps)))
            except strict_json.JSONRefused as exc:
                raise _refused(source, f"line {number}", exc, in_line=True) from exc
        return documents
    if isinstance(document, list):
        if not document:
            raise RecordError(source, "(file)", "", "empty list: no records")
        if len(document) > limits.max_records:
            raise RecordLimitExceeded(source, "(file)", "", f"{len(document)} records (limit {limits.max_records}, "
                                      "max_records)", "max_records")
        return [(None, item) for item in document]
    return [(None, document)]


def _refused(source: str, where: str, exc: strict_json.JSONRefused, in_line: bool = False) -> RecordError:
    if exc.syntax:
        return RecordError(source, where, "" if in_line else f"line {exc.line}", f"invalid JSON: {exc.syntax}")
    if exc.limit and exc.limit != "max_depth":
        return RecordLimitExceeded(source, where, "", exc.message, exc.limit)
    return RecordError(source, where, "", exc.message)


def _parses(line: bytes, limits: RecordLimits) -> bool:
    try:
        strict_json.loads(line, limits.json, limits.caps)
    except strict_json.JSONRefused:
        return False
    return True


# ------------------------------------------------------------------------------------------------ validation


@functools.cache
def schema() -> dict[str, Any]:
    """The packaged `incident-record/1` JSON Schema."""
    text = resources.files("converters").joinpath("schema/incident-record.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_rfc3339)
    checker.checks("ipv4")(_is_ipv4)
    checker.checks("ipv6")(_is_ipv6)
    return Draft202012Validator(schema(), format_checker=checker)


def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if len(value) < 20 or value[10] not in "Tt":
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _is_ipv4(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_ipv6(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


_PATTERN_MESSAGES = {
    "md5": "is not an MD5 hex digest (32 lower-case hex digits)",
    "sha1": "is not a SHA-1 hex digest (40 lower-case hex digits)",
    "sha256": "is not a SHA-256 hex digest",
    "id": "is not a valid record id (1-128 of A-Z a-z 0-9 . _ : -)",
    "reporter": "is not a valid organisation id",
    "country": "is not an ISO 3166-1 alpha-2 code",
    "lang": "is not a language tag",
}


def _describe(error: jsonschema.ValidationError) -> str:
    name = error.absolute_path[-1] if error.absolute_path else None
    value = _short(error.instance)
    if error.validator == "pattern" and isinstance(name, str) and name in _PATTERN_MESSAGES:
        return f"{value} {_PATTERN_MESSAGES[name]}"
    if error.validator == "format":
        return f"{value} is not a valid {error.validator_value}"
    if error.validator == "anyOf" and isinstance(error.validator_value, list):
        needed = [key for option in error.validator_value for key in option.get("required", ())]
        return f"needs at least one of: {', '.join(needed)}"
    message = str(error.message)
    if error.validator == "additionalProperties":
        return message.replace("Additional properties are not allowed", "unknown field(s)")
    if error.validator == "enum":
        return f"{value} is not one of {', '.join(map(str, error.validator_value))}"
    return message if len(message) <= 300 else message[:297] + "..."


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error_sort_key(error: jsonschema.ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), _json_path(error.absolute_path))


def _json_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -------------------------------------------------------------------------------------------------- building


def _build_record(doc: Mapping[str, Any]) -> Record:
    return Record(
        id=doc["id"],
        reporter=doc.get("reporter"),
        reported_at=parse_time(doc["reported_at"]),
        tlp=doc["tlp"],
        lang=doc.get("lang", "ja"),
        title=doc.get("title"),
        description=doc.get("description"),
        messages=tuple(_build_message(item) for item in doc["messages"]),
    )


def _build_message(doc: Mapping[str, Any]) -> Message:
    headers: dict[str, str | tuple[str, ...]] = {}
    for key, value in doc.get("headers", {}).items():
        headers[key] = value if isinstance(value, str) else tuple(value)
    return Message(
        ref=doc.get("ref"),
        role=doc["role"],
        sent_at=parse_time(doc["sent_at"]),
        from_=_build_address(doc["from"]) if "from" in doc else None,
        to=tuple(_build_address(item) for item in doc.get("to", ())),
        cc=tuple(_build_address(item) for item in doc.get("cc", ())),
        subject=doc.get("subject"),
        body=doc.get("body"),
        message_id=doc.get("message_id"),
        in_reply_to=doc.get("in_reply_to"),
        headers=MappingProxyType(headers),
        received=tuple(doc.get("received", ())),
        urls=tuple(doc.get("urls", ())),
        attachments=tuple(_build_attachment(item) for item in doc.get("attachments", ())),
    )


def _build_address(doc: Mapping[str, Any]) -> Address:
    return Address(address=doc["address"], display_name=doc.get("display_name"))


def _build_attachment(doc: Mapping[str, Any]) -> Attachment:
    return Attachment(
        name=doc["name"],
        size=doc.get("size"),
        md5=doc.get("md5"),
        sha1=doc.get("sha1"),
        sha256=doc.get("sha256"),
        mime_type=doc.get("mime_type"),
        kind=doc.get("kind"),
        password=doc.get("password"),
        opens_with=doc.get("opens_with"),
        members=tuple(_build_attachment(item) for item in doc.get("members", ())),
        c2=tuple(C2(**item) for item in doc.get("c2", ())),
        malware_family=doc.get("malware_family"),
    )


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp (already schema-checked) as an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("z", "Z")).astimezone(UTC)


# ------------------------------------------------------------------------------------------------- to JSON


def record_to_dict(record: Record) -> dict[str, Any]:
    """The record as `incident-record/1` JSON data (schema-valid; parser-only fields are left out)."""
    out: dict[str, Any] = {"format": FORMAT, "id": record.id}
    if record.reporter is not None:
        out["reporter"] = record.reporter
    out["reported_at"] = format_time(record.reported_at)
    out["tlp"] = record.tlp
    out["lang"] = record.lang
    _put(out, "title", record.title)
    _put(out, "description", record.description)
    out["messages"] = [_message_to_dict(message) for message in record.messages]
    return out


def _message_to_dict(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "ref", message.ref)
    out["role"] = message.role
    out["sent_at"] = format_time(message.sent_at)
    if message.from_ is not None:
        out["from"] = _address_to_dict(message.from_)
    if message.to:
        out["to"] = [_address_to_dict(item) for item in message.to]
    if message.cc:
        out["cc"] = [_address_to_dict(item) for item in message.cc]
    for key in ("subject", "body", "message_id", "in_reply_to"):
        _put(out, key, getattr(message, key))
    if message.headers:
        out["headers"] = {k: (v if isinstance(v, str) else list(v)) for k, v in message.headers.items()}
    if message.received:
        out["received"] = list(message.received)
    if message.urls:
        out["urls"] = list(message.urls)
    if message.attachments:
        out["attachments"] = [_attachment_to_dict(item) for item in message.attachments]
    return out


def _address_to_dict(address: Address) -> dict[str, str]:
    out = {"address": address.address}
    if address.display_name is not None:
        out["display_name"] = address.display_name
    return out


def _attachment_to_dict(attachment: Attachment) -> dict[str, Any]:
    out: dict[str, Any] = {"name": attachment.name}
    for key in ("size", "md5", "sha1", "sha256", "mime_type", "kind", "password", "opens_with"):
        _put(out, key, getattr(attachment, key))
    if attachment.members:
        out["members"] = [_attachment_to_dict(item) for item in attachment.members]
    if attachment.c2:
        out["c2"] = [_c2_to_dict(item) for item in attachment.c2]
    if attachment.malware_family is not None:
        out["malware_family"] = attachment.malware_family
    return out


def _c2_to_dict(c2: C2) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("domain", "ipv4", "ipv6", "url", "port", "country"):
        _put(out, key, getattr(c2, key))
    if c2.compromised_site:
        out["compromised_site"] = True
    return out


def _put(out: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        out[key] = value


@functools.lru_cache(maxsize=8192)
def format_time(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds and `Z`: the one timestamp form STIX validators accept everywhere."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
