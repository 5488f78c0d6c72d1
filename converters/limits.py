"""Limits against hostile mail (security.md §2.3) and oversized incident records, checked before and while
parsing, before schema validation and conversion.

Every limit has a name; a mail that exceeds one is refused with `EmlLimitExceeded(source, <name>, …)`, before
the expensive step it protects (the quadratic encoded-word decoder, the recursive MIME parser, decompression).
Archive limits do not refuse the mail: the archive keeps its own hashes and loses only its member list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from converters.strict_json import DEFAULT_JSON_LIMITS, Cap, Caps, JsonLimits, path_text


@dataclass(frozen=True)
class EmlLimits:
    max_raw_bytes: int = 32 * 1024 * 1024
    max_header_block_bytes: int = 256 * 1024  # all headers of the message or of one part
    max_header_bytes: int = 64 * 1024  # one header, unfolded
    max_encoded_words: int = 400  # RFC 2047 words in one header (decoding cost grows with them)
    max_mime_depth: int = 30
    max_parts: int = 1000
    max_archive_entries: int = 1000
    max_archive_bytes: int = 256 * 1024 * 1024  # sum of the declared uncompressed sizes
    max_archive_ratio: int = 200  # declared uncompressed size / compressed size, per entry
    max_archive_depth: int = 2  # archives inside archives that are listed


DEFAULT_LIMITS = EmlLimits()


# Which incident-record list a field name holds, and the RecordLimits field that caps it per list.
_LIST_LIMITS = {
    "messages": "max_messages", "urls": "max_urls", "to": "max_recipients", "cc": "max_recipients",
    "attachments": "max_attachments", "members": "max_attachments", "received": "max_received", "c2": "max_c2",
}
_TEXT_FIELDS = frozenset({"body", "description"})


@dataclass(frozen=True)
class RecordLimits:
    """Budgets of one report, checked on the decoded JSON (or the parsed mail) before schema validation.

    Every cap is a `[limits]` setting of the hub of the same name; a report over one is refused with the field
    and the limit named, never with the offending content.
    """

    json: JsonLimits = field(default_factory=lambda: DEFAULT_JSON_LIMITS)
    max_records: int = 1000  # records in one file or request
    max_messages: int = 100  # messages in one record's thread
    max_recipients: int = 500  # to + cc of one message
    max_attachments: int = 100  # attachments of one message (and members of one archive)
    max_urls: int = 500  # URLs of one message
    max_received: int = 100  # Received headers of one message
    max_c2: int = 100  # C2 endpoints of one attachment
    max_list_items: int = 200  # any other list in a record
    max_text_chars: int = 512 * 1024  # a message body or a description
    max_field_chars: int = 16 * 1024  # any other string (subject, names, addresses, header values)

    @functools.cached_property
    def caps(self) -> Caps:
        """These budgets as the JSON reader checks them while reading a record file (strict_json.Caps)."""
        return Caps(
            arrays={name: Cap(getattr(self, which), which) for name, which in _LIST_LIMITS.items()},
            array=Cap(self.max_list_items, "max_list_items"),
            root_array=Cap(self.max_records, "max_records"),
            strings={name: Cap(self.max_text_chars, "max_text_chars") for name in _TEXT_FIELDS},
            string=Cap(self.max_field_chars, "max_field_chars"),
            members=Cap(self.max_list_items, "max_list_items"),
            shared=frozenset({"to", "cc"}),
            shared_cap=Cap(self.max_recipients, "max_recipients"),
            shared_what="recipients in to and cc",
        )


DEFAULT_RECORD_LIMITS = RecordLimits()


def record_budget_problem(document: Any, limits: RecordLimits) -> tuple[str, str, str] | None:
    """The first budget one decoded record exceeds, as (JSON path, message, limit name), or None. Iterative and linear,
    and stops at the first list over its cap, so a 600,000-recipient record costs one `len()`."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        item, path = stack.pop()
        name = next((p for p in reversed(path) if isinstance(p, str)), "")
        if isinstance(item, str):
            cap, which = ((limits.max_text_chars, "max_text_chars") if path and path[-1] in _TEXT_FIELDS
                          else (limits.max_field_chars, "max_field_chars"))
            if len(item) > cap:
                return path_text(path), f"{len(item)} characters (limit {cap}, {which})", which
        elif isinstance(item, list):
            which = _LIST_LIMITS.get(name, "max_list_items")
            cap = getattr(limits, which)
            if len(item) > cap:
                return path_text(path), f"{len(item)} items (limit {cap}, {which})", which
            stack.extend((child, (*path, n)) for n, child in enumerate(item))
        elif isinstance(item, dict):
            recipients = sum(len(item[k]) for k in ("to", "cc") if isinstance(item.get(k), list))
            if recipients > limits.max_recipients:
                return (path_text(path), f"{recipients} recipients in to and cc (limit {limits.max_recipients}, "
                        "max_recipients)", "max_recipients")
            if len(item) > limits.max_list_items:
                return (path_text(path), f"{len(item)} members (limit {limits.max_list_items}, max_list_items)",
                        "max_list_items")
            stack.extend((child, (*path, key)) for key, child in item.items())
    return None
