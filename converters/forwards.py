"""Reports wrapped by the reporter: the reporter's envelope, and mails forwarded inline.

Owns: the `Resent-*` headers that carry a reporter's envelope (who forwarded the report, to whom, when) on
each reported message, so the anonymisation treats them as member facts and nothing of them is published;
recognising an inline forward (Outlook's `-----Original Message-----` / `-----元のメッセージ-----` and its
underscore rule, Gmail's `---------- Forwarded message ---------`, Thunderbird's `-------- Forwarded Message
--------`, Apple's `Begin forwarded message:`, `転送メッセージ`) and reading the header block it shows
(`From:/差出人:`, `Sent:/Date:/送信日時:`, `To:/宛先:`, `Subject:/件名:` …) with loose dates. Pure text
functions; the MIME side lives in `converters.eml`.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

RECONSTRUCTED_HEADER = "X-Hub-Reconstructed"

_FORWARD_MARKER = re.compile(
    r"(?im)^[ \t>]*(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|"
    r"転送メッセージ|転送されたメッセージ)\s*-{2,}|begin forwarded message:|-{3,}\s*転送\s*-{3,})[ \t]*$"
)
_REPLY_MARKER = re.compile(
    r"(?im)^[ \t>]*(?:-{2,}\s*(?:original message|元のメッセージ|オリジナル\s*メッセージ)\s*-{2,}|_{20,})[ \t]*$"
)
_FORWARD_SUBJECT = re.compile(r"(?i)^\s*(?:(?:fw|fwd|tr|wg|rv|転送|回覧)\s*[:：]\s*|\[fwd?:)")
_FIELDS = {
    "from": ("from", "差出人", "送信者", "von", "de"),
    "date": ("sent", "date", "送信日時", "日時", "日付", "送信日", "gesendet", "datum", "envoyé", "envoye"),
    "to": ("to", "宛先", "an", "à", "a"),
    "cc": ("cc",),
    "subject": ("subject", "件名", "betreff", "objet", "asunto"),
}
_FIELD_LINE = re.compile(r"^[ \t>*]*([^\s:：*][^:：]{0,20}?)\s*[*]?\s*[:：]\s*(.*)$")
_JAPANESE_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\D*(?:(\d{1,2})\s*[:時]\s*(\d{1,2}))?"
)
_LOOSE_FORMATS = (
    "%A, %B %d, %Y %I:%M %p",
    "%A, %B %d, %Y %I:%M:%S %p",
    "%a, %b %d, %Y at %I:%M %p",
    "%a, %b %d, %Y at %H:%M",
    "%A, %d %B %Y %H:%M",
    "%d %B %Y %H:%M",
    "%B %d, %Y at %I:%M:%S %p %Z",
    "%B %d, %Y at %I:%M %p",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
)
_JST = timezone(timedelta(hours=9))


@dataclass(frozen=True)
class Envelope:
    """A reporter's forwarding mail: who forwarded the report, to whom, when. Member facts only."""

    sender: str
    recipients: tuple[str, ...]
    date: datetime | None


@dataclass(frozen=True)
class Inline:
    """What an inline forward shows of the forwarded mail."""

    offset: int  # where the forwarded mail starts in the forwarding mail's text
    sender: str | None
    date: str | None
    to: tuple[str, ...]
    subject: str | None
    body: str


def envelope_headers(envelopes: tuple[Envelope, ...]) -> dict[str, str | tuple[str, ...]]:
    """`Resent-From` / `Resent-To` / `Resent-Date` for the reporter's envelope(s), outermost first."""
    if not envelopes:
        return {}
    out: dict[str, str | tuple[str, ...]] = {}
    senders = tuple(e.sender for e in envelopes if e.sender)
    recipients = tuple(", ".join(e.recipients) for e in envelopes if e.recipients)
    dates = tuple(email.utils.format_datetime(e.date) for e in envelopes if e.date is not None)
    for name, values in (("Resent-From", senders), ("Resent-To", recipients), ("Resent-Date", dates)):
        if values:
            out[name] = values[0] if len(values) == 1 else values
    return out


def find_inline(text: str, subject: str | None) -> Inline | None:
    """The first inline-forwarded mail in `text`, or None. Outlook's reply-style markers (`Original Message`,
    an underscore rule) count only when the subject says it is a forward: in a reply they quote the
    recipient's own earlier mail."""
    forward = _FORWARD_MARKER.search(text)
    reply = _REPLY_MARKER.search(text) if subject and _FORWARD_SUBJECT.match(subject) else None
    candidates = [m for m in (forward, reply) if m is not None]
    if not candidates:
        return None
    marker = min(candidates, key=lambda m: m.start())
    lines = text[marker.end() :].lstrip("\r\n").splitlines()
    fields: dict[str, list[str]] = {}
    consumed = 0
    current: str | None = None
    for index, line in enumerate(lines[:30]):
        stripped = line.strip()
        if not stripped:
            if fields:
                consumed = index + 1
                break
            continue
        match = _FIELD_LINE.match(line)
        name = _field(match.group(1)) if match else None
        if name is not None and match is not None:
            fields.setdefault(name, []).append(match.group(2).strip())
            current = name
        elif current in ("to", "cc") and fields:
            fields[current].append(stripped)  # a folded recipient list
        elif fields:
            consumed = index
            break
        consumed = index + 1
    if "from" not in fields and "subject" not in fields:
        return None
    body = "\n".join(lines[consumed:]).strip()
    return Inline(
        offset=marker.start(),
        sender=_strip_mailto(fields["from"][0]) if "from" in fields else None,
        date=fields["date"][0] if "date" in fields else None,
        to=tuple(_strip_mailto(v) for v in fields.get("to", []) + fields.get("cc", [])),
        subject=fields["subject"][0] if "subject" in fields else None,
        body=body,
    )


def _field(label: str) -> str | None:
    lowered = label.strip().strip("*").strip().lower()
    for name, labels in _FIELDS.items():
        if lowered in labels:
            return name
    return None


def _strip_mailto(value: str) -> str:
    """Outlook shows `Name [mailto:a@b]`; make it the usual `Name <a@b>`."""
    return re.sub(r"\[mailto:([^\]\s]+)\]", r"<\1>", value, flags=re.IGNORECASE).strip()


def parse_loose_date(value: str | None) -> datetime | None:
    """A date as mail clients print it in a forward header block (RFC 5322, English long forms, Japanese
    `2025年3月3日 10:15`); naive times in Japanese forms are JST, others UTC. None when unreadable."""
    if not value:
        return None
    text = " ".join(value.replace("\u202f", " ").split())
    for pattern in _LOOSE_FORMATS if re.search(r"(?i)\b(?:am|pm)\b|\bat\b", text) else ():
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    japanese = _JAPANESE_DATE.search(text)
    if japanese:
        year, month, day, hour, minute = (int(g) if g else 0 for g in japanese.groups())
        try:
            return datetime(year, month, day, hour, minute, tzinfo=_JST).astimezone(UTC)
        except ValueError:
            return None
    for pattern in _LOOSE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None
