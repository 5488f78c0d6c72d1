"""The object graph of one bundle under construction.

Owns: the insertion-ordered set of STIX objects (first writer wins for an id, so an SCO shared by two archives
appears once), the common SDO/SRO properties (keyed id, hub as creator, record times, TLP marking), and the
relationship helper. The order of insertion is deterministic, so the output is too.
"""

from __future__ import annotations

import re
from typing import Any

from converters import markings
from converters.ids import KeyedIds

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f\u3000-\u303f]")

StixObject = dict[str, Any]


def text_lang(*texts: str | None) -> str:
    """`ja` when any of the texts contains Japanese script, else `en` (STIX `lang`, RFC 5646)."""
    return "ja" if any(text and _JAPANESE.search(text) for text in texts) else "en"


class Graph:
    def __init__(self, ids: KeyedIds, hub_id: str, created: str) -> None:
        self.ids = ids
        self.hub_id = hub_id
        self.created = created
        self.objects: dict[str, StixObject] = {}
        self.levels: set[str] = set()

    def add(self, obj: StixObject) -> str:
        object_id: str = obj["id"]
        if object_id not in self.objects:
            self.objects[object_id] = obj
            for ref in obj.get("object_marking_refs", ()):
                self.levels.add(_LEVELS[ref])
        return object_id

    def get(self, object_id: str) -> StixObject:
        return self.objects[object_id]

    def sco(self, object_type: str, object_id: str, level: str, **properties: Any) -> str:
        """Add an SCO (no creator, no times: SCOs are unversioned and shared between reports)."""
        obj: StixObject = {"type": object_type, "spec_version": "2.1", "id": object_id}
        obj.update((k, v) for k, v in properties.items() if v is not None)
        obj["object_marking_refs"] = markings.refs(level)
        return self.add(obj)

    def sdo(
        self,
        object_type: str,
        natural_key: dict[str, Any],
        level: str,
        *,
        created: str | None = None,
        text: tuple[str | None, ...] = (),
        **properties: Any,
    ) -> str:
        """Add an SDO: keyed id, the hub as creator, record times, `lang` from its text, a TLP marking."""
        object_id = self.ids.sdo_id(object_type, natural_key)
        if object_id in self.objects:  # first writer wins; skip building a copy
            return object_id
        obj: StixObject = {
            "type": object_type,
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": self.hub_id,
            "created": created or self.created,
            "modified": created or self.created,
        }
        obj.update((k, v) for k, v in properties.items() if v is not None)
        if text:
            obj["lang"] = text_lang(*text)
        obj["object_marking_refs"] = markings.refs(level)
        return self.add(obj)

    def relate(self, relationship_type: str, source: str, target: str, level: str, **properties: Any) -> str:
        key = {"relationship_type": relationship_type, "source_ref": source, "target_ref": target}
        key.update((k, v) for k, v in properties.items() if k in ("start_time", "stop_time") and v)
        return self.sdo(
            "relationship",
            key,
            level,
            relationship_type=relationship_type,
            source_ref=source,
            target_ref=target,
            **properties,
        )


_LEVELS = {marking_id: level for level, marking_id in markings.TLP2_IDS.items()}
