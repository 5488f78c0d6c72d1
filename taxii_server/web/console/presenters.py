"""What the console's pages show, computed from the services' values: a submission's status timeline, a mail
thread as a timeline with the attacker's reply latency, a candidate's evidence summary, who a collection
reaches, and display texts made safe to show.

Pure functions of frozen values; no Flask, no request, no translation (templates translate the labels these
return as message ids). Must not: decide what a caller may see (the services did before these are called).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from converters import Attachment, Record

from ...hub.correlation import Candidate
from ...model import CollectionDef, Publication, Submission
from ...timestamps import format_us

STEPS = ("received", "converted", "published")
MAX_SHOWN = 200  # characters of a member-supplied text shown in a table cell before it is cut
ROLE_LABELS = {"recon": "偵察", "reply": "返信", "attack": "攻撃"}
# Bidirectional controls (RLO, LRO, isolates…) can make a file name like "cod.exe" read as "exe.doc". They are
# shown as visible escapes, never applied.
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
         "\u200f", "\u061c"}


def visible(text: str | None, limit: int = MAX_SHOWN) -> str:
    """A member-supplied text made safe to display: bidirectional and other control characters shown as
    <U+202E>-style escapes, and cut at `limit` characters with an ellipsis. HTML escaping is the templates'."""
    if not text:
        return ""
    out = []
    for ch in text:
        if ch in _BIDI or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t"):
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def when(us: int | None) -> str:
    """An instant for people: `2026-01-31 09:00 UTC`."""
    if us is None:
        return ""
    text = format_us(us)
    return f"{text[:10]} {text[11:16]} UTC"


def minutes(seconds: float) -> str:
    """A latency for people: `13 min`, `2 h 5 min`, `3 d 4 h`."""
    total = round(seconds / 60)
    if total < 60:
        return f"{total} min"
    hours, mins = divmod(total, 60)
    if hours < 48:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


# -- a submission's status ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    name: str  # a state, used as the message id of its label
    reached: bool
    current: bool
    at: str = ""


def status_timeline(s: Submission, publications: Sequence[Publication]) -> tuple[Step, ...]:
    """received → converted → published/dismissed, marking how far the submission came. The same steps for
    every caller: whether other members reported the same attack (a campaign candidate) is never a step of a
    member's report.

    A rejected report stops after `received`; a dismissed one ends with `dismissed` in place of `published`.
    """
    last = "dismissed" if s.state == "dismissed" else "published"
    names = (*STEPS[:2], last)
    if s.state == "rejected":
        return (Step("received", True, False, when(s.received_at_us)), Step("rejected", True, True))
    order = {"received": 0, "converted": 1, "in-campaign": 1, "published": 2, "dismissed": 2}
    reached = order.get(s.state, 0)
    published_at = min((p.published_us or p.created_us for p in publications), default=None)
    steps = []
    for n, name in enumerate(names):
        at = when(s.received_at_us) if name == "received" else when(published_at) if name == "published" else ""
        steps.append(Step(name, n <= reached, n == reached, at))
    return tuple(steps)


# -- a mail thread --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThreadMessage:
    ref: str
    role: str
    role_label: str  # 偵察 / 返信 / 攻撃
    sent_at: str  # in UTC, like every time the console shows
    sender: str
    subject: str
    attachments: tuple[str, ...]
    after_reply_s: float | None  # an attack: seconds after the victim's latest reply before it
    since_previous_s: float | None


def _attachment_names(items: Iterable[Attachment]) -> Iterator[str]:
    for a in items:
        yield visible(a.name, 120) + (f" ({a.kind})" if a.kind else "")
        yield from (f"↳ {name}" for name in _attachment_names(a.members))


def thread(record: Record) -> tuple[ThreadMessage, ...]:
    """The messages in time order, each with its role and timing; an attack that follows a victim's reply
    carries the attacker's reply latency — in conversation-type attacks typically 11–15 minutes."""
    ordered = sorted(record.messages, key=lambda m: m.sent_at)
    out: list[ThreadMessage] = []
    last_reply: datetime | None = None
    previous: datetime | None = None
    for m in ordered:
        after_reply = (m.sent_at - last_reply).total_seconds() if m.role == "attack" and last_reply else None
        since = (m.sent_at - previous).total_seconds() if previous else None
        sender = visible(m.from_.address, 120) if m.from_ else "(no usable sender)"
        if m.from_ and m.from_.display_name:
            sender = f"{visible(m.from_.display_name, 60)} <{sender}>"
        out.append(ThreadMessage(
            ref=visible(m.ref or "", 20), role=m.role, role_label=ROLE_LABELS.get(m.role, m.role),
            sent_at=m.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), sender=sender,
            subject=visible(m.subject),
            attachments=tuple(_attachment_names(m.attachments)), after_reply_s=after_reply, since_previous_s=since,
        ))
        if m.role == "reply":
            last_reply = m.sent_at
        previous = m.sent_at
    return tuple(out)


def reply_latencies(records: Iterable[Record]) -> list[float]:
    """Every attacker-after-reply latency, in seconds, across the records."""
    return [m.after_reply_s for r in records for m in thread(r) if m.after_reply_s is not None]


def latency_range(latencies: Sequence[float]) -> str:
    """`11–15 min` (or one value) for a set of latencies; empty when there are none."""
    if not latencies:
        return ""
    low, high = minutes(min(latencies)), minutes(max(latencies))
    if low == high:
        return low
    if low.endswith(" min") and high.endswith(" min") and "h" not in low + high:
        return f"{low.removesuffix(' min')}–{high}"
    return f"{low} – {high}"


# -- campaign candidates --------------------------------------------------------------------------------------

def N_(message_id: str) -> str:
    """Marks a message id for extraction (`make translations`); the template translates it where shown."""
    return message_id


EVIDENCE_LABELS = {
    "sender-address": N_("sender address"), "file-hash": N_("file hash"), "c2-domain": N_("C2 domain"),
    "c2-ip": N_("C2 IP address"), "c2-url": N_("C2 URL"), "url": N_("URL in the mail"),
    "password+subject": N_("archive password and subject"), "display-name+subject": N_("display name and subject"),
}


EVIDENCE_STATES = {"used": N_("used"), "over-correlating": N_("over-correlating"), "excluded": N_("excluded")}


@dataclass(frozen=True)
class EvidenceRow:
    kind: str  # message id of its label
    value: str
    reports: int
    organisations: int
    groups: tuple[str, ...]
    first_seen: str
    last_seen: str
    span: str
    state: str = N_("used")  # or over-correlating / excluded: message ids of their labels
    code: str = ""  # the evidence kind and its state as correlation names them, and the whole value (the
    state_code: str = "used"  # forms that exclude a value send these back)
    whole_value: str = ""


def evidence_rows(c: Candidate, submissions: Sequence[Submission], groups: dict[str, str]) -> tuple[EvidenceRow, ...]:
    """What links the candidate's reports: per piece of evidence, how many reports, organisations and groups it
    links and over what time span."""
    by_id = {s.id: s for s in submissions}
    rows = []
    for e in c.evidence:
        linked = [by_id[sid] for sid in e.submissions if sid in by_id]
        orgs = sorted({s.org_id for s in linked})
        first = min((s.first_seen_us or s.received_at_us for s in linked), default=None)
        last = max((s.last_seen_us or s.first_seen_us or s.received_at_us for s in linked), default=None)
        rows.append(EvidenceRow(
            kind=EVIDENCE_LABELS.get(e.kind, e.kind), value=visible(e.value, 120), reports=len(linked),
            organisations=len(orgs), groups=tuple(sorted({groups.get(o, "unknown") for o in orgs})),
            first_seen=when(first), last_seen=when(last),
            span=minutes((last - first) / 1_000_000) if first is not None and last is not None else "",
            state=EVIDENCE_STATES.get(e.state, e.state), code=e.kind, state_code=e.state, whole_value=e.value,
        ))
    return tuple(sorted(rows, key=lambda r: (-r.organisations, -r.reports, r.kind, r.value)))


# -- collections and audiences --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Audience:
    kind: str  # "members", "org", "group", "role"
    value: str


def audience(c: CollectionDef) -> tuple[Audience, ...]:
    """Who receives what is published to a collection, from its `read` selectors (hub analysts always can)."""
    found = []
    for selector in c.read:
        if selector == "members":
            found.append(Audience("members", ""))
        else:
            kind, _, value = selector.partition(":")
            found.append(Audience(kind, value))
    return tuple(found)


def collection_label(c: CollectionDef) -> str:
    return f"{c.title} ({c.alias or c.id})"


def plain_errors(errors: Sequence[str]) -> tuple[str, ...]:
    """Conversion errors, shown as they are worded (they name the file and field) but made safe to display."""
    return tuple(visible(e, 600) for e in errors)
