"""RFC 5322 `.eml` -> `incident-record/1` (one message).

Owns: limits checked before the expensive steps (`converters.limits`), MIME walking, exact decoding of
Japanese headers, bodies and filenames (`converters.charsets`), attachment hashing and typing, zip member
listing (`converters.archive`), the archive password and target archiver stated in the body, URLs, and the
split between sender-side facts (kept for publishing) and recipient-side facts (kept only as sensitive
fields: To, Cc, Delivered-To, the member's own Received hops).

The mail is parsed with the `compat32` policy on purpose: it keeps every header as raw text, so we can cap
sizes before anything is decoded and decode charsets ourselves; the default policy decodes Japanese
encoded-words lossily and has a quadratic encoded-word decoder (CPython gh-136063). No header is ever
re-serialised, so a decoded newline (header injection) stays data.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import Message as MimePart
from email.parser import BytesParser
from types import MappingProxyType

from converters import anonymisation, archive, charsets, filetypes, links
from converters.budget import UNLIMITED, Budget
from converters.errors import EmlError, EmlLimitExceeded, RecordError, RecordLimitExceeded
from converters.limits import DEFAULT_LIMITS, DEFAULT_RECORD_LIMITS, EmlLimits, RecordLimits
from converters.record import Address, Attachment, Message, Record, record_from_dict, record_to_dict

# Sender-side headers worth keeping (all attacker-controlled); recipient-side ones are kept as sensitive.
_SENDER_HEADERS = (
    "X-Mailer",
    "User-Agent",
    "X-Originating-IP",
    "Reply-To",
    "Return-Path",
    "Sender",
    "X-Sender",
    "Organization",
    "References",
    "X-Priority",
    "Content-Language",
)
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")
_ARCHIVERS = (
    "Lhaplus",
    "Lhasa",
    "+Lhaca",
    "Explzh",
    "7-Zip",
    "WinRAR",
    "WinZip",
    "CubeICE",
    "Lhaz",
    "Bandizip",
)
_PASSWORD = re.compile(
    r"(?:パスワード|パスワ－ド|解凍キー|暗証番号|(?i:\bpass(?:word|wd)?\b)|\bPW\b)"
    r"\s*(?:は|:|：|=|(?i:is))?\s*[「『\"']?([\x21-\x7e]{2,64}?)[」』\"']?(?=\s|$|です|。|、|\)|）)"
)
_PARAM = re.compile(r";\s*([^\s=;]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;]*)")
_MULTIPART = re.compile(rb"(?im)^content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/")
_BOUNDARY_LINE = re.compile(rb"(?m)^--")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")

_Get = Callable[[str], list[str]]


def parse_eml(
    raw: bytes,
    source: str,
    *,
    role: str | None = None,
    limits: EmlLimits = DEFAULT_LIMITS,
    tlp: str = "amber",
    record_limits: RecordLimits = DEFAULT_RECORD_LIMITS,
    budget: Budget = UNLIMITED,
) -> Record:
    """Parse one mail into a one-message record (role `attack` with an attachment or URL, else `recon`).

    Raises `EmlLimitExceeded` when the mail exceeds a limit and `EmlError` when it cannot be understood.
    """
    if role is not None and role not in ("recon", "reply", "attack"):
        raise EmlError(source, "role", f"{role!r} is not one of recon, reply, attack")
    _precheck(raw, source, limits)
    try:
        root = BytesParser(policy=policy.compat32).parsebytes(raw)
    except RecursionError as exc:
        raise EmlLimitExceeded(source, "max_mime_depth", "MIME structure nested too deeply") from exc
    try:
        return _Parser(source, limits, record_limits, budget).message(root, role, tlp, raw)
    except RecursionError as exc:
        # The stdlib address parser recurses on nested comments ("((((…))))" in To:).
        raise EmlLimitExceeded(source, "max_header_nesting", "a header nests comments too deeply") from exc


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


class _Parser:
    def __init__(self, source: str, limits: EmlLimits, record_limits: RecordLimits = DEFAULT_RECORD_LIMITS,
                 budget: Budget = UNLIMITED) -> None:
        self.source = source
        self.limits = limits
        self.record_limits = record_limits
        self.budget = budget
        self.notes: list[str] = []
        self.parts = 0

    # ------------------------------------------------------------------------------------------ headers

    def headers(self, part: MimePart) -> list[tuple[str, str]]:
        """Raw (name, value) pairs of a part, after the size limits."""
        items = [(str(name), str(value)) for name, value in part.raw_items()]
        total = 0
        for name, value in items:
            size = len(value)
            total += size + len(name)
            if size > self.limits.max_header_bytes:
                raise EmlLimitExceeded(
                    self.source,
                    "max_header_bytes",
                    f"header {name[:60]!r} is {size} bytes (limit {self.limits.max_header_bytes})",
                )
            words = value.count("=?")
            if words > self.limits.max_encoded_words:
                raise EmlLimitExceeded(
                    self.source,
                    "max_encoded_words",
                    f"header {name[:60]!r} has {words} encoded-words (limit {self.limits.max_encoded_words})",
                )
        if total > self.limits.max_header_block_bytes:
            raise EmlLimitExceeded(
                self.source,
                "max_header_block_bytes",
                f"headers of a part are {total} bytes (limit {self.limits.max_header_block_bytes})",
            )
        return items

    def text(self, raw: str) -> str:
        decoded, notes = charsets.decode_header(raw)
        self.notes.extend(notes)
        return decoded.strip()

    def params(self, raw: str | None) -> dict[str, str]:
        """Parameters of Content-Type / Content-Disposition, with RFC 2231 and RFC 2047 decoded."""
        if not raw:
            return {}
        unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
        pairs = [(m.group(1).lower(), m.group(2).strip()) for m in _PARAM.finditer(unfolded)]
        out: dict[str, str] = {}
        for name, value in email.utils.decode_params([("", ""), *pairs])[1:]:
            if isinstance(value, tuple):
                charset, _, text = value
                data = email.utils.unquote(text).encode("latin-1", "replace")
                decoded, note = charsets.decode_bytes(data, charset or None)
                if note:
                    self.notes.append(note)
                out[name] = decoded
            else:
                out[name] = self.text(email.utils.unquote(value))
        return out

    # -------------------------------------------------------------------------------------------- walk

    def leaves(self, part: MimePart, depth: int = 1) -> Iterator[MimePart]:
        if depth > self.limits.max_mime_depth:
            raise EmlLimitExceeded(
                self.source, "max_mime_depth", f"MIME nesting deeper than {self.limits.max_mime_depth}"
            )
        self.parts += 1
        self.budget.check(self.source)
        if self.parts > self.limits.max_parts:
            raise EmlLimitExceeded(self.source, "max_parts", f"more than {self.limits.max_parts} MIME parts")
        if depth > 1:
            self.headers(part)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            for child in payload:
                if isinstance(child, MimePart):
                    yield from self.leaves(child, depth + 1)
        else:
            yield part

    # --------------------------------------------------------------------------------------- message

    def message(self, root: MimePart, role: str | None, tlp: str, raw: bytes) -> Record:
        headers = self.headers(root)
        get = _getter(headers)
        sender = self.sender(get("From"))
        sent_at = self.date(get("Date"))
        body_parts: list[str] = []
        urls: list[str] = []
        found: list[tuple[MimePart, str, str]] = []
        for leaf in self.leaves(root):
            leaf_headers = _getter(self.headers(leaf))
            content_type = leaf.get_content_type()
            disposition_raw = (leaf_headers("Content-Disposition") or [""])[0]
            disposition = self.params(disposition_raw)
            type_params = self.params((leaf_headers("Content-Type") or [""])[0])
            filename = disposition.get("filename") or type_params.get("name")
            is_attachment = (
                disposition_raw.strip().lower().startswith("attachment")
                or bool(filename)
                or leaf.get_content_maintype() not in ("text", "multipart", "message")
            )
            if is_attachment:
                found.append((leaf, filename or f"attachment-{len(found) + 1}", content_type))
                continue
            data = leaf.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            text, note = charsets.decode_bytes(data, type_params.get("charset"))
            if note:
                self.notes.append(note)
            if content_type == "text/html":
                html_urls, text = links.urls_in_html(text)
                urls.extend(html_urls)
            else:
                urls.extend(links.urls_in_text(text))
            body_parts.append(text.replace("\r\n", "\n").strip())
        body = "\n\n".join(p for p in body_parts if p) or None
        urls = list(dict.fromkeys(urls))
        to = self.addresses(get("To"))
        cc = self.addresses(get("Cc"))
        self.within_budgets(body, urls, len(to) + len(cc), len(found))  # before the attachments are read
        attachments = tuple(self.attachment(leaf, name, ctype, body or "") for leaf, name, ctype in found)
        subject_raw = get("Subject")
        subject = self.text(subject_raw[0])[:4096] if subject_raw else None
        message_id = _first_id(get("Message-ID"))
        kept = self.kept_headers(get)
        received = tuple(" ".join(value.split()) for value in get("Received"))[:100]
        message = Message(
            role=role or ("attack" if attachments or urls else "recon"),
            sent_at=sent_at,
            from_=sender,
            to=to,
            cc=cc,
            subject=subject,
            body=body,
            message_id=message_id,
            in_reply_to=_first_id(get("In-Reply-To")),
            headers=MappingProxyType(kept),
            received=received,
            urls=tuple(urls),
            attachments=attachments,
            defects=tuple(dict.fromkeys(self.notes)),
        )
        message = self.with_originating_ip(message)
        text = f"{subject or ''}{body or ''}"
        record = Record(
            id="eml-" + hashlib.sha256(raw).hexdigest()[:24],
            reported_at=sent_at,
            tlp=tlp,
            messages=(message,),
            lang="ja" if _has_japanese(text) else "en",
        )
        try:
            record_from_dict(record_to_dict(record), self.source, limits=self.record_limits)
        except RecordLimitExceeded as exc:
            raise EmlLimitExceeded(self.source, exc.limit, f"{exc.path}: {exc.message}") from exc
        except RecordError as exc:
            raise EmlError(self.source, exc.path or "(record)", exc.message) from exc
        return record

    def within_budgets(self, body: str | None, urls: list[str], recipients: int, attachments: int) -> None:
        """The record budgets a mail can exceed, checked before its attachments are read and its record built."""
        limits = self.record_limits
        checks = (
            ("max_text_chars", "body", len(body or ""), limits.max_text_chars, "characters"),
            ("max_urls", "urls", len(urls), limits.max_urls, "URLs"),
            ("max_recipients", "To and Cc", recipients, limits.max_recipients, "recipients"),
            ("max_attachments", "attachments", attachments, limits.max_attachments, "attachments"),
        )
        for name, where, count, cap, what in checks:
            if count > cap:
                raise EmlLimitExceeded(self.source, name, f"{where}: {count} {what} (limit {cap}, {name})")

    def sender(self, values: list[str]) -> Address:
        if not values:
            raise EmlError(self.source, "From", "missing")
        pairs = email.utils.getaddresses(values)
        single = email.utils.parseaddr(values[0])
        if len(values) != 1 or len(pairs) != 1 or pairs[0] != single or not _is_address(single[1]):
            raise EmlError(self.source, "From", "not exactly one unambiguous address (needs review)")
        display = self.text(single[0])[:256] or None
        return Address(single[1], display)

    def addresses(self, values: list[str]) -> tuple[Address, ...]:
        out = []
        for display, address in email.utils.getaddresses(values):
            if _is_address(address):
                out.append(Address(address[:320], self.text(display)[:256] or None))
        return tuple(out)

    def date(self, values: list[str]) -> datetime:
        try:
            parsed = email.utils.parsedate_to_datetime(values[0].strip())
        except (IndexError, TypeError, ValueError) as exc:
            raise EmlError(self.source, "Date", "missing or not an RFC 5322 date") from exc
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

    def kept_headers(self, get: _Get) -> dict[str, str | tuple[str, ...]]:
        kept: dict[str, str | tuple[str, ...]] = {}
        for name in (*_SENDER_HEADERS, *_RECIPIENT_HEADERS):
            values = [self.text(value) for value in get(name)]
            if values:
                kept[name] = values[0] if len(values) == 1 else tuple(values)
        return kept

    def with_originating_ip(self, message: Message) -> Message:
        if "X-Originating-IP" in message.headers:
            return message
        probe = Record(id="x", reported_at=message.sent_at, tlp="red", messages=(message,))
        _, sender_hops = anonymisation.split_received(message.received, anonymisation.victim_facts(probe))
        address = anonymisation.originating_ip(sender_hops)
        if address is None:
            return message
        headers = dict(message.headers)
        headers["X-Originating-IP"] = f"[{address}]"
        return dataclasses.replace(message, headers=MappingProxyType(headers))

    # ------------------------------------------------------------------------------------ attachments

    def attachment(self, leaf: MimePart, name: str, content_type: str, body: str) -> Attachment:
        data = leaf.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        sums = archive.digest(data)
        kind = filetypes.sniff(data, name)
        password = _stated_password(body) if kind.kind in filetypes.ARCHIVE_KINDS else None
        opens_with = _archiver(body) if kind.kind in filetypes.ARCHIVE_KINDS else None
        members: tuple[Attachment, ...] = ()
        if kind.kind == "zip":
            try:
                members = archive.zip_members(data, name, self.limits, password, notes=self.notes)
            except archive.ArchiveBudgetExceeded as exc:
                self.notes.append(f"{exc.limit}: {exc}; members not listed")
        return Attachment(
            name=name[:1024],
            size=sums.size,
            md5=sums.md5,
            sha1=sums.sha1,
            sha256=sums.sha256,
            mime_type=filetypes.published_mime_type(kind.kind, content_type),
            kind=kind.kind,
            password=password,
            opens_with=opens_with,
            members=members,
            magic=kind.magic,
        )


def _getter(headers: list[tuple[str, str]]) -> _Get:
    def get(name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in headers if key.lower() == lowered]

    return get


def _first_id(values: list[str]) -> str | None:
    for value in values:
        match = _MESSAGE_ID.search(value)
        if match:
            return match.group(0)
    return None


def _is_address(value: str) -> bool:
    return bool(re.fullmatch(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}", value))


def _stated_password(body: str) -> str | None:
    match = _PASSWORD.search(body)
    return match.group(1).rstrip(".,") if match else None


def _archiver(body: str) -> str | None:
    lowered = body.lower()
    for name in _ARCHIVERS:
        if name.lower() in lowered:
            return name
    return None


def _has_japanese(text: str) -> bool:
    return bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]", text))
