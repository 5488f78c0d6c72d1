"""Values no feed may carry: the hub's own allow-list (hub/allowlist.py) and what MISP's warning lists know as
legitimate (converters.benign), so that a member's firewall never blocks a partner's relay, a popular site, a
public resolver or a well-known file because a report mentioned it.

Owns mapping the feeds' kinds to those lists' kinds, and a version for the feeds' validators: a change of the
allow-list or a new release of the warning lists changes every ETag. The allow-list is re-read at most every
`refresh_s` seconds per process (it is small, and changes are rare), so a change reaches the feeds within that
time. Must not: know HTTP.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from importlib import metadata

from converters.benign import known_benign

from ..hub.allowlist import AllowList
from ..storage.base import AllowListStore

_KIND = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "domain": "domain-name", "url": "url", "email": "email-addr",
         "sha256": "sha256", "sha1": "sha1", "md5": "md5"}


def _lists_version() -> str:
    try:
        return "warninglists:" + metadata.version("pymispwarninglists")
    except metadata.PackageNotFoundError:
        return "warninglists:unknown"


class HubExclusions:
    def __init__(self, store: AllowListStore, *, refresh_s: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self._lists_version = _lists_version()
        self._loaded_at: float | None = None
        self._allowed = AllowList(())
        self._allowed_version = ""

    def _allow_list(self) -> AllowList:
        now = self.monotonic()
        if self._loaded_at is None or now - self._loaded_at >= self.refresh_s:
            entries = self.store.list_allowed()
            self._allowed = AllowList(entries)
            digest = hashlib.sha256("\n".join(sorted(f"{e.kind}\t{e.value}" for e in entries)).encode())
            self._allowed_version = digest.hexdigest()[:16]
            self._loaded_at = now
        return self._allowed

    def excluded(self, kind: str, value: str) -> bool:
        other = _KIND.get(kind)
        if other is None:
            return False
        return self._allow_list().matches(other, value) is not None or known_benign(other, value) is not None

    def version(self) -> str:
        self._allow_list()
        return f"{self._lists_version}|allow:{self._allowed_version}"
