"""The hub-local allow-list: values the hub's analysts know to be legitimate, so never an indicator and never
correlation evidence (a vendor portal, a partner's mail relay, a common installer's hash).

Owns the normal form of each kind of value, the membership test (`AllowList`, built once per call site from
the stored entries: set and dict look-ups, no scan) and the audited administration (`AllowListAdmin`: who may
change the list is `access.may_manage_allow_list`). Must not: read any list other than the hub's own (MISP
warning lists and the member register are consulted by their users beside this one).

Matching, kind by kind:
- domain-name: the name or any parent (an entry covers its subdomains);
- ipv4-addr / ipv6-addr: an entry is an address or a CIDR network; it covers every address (and narrower
  network) inside it;
- url: the normalised URL exactly (scheme and host lower-case, IDNA, default port and fragment dropped), else
  its host as a domain-name or address entry;
- email-addr: the address exactly (lower-case, IDNA domain), else its domain as a domain-name entry;
- md5 / sha1 / sha256: the hex digest, lower-case.
A value that does not parse as its kind matches nothing (`matches` never raises); `normalise` says why.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from ..access import may_manage_allow_list
from ..errors import BadRequest, Conflict, NotFound
from ..hostnames import domain_and_parents, normalise_domain
from ..model import ALLOW_KINDS, AllowedValue, Principal
from ..storage.base import AllowListStore
from ..timestamps import format_us, now_us
from .audit import AuditLog

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
_HEX = re.compile(r"^[0-9a-f]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
MAX_REASON = 500


def normalise(kind: str, value: str) -> str:
    """The stored form of `value` as a `kind`; ValueError with a one-line reason when it is not one."""
    text = value.strip()
    if kind == "domain-name":
        return normalise_domain(text)
    if kind in ("ipv4-addr", "ipv6-addr"):
        return str(_network(kind, text, strict=True))
    if kind == "url":
        return _url(text)
    if kind == "email-addr":
        return _email(text)
    if kind in _HASH_LENGTHS:
        digest = text.lower()
        if len(digest) != _HASH_LENGTHS[kind] or not _HEX.match(digest):
            raise ValueError(f"{value!r} is not an {kind} digest ({_HASH_LENGTHS[kind]} hex digits)")
        return digest
    raise ValueError(f"unknown kind {kind!r} (one of {', '.join(ALLOW_KINDS)})")


def _network(kind: str, text: str, *, strict: bool) -> IPNetwork:
    try:
        net = ipaddress.ip_network(text, strict=strict)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an address or network: {exc}") from None
    if (net.version == 4) != (kind == "ipv4-addr"):
        raise ValueError(f"{text!r} is not an {kind}")
    return net


def _url(text: str) -> str:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a URL: {exc}") from None
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"{text!r} is not an absolute URL with a host")
    host = _host(parts.hostname)
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc += f":{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def _host(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return normalise_domain(text)


def _email(text: str) -> str:
    local, at, domain = text.rpartition("@")
    if not at or not local or any(c.isspace() for c in local):
        raise ValueError(f"{text!r} is not an email address")
    return f"{local.lower()}@{normalise_domain(domain)}"


class AllowList:
    """The allow-list as loaded at one moment: build it once per call site (a conversion, a leak check, a
    correlation run), then ask `matches` as often as needed."""

    def __init__(self, entries: Iterable[AllowedValue]) -> None:
        self._exact: dict[tuple[str, str], AllowedValue] = {}
        # per kind, per prefix length: network address → entry (an address is a /32 or /128 network)
        self._networks: dict[str, dict[int, dict[IPNetwork, AllowedValue]]] = {}
        for entry in entries:
            if entry.kind in ("ipv4-addr", "ipv6-addr"):
                net = ipaddress.ip_network(entry.value, strict=False)
                self._networks.setdefault(entry.kind, {}).setdefault(net.prefixlen, {})[net] = entry
            else:
                self._exact[(entry.kind, entry.value)] = entry
        self._size = len(self._exact) + sum(len(m) for k in self._networks.values() for m in k.values())

    @classmethod
    def load(cls, store: AllowListStore) -> AllowList:
        return cls(store.list_allowed())

    def __len__(self) -> int:
        return self._size

    def matches(self, kind: str, value: str) -> AllowedValue | None:
        """The entry that makes `value` (of `kind`) legitimate, or None; see the module docstring."""
        text = value.strip()
        try:
            if kind == "domain-name":
                return self._domain(text)
            if kind in ("ipv4-addr", "ipv6-addr"):
                return self._address(kind, text)
            if kind == "url":
                return self._url(text)
            if kind == "email-addr":
                return self._email(text)
        except ValueError:
            return None
        return self._exact.get((kind, text.lower())) if kind in _HASH_LENGTHS else None

    def _domain(self, value: str) -> AllowedValue | None:
        for name in domain_and_parents(normalise_domain(value)):
            found = self._exact.get(("domain-name", name))
            if found is not None:
                return found
        return None

    def _address(self, kind: str, value: str) -> AllowedValue | None:
        by_length = self._networks.get(kind)
        if not by_length:
            return None
        net = _network(kind, value, strict=False)
        for length, entries in by_length.items():
            if length <= net.prefixlen:
                found = entries.get(net.supernet(new_prefix=length) if length < net.prefixlen else net)
                if found is not None:
                    return found
        return None

    def _ip(self, value: str) -> AllowedValue | None:
        kind = "ipv6-addr" if ":" in value else "ipv4-addr"
        return self._address(kind, value)

    def _url(self, value: str) -> AllowedValue | None:
        url = _url(value)
        found = self._exact.get(("url", url))
        if found is not None:
            return found
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return self._domain(host)
        return self._ip(host)

    def _email(self, value: str) -> AllowedValue | None:
        address = _email(value)
        return self._exact.get(("email-addr", address)) or self._domain(address.rpartition("@")[2])



class AllowListAdmin:
    """Adding, listing and removing entries: analysts and administrators only (to anyone else the allow-list
    does not exist), every change in the audit trail."""

    def __init__(self, store: AllowListStore, audit: AuditLog, clock: Callable[[], int] = now_us, *,
                 on_change: Callable[[AllowedValue], None] = lambda entry: None) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock
        self.on_change = on_change  # told of every entry added or removed (correlation re-evaluates its values)

    def add(self, principal: Principal, kind: str, value: str, reason: str) -> AllowedValue:
        self._require(principal)
        entry = AllowedValue(kind, _normalised(kind, value), _reason(reason), principal.org_id,
                             format_us(self.clock()))
        if not self.store.add_allowed(entry):
            raise Conflict(f"{kind} {entry.value} is already on the allow-list")
        self.audit.record(principal, "allow-add", f"{kind}:{entry.value}", {"reason": entry.reason})
        self.on_change(entry)
        return entry

    def remove(self, principal: Principal, kind: str, value: str) -> AllowedValue:
        self._require(principal)
        normal = _normalised(kind, value)
        found = [e for e in self.store.list_allowed(kind) if e.value == normal]
        if not found or not self.store.remove_allowed(kind, normal):
            raise NotFound(f"{kind} {normal} is not on the allow-list")
        self.audit.record(principal, "allow-remove", f"{kind}:{normal}", {"reason": found[0].reason})
        self.on_change(found[0])
        return found[0]

    def entries(self, principal: Principal, kind: str | None = None) -> list[AllowedValue]:
        self._require(principal)
        if kind is not None and kind not in ALLOW_KINDS:
            raise BadRequest(f"unknown kind {kind!r} (one of {', '.join(ALLOW_KINDS)})")
        return self.store.list_allowed(kind)

    def current(self) -> AllowList:
        """The allow-list as it is now, for the hub's own checks (conversion, leak check, correlation)."""
        return AllowList.load(self.store)

    @staticmethod
    def _require(principal: Principal) -> None:
        if not may_manage_allow_list(principal):
            raise NotFound("no such allow-list")


def _normalised(kind: str, value: str) -> str:
    try:
        return normalise(kind, value)
    except ValueError as exc:
        raise BadRequest(f"{kind}: {exc}") from None


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise BadRequest("say why the value is legitimate (--reason)")
    if len(reason) > MAX_REASON:
        raise BadRequest(f"the reason is longer than {MAX_REASON} characters")
    return reason
