"""A MISP feed of one scope: `manifest.json`, one `<uuid>.json` event per publication, `hashes.csv`.

The layout is the one MISP's feed fetcher reads from a "MISP Feed" source: the manifest maps each event uuid to
its Orgc, Tag, info, date, analysis, threat_level_id and timestamp; each event file is `{"Event": {…}}` with its
attributes and tags; `hashes.csv` lists `md5(value),event uuid` per attribute for MISP's feed cache.

A publication is a STIX `report` (the hub's publications each carry one referencing everything published); its
event has the report's uuid, so it is stable across fetches. Active indicators no current report of their
creator references go into one event per collection (one for the hub's, one for members'), with a uuid derived
from the collection's. Only what the hub created carries the hub as Orgc (see `write_feed`). Attributes come
only from simple-equality patterns (values.py); their uuids are derived from the indicator's uuid and the
value, so they are stable too.
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


def _member_org(creator: str) -> dict[str, str]:
    """The Orgc of what a member wrote: never the hub's, whose events are vetted publications."""
    return {"name": "a member organisation (not vetted by the hub)",
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "taxii-hub:misp-org:" + creator))}


def _event(event_uuid: str, info: str, date: str, stamp: int, vetted: bool, creator: str) -> dict[str, Any]:
    return {"uuid": event_uuid, "info": info, "date": date, "analysis": 2 if vetted else 0, "threat_level_id": 2,
            "published": True, "timestamp": str(stamp), "publish_timestamp": str(stamp),
            "Orgc": HUB_ORG if vetted else _member_org(creator), "Tag": [], "Attribute": []}


def write_feed(directory: Path, store: ObjectReader, scope: ObjectScope, collection_label: str, now_us: int,
               excluded: Excluded, hub_identities: frozenset[str] = frozenset()) -> int:
    """Write the feed's files into `directory` (which exists and is empty); how many events.

    Attribution follows `created_by_ref`: only what the hub's identities created is an event of the hub (Orgc
    taxii-hub, analysis completed); what a member wrote into a collection members write is its own event
    (analysis initial), and an event holds only indicators of its report's creator, so no member can put the
    hub's vetted indicators under its report or its own under the hub's name. An event's `tlp:` tag is the
    most restrictive of its report's and its attributes' levels."""
    events: dict[str, dict[str, Any]] = {}
    creator_of: dict[str, str] = {}
    member_of: dict[str, list[str]] = {}
    loose = {True: str(uuid.uuid5(uuid.NAMESPACE_URL, "taxii-hub:misp-loose:" + scope.collection_id)),
             False: str(uuid.uuid5(uuid.NAMESPACE_URL, "taxii-hub:misp-loose-members:" + scope.collection_id))}
    levels: dict[str, list[str | None]] = {}
    for c in latest(store, scope, ("report",)):
        r = c.obj
        if state(r, now_us) != "active" or not isinstance(r.get("id"), str):
            continue
        event_uuid = _uuid_of(r["id"])
        if event_uuid in loose.values():
            continue  # a report written to take over the uuid of the indicators' own events
        creator = str(r.get("created_by_ref") or "")
        stamp = _seconds(r.get("modified"), c.stored.date_added_us // 1_000_000)
        events[event_uuid] = _event(event_uuid, str(r.get("name", "publication"))[:65535],
                                    str(r.get("published", r.get("created", "")))[:10], stamp,
                                    creator in hub_identities, creator)
        creator_of[event_uuid] = creator
        levels[event_uuid] = [tlp.highest_level(r)]
        for ref in r.get("object_refs") or ():
            if isinstance(ref, str) and ref.startswith("indicator--"):
                member_of.setdefault(ref, []).append(event_uuid)
    for c in latest(store, scope, ("indicator",)):
        obj = c.obj
        if state(obj, now_us) != "active":
            continue
        values = [v for v in simple_values(str(obj.get("pattern", ""))) if not excluded(v.kind, v.value)]
        if not values:
            continue
        creator = str(obj.get("created_by_ref") or "")
        targets = [e for e in member_of.get(str(obj.get("id")), ()) if creator_of[e] == creator]
        if not targets:
            vetted = creator in hub_identities
            event_uuid = loose[vetted]
            targets = [event_uuid]
            if event_uuid not in events:
                whose = "" if vetted else " written by members"
                events[event_uuid] = _event(event_uuid, f"Indicators{whose} of {collection_label} not in a "
                                            "publication", "1970-01-01", 0, vetted, creator)
                levels[event_uuid] = []
        for event_uuid in targets:
            event = events[event_uuid]
            event["Attribute"].extend(_attribute(obj, v) for v in values)
            levels[event_uuid].append(tlp.highest_level(obj))
            if event_uuid in loose.values():
                stamp = _seconds(obj.get("modified"), 0)
                if stamp > int(event["timestamp"]):
                    event["timestamp"] = event["publish_timestamp"] = str(stamp)
                    event["date"] = str(obj.get("modified", ""))[:10] or event["date"]
    for event_uuid, event in events.items():
        event["Tag"] = _tags(tlp.max_level(levels[event_uuid]))
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
