"""Values no feed may carry: the hub's own allow-list (hub/allowlist.py) and what MISP's warning lists know as
legitimate (converters.benign), so that a member's firewall never blocks a partner's relay, a popular site, a
public resolver or a well-known file because a report mentioned it. A network is left out when it holds any
such address.

Owns mapping the feeds' kinds to those lists' kinds, and a version for the feeds' validators: a change of the
allow-list or a new release of the warning lists changes every ETag. The allow-list is re-read at most every
`refresh_s` seconds per process (it is small, and changes are rare), so a change reaches the feeds within that
time. Must not: know HTTP.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from importlib import metadata
from urllib.parse import urlsplit

from converters.benign import known_benign

from ..hub.allowlist import AllowList
from ..storage.base import AllowListStore

_KIND = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "domain": "domain-name", "url": "url", "email": "email-addr",
         "sha256": "sha256", "sha1": "sha1", "md5": "md5"}


def _host_of(kind: str, value: str) -> str:
    """The lower-case host a domain, URL or e-mail value names ("" for other kinds)."""
    if kind == "domain-name":
        return value.lower().rstrip(".")
    if kind == "email-addr":
        return value.rpartition("@")[2].lower().rstrip(".")
    if kind == "url":
        try:
            return (urlsplit(value if "://" in value else "http://" + value).hostname or "").rstrip(".")
        except ValueError:
            return ""
    return ""


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
        self._kinds: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._hosts: set[str] = set()

    def _allow_list(self) -> AllowList:
        now = self.monotonic()
        if self._loaded_at is None or now - self._loaded_at >= self.refresh_s:
            entries = self.store.list_allowed()
            self._allowed = AllowList(entries)
            self._kinds = {e.kind for e in entries}
            self._networks = [ipaddress.ip_network(e.value, strict=False) for e in entries
                              if e.kind in ("ipv4-addr", "ipv6-addr")]
            # every host an entry could match through (domains and their subdomains, URL hosts, mail domains)
            self._hosts = {_host_of(e.kind, e.value) for e in entries} - {""}
            digest = hashlib.sha256("\n".join(sorted(f"{e.kind}\t{e.value}" for e in entries)).encode())
            self._allowed_version = digest.hexdigest()[:16]
            self._loaded_at = now
        return self._allowed

    def _maybe_allowed(self, kind: str, value: str) -> bool:
        """False when no allow-list entry can match `value` (a normalised feed value): most values skip the
        allow-list's own normalisation (IDNA checks cost most of a feed build). True means: ask it."""
        if not self._kinds:
            return False
        if kind in ("ipv4-addr", "ipv6-addr", "md5", "sha1", "sha256"):
            return kind in self._kinds
        host = _host_of(kind, value)
        if ":" in host or host.replace(".", "").isdigit():  # an address as URL host: networks decide
            return bool(self._kinds & {"ipv4-addr", "ipv6-addr"})
        labels = host.split(".")
        return any(".".join(labels[i:]) in self._hosts for i in range(len(labels)))

    def excluded(self, kind: str, value: str) -> bool:
        other = _KIND.get(kind)
        if other is None:
            return False
        allowed = self._allow_list()
        if self._maybe_allowed(other, value) and allowed.matches(other, value) is not None:
            return True
        if "/" in value and other in ("ipv4-addr", "ipv6-addr") and self._holds_allowed(value):
            return True
        return known_benign(other, value) is not None

    def _holds_allowed(self, value: str) -> bool:
        """Whether a network value holds an allow-listed address or overlaps an allow-listed network: blocking
        it would block them."""
        network = ipaddress.ip_network(value, strict=False)
        return any(network.version == n.version and network.overlaps(n) for n in self._networks)

    def version(self) -> str:
        self._allow_list()
        return f"{self._lists_version}|allow:{self._allowed_version}"
