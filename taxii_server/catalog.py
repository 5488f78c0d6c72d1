"""The collection catalogue: loads `collections/*.toml`, validates every declaration, looks collections up.

A declaration error names the file and the key. Collections are data: the catalogue is read once when the
application is composed and is immutable afterwards.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import access, tlp
from .errors import ConfigError
from .model import ApiRootDef, CollectionDef

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_KEYS = {"id", "api_root", "title", "description", "alias", "read", "write", "visibility", "max_tlp", "media_types",
         "direct_writes"}
_MEDIA_TYPES = ("application/stix+json;version=2.1", "application/stix+json;version=2.0")


class Catalog:
    def __init__(self, collections: list[CollectionDef], api_roots: Mapping[str, ApiRootDef]) -> None:
        self.api_roots = dict(api_roots)
        self._by_root: dict[str, list[CollectionDef]] = {name: [] for name in api_roots}
        self._lookup: dict[tuple[str, str], CollectionDef] = {}
        self._by_id: dict[str, CollectionDef] = {}
        for c in sorted(collections, key=lambda c: c.id):
            self._by_root[c.api_root].append(c)
            self._lookup[(c.api_root, c.id)] = c
            self._by_id[c.id] = c
            if c.alias:
                self._lookup[(c.api_root, c.alias)] = c

    @classmethod
    def load(cls, directory: Path, api_roots: Mapping[str, ApiRootDef]) -> Catalog:
        if not directory.is_dir():
            raise ConfigError(f"{directory}: collections directory not found")
        collections = [_parse(path, api_roots) for path in sorted(directory.glob("*.toml"))]
        seen: dict[str, Path] = {}
        aliases: set[tuple[str, str]] = set()
        for path, c in zip(sorted(directory.glob("*.toml")), collections, strict=True):
            if c.id in seen:
                raise ConfigError(f"{path}: id: {c.id} is already declared in {seen[c.id].name}")
            seen[c.id] = path
            if c.alias:
                if (c.api_root, c.alias) in aliases:
                    raise ConfigError(f"{path}: alias: {c.alias!r} is not unique in api root {c.api_root!r}")
                aliases.add((c.api_root, c.alias))
        return cls(collections, api_roots)

    def collections(self, api_root: str) -> list[CollectionDef]:
        """Every collection of an API root, in a stable order (by id, TAXII §3.3)."""
        return list(self._by_root.get(api_root, ()))

    def all(self) -> list[CollectionDef]:
        return sorted(self._by_id.values(), key=lambda c: (c.api_root, c.id))

    def find(self, api_root: str, id_or_alias: str) -> CollectionDef | None:
        return self._lookup.get((api_root, id_or_alias))

    def by_id(self, collection_id: str) -> CollectionDef | None:
        return self._by_id.get(collection_id)


def _parse(path: Path, api_roots: Mapping[str, ApiRootDef]) -> CollectionDef:
    try:
        with path.open("rb") as fh:
            raw: dict[str, Any] = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{path}: {key}: {why}")

    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    for key in ("id", "api_root", "title"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise fail(key, "required, a non-empty string")
    if not UUID4.match(raw["id"]):
        raise fail("id", f"{raw['id']!r} is not a lower-case UUIDv4")
    if raw["api_root"] not in api_roots:
        raise fail("api_root", f"{raw['api_root']!r} is not declared in the configuration's [api_roots]")
    for key in ("description", "alias"):
        if key in raw and not isinstance(raw[key], str):
            raise fail(key, "must be a string")
    alias = raw.get("alias") or None
    if alias is not None and (UUID4.match(alias) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", alias)):
        raise fail("alias", f"{alias!r} must be a lower-case name of letters, digits, '.', '_' or '-'")
    selectors: dict[str, tuple[str, ...]] = {}
    for key in ("read", "write"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise fail(key, "must be a list of selectors")
        for s in value:
            problem = access.selector_error(s)
            if problem:
                raise fail(key, problem)
        selectors[key] = tuple(value)
    visibility = raw.get("visibility", "all")
    if visibility not in ("all", "own"):
        raise fail("visibility", f"{visibility!r} must be 'all' or 'own'")
    max_tlp = raw.get("max_tlp")
    if max_tlp is not None:
        try:
            max_tlp = tlp.parse_level(str(max_tlp))
        except ValueError as exc:
            raise fail("max_tlp", str(exc)) from exc
    media_types = raw.get("media_types", [_MEDIA_TYPES[0]])
    if not isinstance(media_types, list) or not media_types or any(m not in _MEDIA_TYPES for m in media_types):
        raise fail("media_types", f"a non-empty list of {', '.join(_MEDIA_TYPES)}")
    direct_writes = raw.get("direct_writes", False)
    if not isinstance(direct_writes, bool):
        raise fail("direct_writes", "must be true or false")
    return CollectionDef(
        id=raw["id"],
        api_root=raw["api_root"],
        title=raw["title"],
        description=raw.get("description", ""),
        alias=alias,
        read=selectors["read"],
        write=selectors["write"],
        visibility=visibility,
        max_tlp=max_tlp,
        media_types=tuple(media_types),
        direct_writes=direct_writes,
    )
