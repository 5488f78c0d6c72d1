"""The flat feed formats: one block-list per kind (`<kind>.txt`), `indicators.csv` and `bundle.json`.

Each writer reads the current objects of one scope (current.py) and writes its format to a binary stream as it
goes, so nothing the size of the collection is held in memory except what a format must look up (the CSV's
campaign names and first-added times, the lists' seen values to write each once).
Must not: know HTTP, or decide access (the scope it gets is already the caller's).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from typing import IO, Any

from .. import tlp
from ..model import ObjectScope
from ..timestamps import format_us
from .current import ObjectReader, latest, state, window
from .values import Kind, list_line, simple_values

# Whether a value must never appear in a feed (the hub's allow-list, known-benign warning lists).
Excluded = Callable[[str, str], bool]

CSV_COLUMNS = ("value", "type", "confidence", "valid_from", "valid_until", "indicator_types", "labels", "campaign",
               "tlp", "stix_id", "first_added", "last_added", "state")


def write_list(out: IO[bytes], store: ObjectReader, scope: ObjectScope, kind: Kind, dialect: str, wildcard: bool,
               now_us: int, excluded: Excluded) -> int:
    """One value per line, each once, LF-terminated, no comments; how many lines were written."""
    seen: set[str] = set()
    for c in latest(store, scope, ("indicator",)):
        values = simple_values(str(c.obj.get("pattern", "")), kind)
        if not values or state(c.obj, now_us) != "active":
            continue
        for v in values:
            if v.value in seen or excluded(v.kind, v.value):
                continue
            seen.add(v.value)
            out.write(list_line(v.value, kind, dialect).encode() + b"\n")
            if wildcard and kind == "domain":
                out.write(b"*." + v.value.encode() + b"\n")
    return len(seen)


def _campaign_names(store: ObjectReader, scope: ObjectScope) -> dict[str, list[str]]:
    names = {c.obj["id"]: str(c.obj.get("name", "")) for c in latest(store, scope, ("campaign",))
             if c.obj.get("revoked") is not True and isinstance(c.obj.get("id"), str)}
    by_indicator: dict[str, list[str]] = {}
    for c in latest(store, scope, ("relationship",)):
        r = c.obj
        if r.get("revoked") is True or r.get("relationship_type") != "indicates":
            continue
        name = names.get(str(r.get("target_ref")))
        if name is not None:
            by_indicator.setdefault(str(r.get("source_ref")), []).append(name)
    return by_indicator


def write_csv(out: IO[bytes], store: ObjectReader, scope: ObjectScope, now_us: int, excluded: Excluded,
              since_us: int | None = None) -> int:
    """RFC 4180 (CRLF, quoted where needed), UTF-8, one header row. In full, the active indicators' values;
    with `since_us`, every indicator changed after it or expired since, with its state (active, revoked,
    expired, pending) so that an incremental reader can also remove what it holds."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")  # buffered: written out in blocks
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    campaigns = _campaign_names(store, scope)
    first_added = {c.obj.get("id"): c.stored.date_added_us for c in latest(store, scope, ("indicator",), first=True)}
    rows = 0
    for c in latest(store, scope, ("indicator",)):
        obj = c.obj
        current = state(obj, now_us)
        if since_us is None and current != "active":
            continue
        if since_us is not None and c.stored.date_added_us <= since_us and not _expired_since(obj, current, since_us):
            continue
        last_added = format_us(c.stored.date_added_us)
        for v in simple_values(str(obj.get("pattern", ""))):
            if excluded(v.kind, v.value):
                continue
            writer.writerow((
                v.value, v.kind, _text(obj.get("confidence")), _text(obj.get("valid_from")),
                _text(obj.get("valid_until")), _joined(obj.get("indicator_types")), _joined(obj.get("labels")),
                ";".join(campaigns.get(str(obj.get("id")), [])), tlp.highest_level(obj) or "", _text(obj.get("id")),
                _first_added(first_added.get(obj.get("id")), c.stored.date_added_us, last_added), last_added,
                current,
            ))
            rows += 1
    text.flush()
    text.detach()
    return rows


def _first_added(first_us: int | None, last_us: int, last_text: str) -> str:
    return last_text if first_us is None or first_us == last_us else format_us(first_us)


def _expired_since(obj: dict[str, Any], current: str, since_us: int) -> bool:
    return current == "expired" and (window(obj)[1] or 0) > since_us


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _joined(value: object) -> str:
    return ";".join(str(v) for v in value) if isinstance(value, list) else ""


def write_bundle(out: IO[bytes], store: ObjectReader, scope: ObjectScope, now_us: int, bundle_key: str) -> int:
    """The current objects as one STIX 2.1 bundle: the latest version of each, without revoked objects and
    without indicators outside their validity; stored bytes are copied, not re-serialised."""
    bundle_id = uuid.uuid5(uuid.NAMESPACE_URL, "taxii-hub:feed-bundle:" + bundle_key)
    out.write(b'{"type":"bundle","id":"bundle--' + str(bundle_id).encode() + b'","objects":[')
    count = 0
    for c in latest(store, scope):
        if state(c.obj, now_us) != "active":
            continue
        out.write((b"," if count else b"") + c.stored.raw)
        count += 1
    out.write(b"]}")
    return count
