"""A MISP feed of one scope: `manifest.json`, one `<uuid>.json` event per publication, `hashes.csv`.

The layout is the one MISP's feed fetcher reads from a "MISP Feed" source: the manifest maps each event uuid to
its Orgc, Tag, info, date, analysis, threat_level_id and timestamp; each event file is `{"Event": {…}}` with its
attributes and tags; `hashes.csv` lists `md5(value),event uuid` per attribute for MISP's feed cache.

A publication is a STIX `report` (the hub's publications each carry one referencing everything published); its
event has the report's uuid, so it is stable across fetches, and the report's TLP as a `tlp:` tag. Active
indicators no current report references go into one event per collection, with a uuid derived from the
collection's. Attributes come only from simple-equality patterns (values.py); their uuids are derived from the
indicator's uuid and the value, so they are stable too.
Must not: know HTTP, or decide access.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import orjson

from .. import tlp
from ..model import ObjectScope
from ..timestamps import parse_us
from .current import ObjectReader, latest, state
from .formats import Excluded
from .values import Value, simple_values

_TYPES = {"ipv4": "ip-dst", "ipv6": "ip-dst", "domain": "domain", "url": "url", "sha256": "sha256",
          "sha1": "sha1", "md5": "md5", "email": "email-src"}
_CATEGORY = {"ipv4": "Network activity", "ipv6": "Network activity", "domain": "Network activity",
             "url": "Network activity", "sha256": "Payload delivery", "sha1": "Payload delivery",
             "md5": "Payload delivery", "email": "Payload delivery"}
_TLP_COLOUR = {"clear": "#FFFFFF", "green": "#33FF00", "amber": "#FFC000", "amber+strict": "#FFC000",
               "red": "#FF2B2B"}
HUB_ORG = {"name": "taxii-hub", "uuid": "4b1c3b5e-2f0a-5d8e-9d7c-2a7e51f3c0aa"}


def _uuid_of(stix_id: str) -> str:
    return stix_id.split("--", 1)[1] if "--" in stix_id else str(uuid.uuid5(uuid.NAMESPACE_URL, stix_id))


def _seconds(text: object, default: int) -> int:
    try:
        return parse_us(str(text)) // 1_000_000
    except ValueError:
        return default


def _tags(level: str | None) -> list[dict[str, str]]:
    return [{"name": f"tlp:{level}", "colour": _TLP_COLOUR[level]}] if level else []


def _attribute(indicator: dict[str, Any], v: Value) -> dict[str, Any]:
    level = tlp.highest_level(indicator)
    return {
        "uuid": str(uuid.uuid5(uuid.UUID(_uuid_of(str(indicator["id"]))), f"{v.kind}:{v.value}")),
        "type": _TYPES[v.kind], "category": _CATEGORY[v.kind], "value": v.value, "to_ids": True,
        "timestamp": str(_seconds(indicator.get("modified"), 0)),
        "comment": str(indicator.get("name", ""))[:1024], "Tag": _tags(level),
    }


def write_feed(directory: Path, store: ObjectReader, scope: ObjectScope, collection_label: str, now_us: int,
               excluded: Excluded) -> int:
    """Write the feed's files into `directory` (which exists and is empty); how many events."""
    events: dict[str, dict[str, Any]] = {}
    member_of: dict[str, list[str]] = {}
    for c in latest(store, scope, ("report",)):
        r = c.obj
        if state(r, now_us) != "active" or not isinstance(r.get("id"), str):
            continue
        event_uuid = _uuid_of(r["id"])
        stamp = _seconds(r.get("modified"), c.stored.date_added_us // 1_000_000)
        events[event_uuid] = {
            "uuid": event_uuid, "info": str(r.get("name", "publication"))[:65535],
            "date": str(r.get("published", r.get("created", "")))[:10], "analysis": 2, "threat_level_id": 2,
            "published": True, "timestamp": str(stamp), "publish_timestamp": str(stamp), "Orgc": HUB_ORG,
            "Tag": _tags(tlp.highest_level(r)), "Attribute": [],
        }
        for ref in r.get("object_refs") or ():
            if isinstance(ref, str) and ref.startswith("indicator--"):
                member_of.setdefault(ref, []).append(event_uuid)
    loose = str(uuid.uuid5(uuid.NAMESPACE_URL, "taxii-hub:misp-loose:" + scope.collection_id))
    for c in latest(store, scope, ("indicator",)):
        obj = c.obj
        if state(obj, now_us) != "active":
            continue
        values = [v for v in simple_values(str(obj.get("pattern", ""))) if not excluded(v.kind, v.value)]
        if not values:
            continue
        targets = member_of.get(str(obj.get("id")))
        if not targets:
            targets = [loose]
            if loose not in events:
                events[loose] = {
                    "uuid": loose, "info": f"Indicators of {collection_label} not in a publication",
                    "date": "1970-01-01", "analysis": 2, "threat_level_id": 2, "published": True, "timestamp": "0",
                    "publish_timestamp": "0", "Orgc": HUB_ORG, "Tag": [], "Attribute": [],
                }
        for event_uuid in targets:
            event = events[event_uuid]
            event["Attribute"].extend(_attribute(obj, v) for v in values)
            if event_uuid == loose:
                stamp = _seconds(obj.get("modified"), 0)
                if stamp > int(event["timestamp"]):
                    event["timestamp"] = event["publish_timestamp"] = str(stamp)
                    event["date"] = str(obj.get("modified", ""))[:10] or event["date"]
    manifest: dict[str, Any] = {}
    with (directory / "hashes.csv").open("wb") as hashes:
        for event_uuid, event in sorted(events.items()):
            (directory / f"{event_uuid}.json").write_bytes(orjson.dumps({"Event": event}))
            manifest[event_uuid] = {k: event[k] for k in ("Orgc", "Tag", "info", "date", "analysis",
                                                           "threat_level_id", "timestamp")}
            manifest[event_uuid]["timestamp"] = int(event["timestamp"])
            for attribute in event["Attribute"]:
                digest = hashlib.md5(attribute["value"].encode(), usedforsecurity=False).hexdigest()
                hashes.write(f"{digest},{event_uuid}\n".encode())
    (directory / "manifest.json").write_bytes(orjson.dumps(manifest))
    return len(events)
