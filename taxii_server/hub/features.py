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

from converters import Attachment, Record
from converters.anonymisation import victim_facts
from converters.options import DEFAULT_FREEMAIL_DOMAINS

Feature = tuple[str, str]

_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|tr)\s*(\[\d+\])?\s*[:：]|返信\s*[:：]|転送\s*[:：])\s*", re.IGNORECASE)
_PATTERN_VALUES = (
    ("file-hash", re.compile(r"file:hashes\.'?(SHA-256|SHA-1|MD5)'?\s*=\s*'([0-9A-Fa-f]+)'")),
    ("sender-address", re.compile(r"(?:email-addr:value|email-message:from_ref\.value)\s*=\s*'([^']+)'")),
    ("c2-domain", re.compile(r"domain-name:value\s*=\s*'([^']+)'")),
    ("c2-ip", re.compile(r"ipv[46]-addr:value\s*=\s*'([^']+)'")),
    ("url", re.compile(r"url:value\s*=\s*'([^']+)'")),
)


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
            for kind, pattern in _PATTERN_VALUES:
                for match in pattern.finditer(obj["pattern"]):
                    if kind == "file-hash":
                        name = match.group(1).lower().replace("-", "")
                        found.add((kind, f"{name}:{match.group(2).lower()}"))
                    else:
                        found.add((kind, match.group(1).lower() if kind != "url" else match.group(1)))
        elif obj.get("type") == "file" and isinstance(obj.get("hashes"), dict):
            for name, key in (("sha256", "SHA-256"), ("sha1", "SHA-1"), ("md5", "MD5")):
                if isinstance(obj["hashes"].get(key), str):
                    found.add(("file-hash", f"{name}:{obj['hashes'][key].lower()}"))
                    break
        elif obj.get("type") == "location" and isinstance(obj.get("country"), str):
            found.add(("c2-country", obj["country"].upper()))
    return found
