"""RFC 5322 `.eml` -> `incident-record/1` (one message).

Owns: MIME walking, exact decoding of Japanese headers, bodies and filenames (`converters.charsets`), links
and URLs, and the split between sender-side facts (kept for publishing) and recipient-side facts (kept only as
sensitive fields: To, Cc, Delivered-To, the member's own Received hops). Beside it: `converters.mime` (bytes to
MIME tree within the limits, raw headers), `converters.attachments` (hashes, types, zip members, the archive
password and archiver stated in the body), `converters.kept_headers` (which headers are kept, originating IP).

Reports wrapped by the reporter are unwrapped (`converters.forwards`): `message/rfc822` parts and `.eml` / `.msg`
attachments become the reported messages, recursively within the depth budget, and an inline forward is
reconstructed; the reporter's envelope (outer From/To, the forwarding note) is never an attacker fact, only
`Resent-*` headers the anonymisation treats as member facts. Senders are read liberally
(`converters.senders`): a mail without a usable `From:` is converted without a sender, not refused.

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
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message as MimePart
from types import MappingProxyType

from converters import charsets, forwards, links, mime, msg, senders, urls
from converters.attachments import read_attachment
from converters.budget import UNLIMITED, Budget
from converters.errors import EmlError, EmlLimitExceeded, RecordError, RecordLimitExceeded
from converters.kept_headers import kept_headers, with_originating_ip
from converters.limits import DEFAULT_LIMITS, DEFAULT_RECORD_LIMITS, EmlLimits, RecordLimits
from converters.record import Address, Attachment, FoundLink, Message, Record, record_from_dict, record_to_dict

_SIGNATURE_IMAGE = re.compile(r"(?i)^image\d{3}\.(png|jpe?g|gif)$")
_WRAPPED_SUFFIXES = (".eml", ".msg")
_PARAM = re.compile(r";\s*([^\s=;]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;]*)")


def parse_eml(
    raw: bytes,
    source: str,
    *,
    role: str | None = None,
    limits: EmlLimits = DEFAULT_LIMITS,
    tlp: str = "amber",
    member_domains: frozenset[str] = frozenset(),
    record_limits: RecordLimits = DEFAULT_RECORD_LIMITS,
    budget: Budget = UNLIMITED,
) -> Record:
    """Parse one report mail into a record: the mail itself, or the mails it wraps (forwarded as attachment,
    `.eml`/`.msg` attached, or forwarded inline), each a message of the thread in time order. A message's role
    is `attack` with an attachment or URL, else `recon`. `member_domains` are the reporting member's own
    mail domains (its relays are never the originating IP).

    Raises `EmlLimitExceeded` when the mail exceeds a limit and `EmlError` when it holds no readable message.
    """
    if role is not None and role not in ("recon", "reply", "attack"):
        raise EmlError(source, "role", f"{role!r} is not one of recon, reply, attack")
    root = mime.parse_bytes(raw, source, limits)
    parser = _Parser(source, limits, member_domains, record_limits, budget)
    try:
        messages = parser.report(root, role, ())
    except RecursionError as exc:
        # The stdlib address parser recurses on nested comments ("((((…))))" in To:).
        raise EmlLimitExceeded(source, "max_header_nesting", "a header nests comments too deeply") from exc
    messages.sort(key=lambda m: m.sent_at)
    text = "".join(f"{m.subject or ''}{m.body or ''}" for m in messages)
    record = Record(
        id="eml-" + hashlib.sha256(raw).hexdigest()[:24],
        reported_at=messages[-1].sent_at,
        tlp=tlp,
        messages=tuple(messages),
        lang="ja" if _has_japanese(text) else "en",
    )
    try:
        record_from_dict(record_to_dict(record), source, limits=record_limits)
    except RecordLimitExceeded as exc:
        raise EmlLimitExceeded(source, exc.limit, f"{exc.path}: {exc.message}") from exc
    except RecordError as exc:
        raise EmlError(source, exc.path or "(record)", exc.message) from exc
    return record


class _Parser:
    def __init__(
        self,
        source: str,
        limits: EmlLimits,
        member_domains: frozenset[str] = frozenset(),
        record_limits: RecordLimits = DEFAULT_RECORD_LIMITS,
        budget: Budget = UNLIMITED,
    ) -> None:
        self.source = source
        self.limits = limits
        self.member_domains = member_domains
        self.record_limits = record_limits
        self.budget = budget
        self.notes: list[str] = []
        self.parts = 0
        self.wrapped = 0

    # ------------------------------------------------------------------------------------------ report

    def report(self, root: MimePart, role: str | None, envelopes: tuple[forwards.Envelope, ...]) -> list[Message]:
        """The reported messages in `root`: the mails it wraps when it is a reporter's envelope, else itself
        (or the mail it forwards inline)."""
        mail = self.mail(root)
        if mail.wrapped:
            envelope = self.envelope(mail)
            out: list[Message] = []
            for child in mail.wrapped:
                self.wrapped += 1
                if self.wrapped > self.limits.max_mime_depth or len(envelopes) >= self.limits.max_mime_depth:
                    raise EmlLimitExceeded(self.source, "max_mime_depth", "too many wrapped mails")
                out.extend(self.report(child, role, (*envelopes, envelope)))
            if out:
                return out
        inline = forwards.find_inline(mail.text, mail.subject)
        if inline is not None:
            envelope = self.envelope(mail)
            return [self.reconstructed(mail, inline, role, (*envelopes, envelope))]
        return [self.finish(mail, role, envelopes)]

    def envelope(self, mail: _Mail) -> forwards.Envelope:
        get = mail.get
        return forwards.Envelope(
            sender=" ".join(self.text(v) for v in get("From")),
            recipients=tuple(self.text(v) for name in ("To", "Cc", "Delivered-To") for v in get(name)),
            date=mail.sent_at,
        )

    def finish(self, mail: _Mail, role: str | None, envelopes: tuple[forwards.Envelope, ...]) -> Message:
        if mail.sent_at is None:
            fallback = next((e.date for e in reversed(envelopes) if e.date is not None), None)
            if fallback is None:
                raise EmlError(self.source, "Date", "missing or not an RFC 5322 date, and no Received date")
            self.notes.append("Date: missing or unreadable; the reporter's forwarding date is used")
            mail = dataclasses.replace(mail, sent_at=fallback)
        message = mail.message
        assert mail.sent_at is not None
        headers = dict(message.headers)
        headers.update(forwards.envelope_headers(envelopes))
        message = dataclasses.replace(
            message,
            sent_at=mail.sent_at,
            role=role or ("attack" if message.attachments or message.urls else "recon"),
            headers=MappingProxyType(headers),
            defects=tuple(dict.fromkeys(self.notes))[:200],
        )
        return with_originating_ip(message, self.member_domains)

    def reconstructed(
        self, mail: _Mail, inline: forwards.Inline, role: str | None, envelopes: tuple[forwards.Envelope, ...]
    ) -> Message:
        """The message an inline forward shows: From, Date, To, Subject, body and links after the marker;
        marked reconstructed, with no attachments (no file hashes can be vouched for)."""
        sender = senders.parse_from([inline.sender], self.text) if inline.sender else None
        if sender is not None and sender.note:
            self.notes.append(sender.note)
        if mail.attachments:
            self.notes.append(
                f"{len(mail.attachments)} attachment(s) of the forwarding mail not attributed to the "
                "inline-forwarded message"
            )
        offset = inline.offset
        found = [link for link in mail.links if link.offset >= offset and link.source == "text"] or [
            link for link in mail.links if link.offset >= offset
        ]
        kept, context = self.judge(found, "forwarded inline")
        sent_at = forwards.parse_loose_date(inline.date) or mail.sent_at
        if sent_at is None:
            raise EmlError(self.source, "Date", "the inline-forwarded message and its envelope have no date")
        headers: dict[str, str | tuple[str, ...]] = {forwards.RECONSTRUCTED_HEADER: "inline forward"}
        headers.update(forwards.envelope_headers((*envelopes,)))
        message = Message(
            role=role or ("attack" if kept else "recon"),
            sent_at=sent_at,
            from_=sender.address if sender else None,
            to=self.addresses(list(inline.to)),
            subject=(inline.subject or "")[:4096] or None,
            body=inline.body or None,
            headers=MappingProxyType(headers),
            urls=tuple(dict.fromkeys(link.url for link in kept)),
            links=tuple([*kept, *context]),
            defects=tuple(dict.fromkeys(self.notes))[:200],
        )
        return message

    def headers(self, part: MimePart) -> list[tuple[str, str]]:
        return mime.checked_headers(part, self.source, self.limits)

    def text(self, raw: str) -> str:
        decoded, notes = charsets.decode_header(raw)
        self.notes.extend(notes)
        return senders.clean(decoded).strip()

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
        """Leaf parts; a wrapped mail (`message/rfc822`) is yielded whole, never walked as parts of this one."""
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
        if part.get_content_type() == "message/rfc822" and depth > 1:
            yield part
        elif part.is_multipart() and isinstance(payload, list):
            for child in payload:
                if isinstance(child, MimePart):
                    yield from self.leaves(child, depth + 1)
        else:
            yield part

    # --------------------------------------------------------------------------------------- one mail

    def mail(self, root: MimePart) -> _Mail:
        """One mail's own content: headers, text, links, attachments, and the mails it wraps."""
        self.notes = []
        headers = self.headers(root)
        get = mime.getter(headers)
        sender = senders.parse_from([self.raw8(v) for v in get("From")], self.text)
        if sender.note:
            self.notes.append(sender.note)
        sent_at = self.date(get("Date"), get("Received"))
        texts: list[tuple[str, str]] = []  # (content type, text)
        found: list[links.Link] = []
        content_ids: set[str] = set()
        candidates: list[tuple[MimePart, str, str, str | None]] = []
        wrapped: list[MimePart] = []
        for leaf in self.leaves(root):
            leaf_headers = mime.getter(self.headers(leaf))
            content_type = leaf.get_content_type()
            disposition_raw = (leaf_headers("Content-Disposition") or [""])[0]
            disposition = self.params(disposition_raw)
            type_params = self.params((leaf_headers("Content-Type") or [""])[0])
            filename = disposition.get("filename") or type_params.get("name")
            if content_type == "message/rfc822":
                inner = leaf.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], MimePart):
                    wrapped.append(inner[0])
                    continue
            is_attachment = (
                disposition_raw.strip().lower().startswith("attachment")
                or bool(filename)
                or leaf.get_content_maintype() not in ("text", "multipart", "message")
            )
            if is_attachment:
                cid = mime.first_id(leaf_headers("Content-ID"))
                inner_mail = self.wrapped_file(leaf, filename or "")
                if inner_mail is not None:
                    wrapped.append(inner_mail)
                    continue
                candidates.append((leaf, filename or "", content_type, cid.strip("<>").lower() if cid else None))
                continue
            data = leaf.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            text, note = charsets.decode_bytes(data, type_params.get("charset"))
            if note:
                self.notes.append(note)
            text = senders.clean(text)
            if content_type == "text/html":
                html_links, text, cids = links.links_in_html(text)
                found.extend(html_links)
                content_ids |= cids
            else:
                found.extend(links.links_in_text(text))
            texts.append((content_type, text.replace("\r\n", "\n").strip()))
        for value in get("List-Unsubscribe"):
            found.extend(links.Link(u, "List-Unsubscribe target", None, -1, "header") for u in mime.bracketed(value))
        plain = [t for ctype, t in texts if ctype != "text/html" and t]
        body = "\n\n".join(t for _, t in texts if t) or None
        main_text = plain[0] if plain else "\n\n".join(t for ctype, t in texts if ctype == "text/html")
        kept, context = self.judge(found, "body")
        to, cc = self.addresses(get("To")), self.addresses(get("Cc"))
        self.within_budgets(body, kept, len(to) + len(cc), len(candidates))  # before the attachments are read
        attachments: list[Attachment] = []
        for leaf, name, ctype, cid in candidates:
            if self.inline_image(leaf, name, ctype, cid, content_ids):
                self.notes.append(f"inline image {(name or cid or 'unnamed')[:80]!r} kept as context, not a file")
                continue
            name = name or f"attachment-{len(attachments) + 1}"
            attachments.append(read_attachment(leaf, name, ctype, body or "", self.limits, self.notes))
        subject_raw = get("Subject")
        subject = self.text(subject_raw[0])[:4096] if subject_raw else None
        message = Message(
            role="recon",
            sent_at=sent_at or datetime(1970, 1, 1, tzinfo=UTC),
            from_=sender.address,
            to=to,
            cc=cc,
            subject=subject,
            body=body,
            message_id=mime.first_id([senders.clean(v) for v in get("Message-ID")]),
            in_reply_to=mime.first_id([senders.clean(v) for v in get("In-Reply-To")]),
            headers=MappingProxyType(kept_headers(get, self.text)),
            received=tuple(" ".join(senders.clean(value).split()) for value in get("Received"))[:100],
            urls=tuple(dict.fromkeys(link.url for link in kept)),
            attachments=tuple(attachments),
            links=tuple([*kept, *context]),
        )
        return _Mail(message, get, sent_at, subject, main_text, found, attachments, wrapped)

    def within_budgets(self, body: str | None, kept: list[FoundLink], recipients: int, attachments: int) -> None:
        """The record budgets a mail can exceed, checked before its attachments are read and its record built."""
        limits = self.record_limits
        checks = (
            ("max_text_chars", "body", len(body or ""), limits.max_text_chars, "characters"),
            ("max_urls", "urls", len(kept), limits.max_urls, "URLs"),
            ("max_recipients", "To and Cc", recipients, limits.max_recipients, "recipients"),
            ("max_attachments", "attachments", attachments, limits.max_attachments, "attachments"),
        )
        for name, where, count, cap, what in checks:
            if count > cap:
                raise EmlLimitExceeded(self.source, name, f"{where}: {count} {what} (limit {cap}, {name})")

    def judge(self, found: list[links.Link], where: str) -> tuple[list[FoundLink], list[FoundLink]]:
        """Normalise every link once; (candidate indicators, context). A link that cannot be a valid URL
        is a note, never an exception."""
        kept: dict[str, FoundLink] = {}
        context: dict[str, FoundLink] = {}
        for link in found:
            result = urls.normalise(link.url)
            if isinstance(result, urls.Refused):
                self.notes.append(f"URL {result.raw[:80]!r} skipped: {result.reason}")
                continue
            part = "HTML part" if link.source == "html" else ("headers" if link.source == "header" else where)
            if link.context:
                context.setdefault(result.value, FoundLink(result.value, part, link.context, None))
            elif result.value not in kept or (link.shown_host and not kept[result.value].shown_host):
                kept[result.value] = FoundLink(result.value, part, None, link.shown_host)
        # A URL that is also a real link somewhere is judged as a link.
        return list(kept.values()), [c for url, c in context.items() if url not in kept]

    def inline_image(self, leaf: MimePart, name: str, content_type: str, cid: str | None, cids: set[str]) -> bool:
        """Images the HTML shows (`cid:`), inline image parts and signature logos are context."""
        if cid and cid in cids:
            return True
        disposition = str(leaf.get("Content-Disposition", "")).strip().lower()
        image = content_type.startswith("image/")
        return image and (disposition.startswith("inline") or bool(cid) or bool(_SIGNATURE_IMAGE.match(name)))

    def wrapped_file(self, leaf: MimePart, name: str) -> MimePart | None:
        """An attached `.eml` or Outlook `.msg`: the mail inside, parsed (within the size limits)."""
        lowered = name.lower()
        if not lowered.endswith(_WRAPPED_SUFFIXES):
            return None
        data = leaf.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            return None
        if lowered.endswith(".msg") or msg.is_msg(data):
            try:
                data = msg.to_rfc822(data, name, self.limits)
            except EmlError as exc:
                self.notes.append(f"attached {name[:80]!r} not readable as Outlook mail: {exc.message}")
                return None
        return mime.parse_bytes(data, f"{self.source}:{name}", self.limits)

    def date(self, values: list[str], received: list[str]) -> datetime | None:
        for value in [*values[:1], *(r.rpartition(";")[2] for r in received[:1])]:
            parsed = mime.loose_date(value)
            if parsed is not None:
                if value not in values:
                    self.notes.append("Date: missing or unreadable; the newest Received time is used")
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
        return None

    def raw8(self, value: str) -> str:
        """Header text with raw 8-bit bytes (RFC 6532 UTF-8, or a legacy charset) decoded; encoded-words kept."""
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            decoded, note = charsets.guess_8bit(value.encode("utf-8", "surrogateescape"))
            if note:
                self.notes.append(f"raw 8-bit header: {note}")
            return senders.clean(decoded)
        return value

    def addresses(self, values: list[str]) -> tuple[Address, ...]:
        out = []
        for display, address in email.utils.getaddresses([self.raw8(v) for v in values]):
            normalised = senders.normalise_address(address)
            if normalised:
                out.append(Address(normalised[:320], self.text(display)[:256] or None))
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class _Mail:
    """One parsed mail before it becomes a reported message (or a reporter's envelope)."""

    message: Message
    get: mime.Get
    sent_at: datetime | None
    subject: str | None
    text: str  # the main text (plain part, else the HTML's visible text), for inline-forward detection
    links: list[links.Link]
    attachments: list[Attachment]
    wrapped: list[MimePart]


def _has_japanese(text: str) -> bool:
    return bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]", text))
