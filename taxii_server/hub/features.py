"""The facts of a report that correlation and statistics use, as (kind, value) pairs.

Evidence kinds link reports (see `correlation.EVIDENCE_KINDS`); the others only feed statistics or filter
evidence (`victim-domain` marks a member's own mail domain, so a "sender" there is a legitimate or spoofed
member address and never evidence). Subjects are compared as templates: reply prefixes stripped, NFKC,
whitespace folded, so "Re: 技術資料送付の件" and "技術資料送付の件" match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from converters import Attachment, Record, patterns
from converters.anonymisation import victim_facts
from converters.options import DEFAULT_FREEMAIL_DOMAINS

Feature = tuple[str, str]

_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|tr)\s*(\[\d+\])?\s*[:：]|返信\s*[:：]|転送\s*[:：])\s*", re.IGNORECASE)
# (object type, dotted path) of the `=` comparisons whose values are facts of the attack
_PATTERN_KINDS = {
    ("email-addr", "value"): "sender-address",
    ("email-message", "from_ref.value"): "sender-address",
    ("domain-name", "value"): "c2-domain",
    ("ipv4-addr", "value"): "c2-ip",
    ("ipv6-addr", "value"): "c2-ip",
    ("url", "value"): "url",
}
_PATTERN_HASHES = {"SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}
_HEX = re.compile(r"[0-9A-Fa-f]+")


def subject_template(subject: str | None) -> str:
    text = unicodedata.normalize("NFKC", subject or "")
    while True:
        stripped = _REPLY_PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return " ".join(text.split()).lower()


def _file_hash(a: Attachment) -> str | None:
    for name, value in (("sha256", a.sha256), ("sha1", a.sha1), ("md5", a.md5)):
        if value:
            return f"{name}:{value.lower()}"
    return None


def _attachments(items: Iterable[Attachment]) -> Iterator[Attachment]:
    for a in items:
        yield a
        yield from _attachments(a.members)


def from_record(record: Record, freemail: frozenset[str] = DEFAULT_FREEMAIL_DOMAINS) -> set[Feature]:
    found: set[Feature] = {("victim-domain", d) for d in victim_facts(record).domains}
    for message in record.messages:
        if message.role == "reply":
            continue
        template = subject_template(message.subject)
        if message.from_ is not None:
            sender = message.from_.address.strip().lower()
            found.add(("sender-address", sender))
            found.add(("sender-freemail", "yes" if sender.rsplit("@", 1)[-1] in freemail else "no"))
        if message.from_ is not None and message.from_.display_name and template:
            found.add(("display-name+subject", f"{message.from_.display_name.strip()}|{template}"))
        found.update(("url", u) for u in message.urls)
        for a in _attachments(message.attachments):
            digest = _file_hash(a)
            if digest:
                found.add(("file-hash", digest))
            found.add(("attachment-kind", a.kind or "other"))
            if a.password and template:
                found.add(("password+subject", f"{a.password}|{template}"))
            for c2 in a.c2:
                if c2.domain:
                    found.add(("c2-domain", c2.domain.lower()))
                for ip in (c2.ipv4, c2.ipv6):
                    if ip:
                        found.add(("c2-ip", ip))
                if c2.url:
                    found.add(("c2-url", c2.url))
                if c2.country:
                    found.add(("c2-country", c2.country.upper()))
    return found


def from_stix(objects: Iterable[dict[str, Any]]) -> set[Feature]:
    """What a STIX submission says about the attack: the values its indicators and file objects carry."""
    found: set[Feature] = set()
    for obj in objects:
        if obj.get("type") == "indicator" and isinstance(obj.get("pattern"), str):
            found |= _pattern_features(obj["pattern"])
        elif obj.get("type") == "file" and isinstance(obj.get("hashes"), dict):
            for name, key in (("sha256", "SHA-256"), ("sha1", "SHA-1"), ("md5", "MD5")):
                if isinstance(obj["hashes"].get(key), str):
                    found.add(("file-hash", f"{name}:{obj['hashes'][key].lower()}"))
                    break
        elif obj.get("type") == "location" and isinstance(obj.get("country"), str):
            found.add(("c2-country", obj["country"].upper()))
    return found


def _pattern_features(pattern: str) -> set[Feature]:
    """The values of a pattern's `=` comparisons on the paths above, read whole by stix2-patterns' inspector
    (escaped quotes and backslashes included), in every observation of a compound pattern too."""
    inspection = patterns.inspect(pattern)
    found: set[Feature] = set()
    for comparison in inspection.comparisons if inspection else ():
        value = comparison.value
        if comparison.operator != "=" or value is None:
            continue
        path = comparison.dotted
        if comparison.object_type == "file" and path.startswith("hashes."):
            name = _PATTERN_HASHES.get(path.removeprefix("hashes."))
            if name and _HEX.fullmatch(value):
                found.add(("file-hash", f"{name}:{value.lower()}"))
            continue
        kind = _PATTERN_KINDS.get((comparison.object_type, path))
        if kind:
            found.add((kind, value if kind == "url" else value.lower()))
    return found
