"""The published bundle: vetted, anonymised intelligence built from the hub-internal drafts of reports.

From the drafts it keeps what describes the attacker — indicators, malware, attack patterns, C2
infrastructure with its observables and locations, and the relationships among them — and drops what
describes the victims or the reports (email messages, observed data, files and archive passwords, the
thread grouping, per-report sightings and sector identities). It adds a campaign (for a campaign candidate),
`indicates`/`uses`/`targets`/`compromises` relationships, summary sightings that count reporting members only
where no member can be singled out (`figures`), and a report that references everything. Objects are
regenerated (`regeneration`), never passed on verbatim; references to objects the publication does not
carry are dropped; objects revoked where the hub published them come back only under new ids. The hub
identity creates everything; every object carries the publication's TLP 2.0 marking; indicators get
`valid_until` from the configured policy. ATT&CK patterns, the hub identity and the
sector identities are long-lived hub objects and are published unchanged.

Pure and deterministic: the same drafts and spec give the same bundle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from converters import ConversionOptions
from converters import markings as tlp_markings
from converters.graph import text_lang
from converters.ids import KeyedIds
from converters.record import format_time
from converters.sectors import SECTOR_GROUPS, UNSPECIFIED, SectorGroup

from . import figures, regeneration

KEPT_TYPES = frozenset({
    "indicator", "malware", "attack-pattern", "infrastructure", "location", "domain-name", "ipv4-addr",
    "ipv6-addr", "url", "relationship",
})
LONG_LIVED = frozenset({"attack-pattern"})
SCO_TYPES = frozenset({"domain-name", "ipv4-addr", "ipv6-addr", "url"})
DROPPED_RELATIONSHIPS = frozenset({"targets", "based-on", "related-to", "derived-from", "duplicate-of"})


@dataclass(frozen=True)
class PublicationSpec:
    publication_id: str
    name: str
    description: str
    tlp: str
    published_at: datetime
    campaign: bool
    reporter_groups: Mapping[str, str]  # reporting organisation -> its sector group (never published)
    first_seen: datetime
    last_seen: datetime
    min_group_count: int
    valid_days: Mapping[str, int]  # ip, compromised-site, domain, url, email
    # members per sector group in the register: a group's figure must not single out a member (figures.py)
    group_sizes: Mapping[str, int] = field(default_factory=dict)
    min_group_size: int = 4
    # positions (in the drafts) of drafts a member submitted as STIX: their objects lose their free text
    member_drafts: frozenset[int] = frozenset()
    # ids revoked where the hub published them: revocation is final, so these are published as new objects
    reissue: frozenset[str] = frozenset()
    # `created` of objects the target collections already hold: versions of one object keep their `created`.
    # Anything else is created now, so no report's own times are revealed.
    known_created: Mapping[str, str] = field(default_factory=dict)


def hub_identity_ids(options: ConversionOptions) -> frozenset[str]:
    """The ids of the identities only the hub may write: its own and the anonymised sector identities (as
    publications and as the converters name them)."""
    ids = KeyedIds(options.id_key)
    return frozenset({ids.sdo_id("identity", {"hub": options.hub_identity_name}),
                      *(ids.sdo_id("identity", {"sector": key}) for key in SECTOR_GROUPS),
                      *(ids.sdo_id("identity", {"sector-group": key}) for key in SECTOR_GROUPS)})


def build(drafts: Sequence[Mapping[str, Any]], spec: PublicationSpec, options: ConversionOptions) -> dict[str, Any]:
    return _Builder(spec, options).run(drafts)


class _Builder:
    def __init__(self, spec: PublicationSpec, options: ConversionOptions) -> None:
        self.spec = spec
        self.options = options
        self.ids = KeyedIds(options.id_key)
        self.hub_id = self.ids.sdo_id("identity", {"hub": options.hub_identity_name})
        self.now = format_time(spec.published_at)
        self.marking = tlp_markings.refs(spec.tlp)
        self.objects: dict[str, dict[str, Any]] = {}
        self.member_supplied: set[str] = set()

    def run(self, drafts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        kept = self._kept(drafts)
        hub = next((o for d in drafts for o in d.get("objects", ()) if o.get("id") == self.hub_id), None)
        self.objects[self.hub_id] = dict(hub) if hub is not None else self._hub_identity()
        for obj in kept.values():
            regenerated = self._republish(obj)
            if regenerated is not None:
                self.objects[obj["id"]] = regenerated
        self._self_contained()
        campaign_id = self._campaign() if self.spec.campaign else None
        if campaign_id:
            self._campaign_relationships(campaign_id)
            self._sightings(campaign_id)
        self._report(campaign_id)
        self._reissue()
        used = {ref for o in self.objects.values() for ref in o.get("object_marking_refs", ())}
        markings = [tlp_markings.marking_definition(level) for level, mid in tlp_markings.TLP2_IDS.items()
                    if mid in used]
        body = sorted(self.objects.values(), key=lambda o: (o["type"], o["id"]))
        bundle_id = self.ids.sdo_id("bundle", {"publication": self.spec.publication_id})
        return {"type": "bundle", "id": bundle_id, "objects": [*markings, *body]}

    # -- selection -----------------------------------------------------------------------------------------

    def _kept(self, drafts: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Objects of the kept types; a relationship only when both its ends are kept. Where several reports
        hold the same id, the earliest-created copy wins (ties broken by content), so the choice is stable."""
        chosen: dict[str, dict[str, Any]] = {}
        for position, draft in enumerate(drafts):
            for obj in draft.get("objects", ()):
                if obj.get("type") not in KEPT_TYPES:
                    continue
                current = chosen.get(obj["id"])
                if current is None or _order(obj) < _order(current):
                    chosen[obj["id"]] = dict(obj)
                    if position in self.spec.member_drafts:
                        self.member_supplied.add(obj["id"])
                    else:
                        self.member_supplied.discard(obj["id"])
        chosen = self._computed_sco_ids(chosen)
        kept = {i: o for i, o in chosen.items() if o["type"] != "relationship"}
        referenced = {
            ref
            for o in chosen.values()
            if o["type"] == "relationship" and o["relationship_type"] not in DROPPED_RELATIONSHIPS
            for ref in (o["source_ref"], o["target_ref"])
        }
        kept = {i: o for i, o in kept.items() if o["type"] not in SCO_TYPES or i in referenced}
        for i, o in chosen.items():
            if (o["type"] == "relationship" and o["relationship_type"] not in DROPPED_RELATIONSHIPS
                    and o["source_ref"] in kept and o["target_ref"] in kept):
                kept[i] = o
        return kept

    def _computed_sco_ids(self, chosen: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Observables under the id STIX computes from their value, with every reference following."""
        moved = regeneration.new_ids(chosen)
        if not moved:
            return chosen
        out: dict[str, dict[str, Any]] = {}
        for oid, obj in chosen.items():
            obj = _rename(obj, moved)
            out[obj["id"]] = obj
            if oid in self.member_supplied:
                self.member_supplied.add(obj["id"])
        return out

    def _republish(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        member = obj["id"] in self.member_supplied
        if obj["type"] in LONG_LIVED and not member:
            return obj
        regenerated = regeneration.regenerate(obj, member)
        if regenerated is None:
            return None
        out = regenerated
        out["object_marking_refs"] = list(self.marking)
        if obj["type"] in SCO_TYPES:
            return out
        out["created_by_ref"] = self.hub_id
        out["created"] = self.spec.known_created.get(obj["id"], self.now)
        out["modified"] = self.now
        if obj["type"] == "indicator":
            self._validity(out)
        return out

    def _validity(self, indicator: dict[str, Any]) -> None:
        pattern = indicator.get("pattern", "")
        category = None
        if "compromised" in indicator.get("indicator_types", ()):
            category = "compromised-site"
        elif pattern.startswith(("[ipv4-addr:", "[ipv6-addr:")):
            category = "ip"
        elif pattern.startswith("[domain-name:"):
            category = "domain"
        elif pattern.startswith("[url:"):
            category = "url"
        elif pattern.startswith("[email-"):
            category = "email"
        days = self.spec.valid_days.get(category or "", 0)
        if days <= 0:
            indicator.pop("valid_until", None)
            return
        until = format_time(self.spec.published_at + timedelta(days=days))
        if until > indicator.get("valid_from", ""):
            indicator["valid_until"] = until
        else:
            indicator.pop("valid_until", None)

    def _hub_identity(self) -> dict[str, Any]:
        """The hub identity, for drafts that do not carry it (STIX submissions): the same object the
        converters put into every record's draft, so a feed never holds two different copies of it."""
        epoch = self.options.hub_epoch
        return {
            "type": "identity", "spec_version": "2.1", "id": self.hub_id, "created": epoch, "modified": epoch,
            "name": self.options.hub_identity_name, "identity_class": "organization",
            "description": ("Information-sharing hub: receives targeted-email reports from member organisations, "
                            "anonymises the reporters and publishes vetted STIX."),
            "lang": text_lang(self.options.hub_identity_name),
            "object_marking_refs": tlp_markings.refs("clear"),
        }

    # -- what the publication adds -------------------------------------------------------------------------

    def _sdo(self, otype: str, key: Mapping[str, Any], **props: Any) -> str:
        oid = self.ids.sdo_id(otype, {"publication": self.spec.publication_id, **key})
        self.objects[oid] = {
            "type": otype, "spec_version": "2.1", "id": oid, "created": self.now, "modified": self.now,
            "created_by_ref": self.hub_id, **props, "object_marking_refs": list(self.marking),
        }
        return oid

    def _relate(self, source: str, rtype: str, target: str) -> None:
        self._sdo("relationship", {"s": source, "r": rtype, "t": target},
                  relationship_type=rtype, source_ref=source, target_ref=target)

    def _campaign(self) -> str:
        return self._sdo(
            "campaign", {}, name=self.spec.name, description=self.spec.description or self.spec.name,
            first_seen=format_time(self.spec.first_seen), last_seen=format_time(self.spec.last_seen),
        )

    def _campaign_relationships(self, campaign_id: str) -> None:
        for obj in sorted(self.objects.values(), key=lambda o: o["id"]):
            kind = obj["type"]
            if kind == "indicator":
                self._relate(obj["id"], "indicates", campaign_id)
            elif kind in ("attack-pattern", "malware"):
                self._relate(campaign_id, "uses", obj["id"])
            elif kind == "infrastructure":
                compromised = "compromised" in " ".join(obj.get("infrastructure_types", ()))
                self._relate(campaign_id, "compromises" if compromised else "uses", obj["id"])

    def _groups(self) -> list[tuple[SectorGroup, int]]:
        """Reporting members per sector group, only where the figure cannot single a member out (see
        figures.py); small groups are pooled as 'member organisations'; a figure that fails is omitted."""
        per_group: dict[str, set[str]] = defaultdict(set)
        for org, group in self.spec.reporter_groups.items():
            per_group[_sector_key(group)].add(org)
        sizes: dict[str, int] = defaultdict(int)
        for group, size in self.spec.group_sizes.items():
            sizes[_sector_key(group)] += size
        rule = figures.Rule(self.spec.min_group_size, self.spec.min_group_count)
        found = figures.figures({g: len(o) for g, o in per_group.items()}, sizes, rule)
        shown = [(SECTOR_GROUPS[group], count) for group, count in found.groups]
        if found.pool is not None:
            shown.append((UNSPECIFIED, found.pool))
        return shown

    def _sector_identity(self, sector: SectorGroup) -> str:
        oid = self.ids.sdo_id("identity", {"sector": sector.key})
        epoch = self.options.hub_epoch
        identity: dict[str, Any] = {
            "type": "identity", "spec_version": "2.1", "id": oid, "created": epoch, "modified": epoch,
            "created_by_ref": self.hub_id, "identity_class": "class",
            "name": f"Anonymised member organisations ({sector.label})" if sector.sectors
            else "Anonymised member organisations",
            "object_marking_refs": tlp_markings.refs("clear"),
        }
        if sector.sectors:
            identity["sectors"] = list(sector.sectors)
        self.objects[oid] = identity
        return oid

    def _sightings(self, campaign_id: str) -> None:
        for sector, count in self._groups():
            identity = self._sector_identity(sector)
            self._relate(campaign_id, "targets", identity)
            self._sdo(
                "sighting", {"where": identity}, sighting_of_ref=campaign_id, where_sighted_refs=[identity],
                count=count, summary=True, first_seen=format_time(self.spec.first_seen),
                last_seen=format_time(self.spec.last_seen),
                description=f"Reported to the hub by {count} member organisation{'s' if count != 1 else ''}",
            )

    def _self_contained(self) -> None:
        """Every reference resolves inside the publication: optional references to objects that are not
        published (a malware's `sample_refs` to a file) are dropped, relationships to them too."""
        for oid, obj in list(self.objects.items()):
            if obj["type"] == "relationship":
                if obj["source_ref"] not in self.objects or obj["target_ref"] not in self.objects:
                    del self.objects[oid]
                continue
            for key in [k for k in obj if k.endswith("_refs") and k != "object_marking_refs"]:
                kept = [r for r in obj[key] if r in self.objects]
                if kept:
                    obj[key] = kept
                else:
                    del obj[key]

    def _reissue(self) -> None:
        """Objects revoked where the hub published them come back only as new objects: new ids (keyed by the
        publication), new `created`, and every relationship and reference touching them follows."""
        if not self.spec.reissue:
            return
        moved = {oid: self.ids.sdo_id(oid.split("--", 1)[0], {"reissued": oid,
                                                               "publication": self.spec.publication_id})
                 for oid in self.objects if oid in self.spec.reissue}
        for oid, obj in self.objects.items():
            if obj["type"] == "relationship" and (obj["source_ref"] in moved or obj["target_ref"] in moved):
                moved.setdefault(oid, self.ids.sdo_id("relationship", {
                    "reissued": oid, "publication": self.spec.publication_id}))
        renamed: dict[str, dict[str, Any]] = {}
        for oid, obj in self.objects.items():
            out = _rename(obj, moved)
            if oid in moved and "created" in out:
                out["created"] = self.now
            renamed[out["id"]] = out
        self.objects = renamed

    def _report(self, campaign_id: str | None) -> None:
        refs = sorted(i for i in self.objects if not i.startswith("marking-definition--"))
        self._sdo(
            "report", {}, name=self.spec.name, description=self.spec.description or self.spec.name,
            published=self.now, report_types=["campaign" if campaign_id else "threat-report"], object_refs=refs,
        )


def _sector_key(group: str) -> str:
    """A register group as a published sector group; "" for groups without a sector identity."""
    sector = SECTOR_GROUPS.get(group)
    return "" if sector is None or sector is UNSPECIFIED else group


def _rename(obj: Mapping[str, Any], moved: Mapping[str, str]) -> dict[str, Any]:
    """`obj` with its id and every reference in it renamed by `moved`."""
    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and (key == "id" or key.endswith(("_ref", "_refs"))):
            return moved.get(value, value)
        return value

    renamed: dict[str, Any] = walk(obj)
    return renamed


def _order(obj: Mapping[str, Any]) -> tuple[str, bytes]:
    return (str(obj.get("created", "")), orjson.dumps(obj, option=orjson.OPT_SORT_KEYS))
