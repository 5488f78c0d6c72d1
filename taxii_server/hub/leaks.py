"""The leak check: the last gate before anything reaches a collection that other members read.

One check for every way in — a publication (`check`, with the facts of the reports behind it) and any other
write by the hub's side (`refusals`, with the facts of every stored report). It refuses an object when:
- any string in it (property values and property names, at any depth, in every decoded form — see
  `textforms`) contains a protected value (`sensitive`): a member's id, name, alias or mail domain, a
  recipient address, local part or display name, a member-side host name or address, a private network
  address, a member's Message-ID, a record id, the reporter's forwarding address;
- a reference (`*_ref`, `*_refs`, an extension-definition key) points at an object that is neither in the
  same write nor already in the target collection: a publication is self-contained (the one exception is
  the OASIS extension definition the canonical TLP 2.0 marking definitions name);
- a sighting counts reporting members of a sector group, or of all members, in a way that would single one
  out (`figures.publishable`);
- for a whole publication, the converters' audit finds something (TLP 2.0 markings from the allow-list, no
  member identities, no victim email objects).
A finding names the object, the property and the KIND of value, never the value: findings are shown to
analysts, stored in the audit trail and logged.

The facts of every stored report (`every_report`, what `refusals` protects) are kept incrementally: each run
reads only the reports stored since the last one, by their position in the store's arrival order
(`submissions_arrived_after`), and adds their facts. A report's facts are read once, when it has arrived; a
member's STIX bundle rejected later stays protected (the check errs towards refusing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from converters import ConversionOptions, audit_bundle, load_records
from converters.ids import KeyedIds
from converters.markings import TLP2_EXTENSION_ID
from converters.sectors import SECTOR_GROUPS, UNSPECIFIED

from ..model import Submission
from ..storage.base import WorkflowStore
from . import figures, sensitive
from .sensitive import Sensitive
from .textforms import Haystack, Needle

_ARRIVALS_PAGE = 500
_NOT_TEXT = frozenset({"id", "type", "spec_version", "created", "modified", "pattern_version"})
# Defined by OASIS for the canonical TLP 2.0 marking definitions, which name it; no collection holds it.
WELL_KNOWN = frozenset({TLP2_EXTENSION_ID})


@dataclass(frozen=True)
class Finding:
    object_id: str
    property: str
    kind: str

    def __str__(self) -> str:
        return f"{self.object_id}: {self.property}: {self.kind}"


def scan(objects: Sequence[Mapping[str, Any]], needles: Sequence[tuple[Needle, str]],
         resolves: Callable[[str], bool] = lambda ref: False) -> list[Finding]:
    """Protected values, private addresses and unresolved references in `objects` (pure)."""
    present = {str(o.get("id")) for o in objects}
    found: list[Finding] = []
    for obj in objects:
        object_id = str(obj.get("id"))
        entries = [(parts, is_key, Haystack(text)) for parts, text, is_key in _strings(obj)]
        joined = "\x00".join(h.text for _, _, h in entries)
        hits: list[list[str]] = [[] for _ in entries]
        for needle, kind in needles:
            if needle.squashed in joined:
                for n, (_, _, h) in enumerate(entries):
                    if h.contains(needle):
                        hits[n].append(kind)
        for n, (_, _, h) in enumerate(entries):
            if any(sensitive.private_addresses(form) for form in h.forms):
                hits[n].append(sensitive.PRIVATE_ADDRESS)
        # a property name that holds a protected value is never repeated in a finding
        unsafe = {parts[-1] for (parts, is_key, _), kinds in zip(entries, hits, strict=True) if is_key and kinds}
        for (parts, is_key, _), kinds in zip(entries, hits, strict=True):
            where = _path(parts, unsafe) + (" (name)" if is_key else "")
            found.extend(Finding(object_id, where, f"contains {kind}") for kind in kinds)
        for parts, ref in _references(obj):
            if ref not in present and ref not in WELL_KNOWN and not resolves(ref):
                found.append(Finding(object_id, _path(parts, unsafe),
                                     "refers to an object the collection does not hold"))
    return sorted(set(found), key=lambda f: (f.object_id, f.property, f.kind))


def _path(parts: tuple[str, ...], unsafe: set[str]) -> str:
    out = ""
    for part in parts:
        if part.startswith("["):
            out += part
        else:
            shown = "<a property name>" if part in unsafe else part
            out += f".{shown}" if out else shown
    return out


def _strings(value: Any, parts: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, bool]]:
    """(path, text, is a property name) for every string and every property name in `value`."""
    if isinstance(value, str):
        yield parts, value, False
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            where = (*parts, key)
            if not key.startswith("extension-definition--"):
                yield where, key, True
            if (not parts and key in _NOT_TEXT) or key.endswith(("_ref", "_refs")):
                continue
            yield from _strings(item, where)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, (*parts, f"[{n}]"))


def _references(value: Any, parts: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            where = (*parts, key)
            if key.startswith("extension-definition--"):
                yield where, key
            if key.endswith("_ref") and isinstance(item, str):
                yield where, item
            elif key.endswith("_refs") and isinstance(item, list):
                yield from (((*where, f"[{n}]"), r) for n, r in enumerate(item) if isinstance(r, str))
            else:
                yield from _references(item, where)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _references(item, (*parts, f"[{n}]"))


class LeakCheck:
    """The check with the hub's knowledge: the organisation register and the stored reports."""

    def __init__(self, store: WorkflowStore, options: Callable[[], ConversionOptions], min_group_size: int = 4,
                 min_group_count: int = 2) -> None:
        self.store = store
        self.options = options
        self.rule = figures.Rule(min_group_size, min_group_count)
        self._lock = threading.Lock()
        self._read_up_to = 0  # the arrival position of the last report whose facts are in _every_report
        self._every_report: frozenset[Sensitive] = frozenset()

    # -- what is protected ---------------------------------------------------------------------------------

    def register(self) -> set[Sensitive]:
        return sensitive.from_register(self.store.list_organisations())

    def reports(self, submissions: Iterable[Submission]) -> set[Sensitive]:
        """The facts of these reports: incident records, or a member's STIX bundle."""
        freemail = self.options().freemail_domains
        found: set[Sensitive] = set()
        for s in submissions:
            found.add(Sensitive(s.id, sensitive.RECORD_ID))
            content = self.store.get_submission_content(s.id)
            if content is None:
                continue
            if content.records not in (b"", b"[]"):
                for record in load_records(content.records, s.id):
                    found |= sensitive.from_record(record, freemail)
            elif s.media_type == "application/stix+json" and s.state != "rejected":
                found |= sensitive.from_stix(_objects(content.raw), freemail)
        return found

    def every_report(self) -> frozenset[Sensitive]:
        """The facts of every stored report: those known at the last run, plus those of the reports stored since.
        Concurrent runs may read the same new reports; their facts are added to the same set either way."""
        with self._lock:
            position, known = self._read_up_to, self._every_report
        arrived: list[Submission] = []
        while True:
            page = self.store.submissions_arrived_after(position, _ARRIVALS_PAGE)
            arrived += [s for _, s in page]
            if page:
                position = page[-1][0]
            if len(page) < _ARRIVALS_PAGE:
                break
        if not arrived:
            return known
        found = self.reports(arrived)
        with self._lock:
            self._every_report = self._every_report | found
            self._read_up_to = max(self._read_up_to, position)
            return self._every_report

    # -- checking ------------------------------------------------------------------------------------------

    def check(self, objects: Sequence[Mapping[str, Any]], protected: Iterable[Sensitive],
              resolves: Callable[[str], bool] = lambda ref: False) -> list[Finding]:
        found = scan(objects, sensitive.needles(protected), resolves)
        found += self._figures(objects)
        return found

    def check_publication(self, bundle: Mapping[str, Any], protected: Iterable[Sensitive]) -> list[str]:
        """Everything wrong with a publication bundle, as the lines an analyst reads."""
        objects = [o for o in bundle.get("objects", ()) if isinstance(o, Mapping)]
        found = [str(f) for f in self.check(objects, protected)]
        return found + [str(f) for f in audit_bundle(bundle)]

    def refusals(self, objects: Sequence[Mapping[str, Any]], resolves: Callable[[str], bool]) -> dict[str, str]:
        """For any other write into a collection members read: object id -> why it is refused."""
        protected = self.register() | self.every_report()
        out: dict[str, list[str]] = {}
        for f in self.check(objects, protected, resolves):
            out.setdefault(f.object_id, []).append(f"{f.property}: {f.kind}")
        return {oid: "leak check: " + "; ".join(reasons) for oid, reasons in out.items()}

    def group_sizes(self) -> dict[str, int]:
        """Member organisations per sector group, from the register."""
        sizes: dict[str, int] = {}
        for org in self.store.list_organisations():
            if org.roles == ("member",) or set(org.roles) == {"member"}:
                sizes[org.group] = sizes.get(org.group, 0) + 1
        return sizes

    def _figures(self, objects: Sequence[Mapping[str, Any]]) -> list[Finding]:
        """Sightings that count members: each count must be publishable for the group it names."""
        sizes = self.group_sizes()
        ids = KeyedIds(self.options().id_key)
        by_identity = {ids.sdo_id("identity", {"sector": g.key}): g.key for g in SECTOR_GROUPS.values()}
        every = sum(sizes.values())
        found: list[Finding] = []
        for obj in objects:
            if obj.get("type") != "sighting":
                continue
            for ref in obj.get("where_sighted_refs") or ():
                group = by_identity.get(str(ref))
                if group is None:
                    continue
                size = every if group == UNSPECIFIED.key else sizes.get(group, 0)
                count = obj.get("count")
                if not isinstance(count, int) or not self.rule.publishable(count, size):
                    found.append(Finding(str(obj.get("id")), "count", (
                        "a count of reporting members that could single one out (publishable only when "
                        f"{self.rule.describe()})")))
        return found


def _objects(body: bytes) -> list[dict[str, Any]]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    objects = doc.get("objects") if isinstance(doc, dict) else None
    return [o for o in objects if isinstance(o, dict)] if isinstance(objects, list) else []
