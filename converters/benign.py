"""Known-legitimate infrastructure: the MISP project's curated warning lists, indexed for fast look-ups.

Owns the answer to "is this value well-known legitimate infrastructure (or an abused-but-legitimate service)
that must never become an indicator or correlation evidence?" for domains, URLs, IPs, email addresses and
file hashes. The list data is the copy the `pymispwarninglists` package (BSD-3-Clause) ships in its wheel;
it is read once, on first use (never at import), from the selected lists only, into sets, a label-suffix
index for host names and sorted integer ranges for networks. A look-up is a few dictionary probes or one
bisection per list, never a scan.

Two kinds of list are used:
- legitimate infrastructure (top sites, big providers' domains and address ranges, public resolvers,
  reserved ranges, banks, universities, empty-file and false-positive hashes...): never an indicator;
- abused services (LOTS "living off trusted sites", URL shorteners, link-in-bio, IPFS gateways, dynamic DNS,
  disposable mail): the service's own domain is never an indicator, but a specific URL or sub-host on it is
  attacker content and stays one.

A warning-list entry that is itself a public suffix (PSL, e.g. `web.app`, `blogspot.com`, `duckdns.org`)
matches only exactly: `evil.web.app` is the attacker's, not Google's. Must not: fetch anything, read the
hub's configuration, or know about the hub's own allow-list or member register (callers combine those).
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from converters.address_ranges import Segments, address_span, documentation
from converters.options import DEFAULT_FREEMAIL_DOMAINS

# Legitimate infrastructure: a value on one of these is context, never an indicator.
LEGITIMATE_LISTS = (
    "tranco10k",
    "cisco_top10k",
    "majestic_million",
    "moz-top500",
    "alexa",
    "google",
    "microsoft",
    "microsoft-office365",
    "microsoft-win10-connection-endpoints",
    "captive-portals",
    "crl-hostname",
    "bank-website",
    "university_domains",
    "dax30",
    "wikimedia",
    "security-provider-blogpost",
    "automated-malware-analysis",
    "whats-my-ip",
    "findip-host",
    "public-dns-hostname",
    "parking-domain-ns",
    "umbrella-blockpage-hostname",
    "rfc6761",
    "tlds",
    "second-level-tlds",
    "akamai",
    "amazon-aws",
    "apple",
    "cloudflare",
    "fastly",
    "github",
    "google-gcp",
    "google-gmail-sending-ips",
    "googlebot",
    "microsoft-azure",
    "microsoft-azure-china",
    "microsoft-azure-germany",
    "microsoft-azure-us-gov",
    "microsoft-office365-cn",
    "microsoft-office365-ip",
    "stackpath",
    "zscaler",
    "ovh-cluster",
    "parking-domain",
    "sinkholes",
    "smtp-sending-ips",
    "smtp-receiving-ips",
    "public-dns-v4",
    "public-dns-v6",
    "umbrella-blockpage-v4",
    "umbrella-blockpage-v6",
    "crl-ip",
    "rfc1918",
    "rfc3849",
    "rfc5735",
    "rfc6598",
    "multicast",
    "ipv6-linklocal",
    "empty-hashes",
    "common-ioc-false-positive",
    "ti-falsepositives",
    "eicar.com",
    "common-contact-emails",
)
# Legitimate services that attackers abuse: the service is not an indicator, content on it can be.
ABUSED_SERVICE_LISTS = (
    "lots-project",
    "url-shortener",
    "link-in-bio",
    "public-ipfs-gateways",
    "dynamic-dns",
    "disposable-email",
)
# Not used: the top-million lists (tranco, google-chrome-crux-1million: memory, and many abused sites), scanner and
# VPN ranges (irrelevant to mail), nioc-filehash (200,000 hashes of benign software: most of the load time, and
# hardly ever the hash of a mail attachment).
# Lists of suffixes themselves: `co.jp` is on them, `example.co.jp` is not.
_EXACT_ONLY = frozenset({"tlds", "second-level-tlds"})
# Social networks' profile pages (footer icons, "follow us"): on the LOTS list, but a link to them in a mail
# is branding, not a payload. A policy choice of this module, not a warning list.
SOCIAL_NETWORK_HOSTS = frozenset(
    {
        "facebook.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "youtube.com",
        "linkedin.com",
        "pinterest.com",
        "tiktok.com",
        "line.me",
    }
)
HASH_KINDS = frozenset({"file", "md5", "sha1", "sha256", "sha512", "hash"})
KINDS = frozenset({"domain-name", "url", "ipv4-addr", "ipv6-addr", "email-addr"}) | HASH_KINDS


@dataclass(frozen=True)
class HostMatch:
    """What the warning lists say about one host name."""

    legitimate: str | None  # name of the legitimate-infrastructure list that has it
    abused_service: str | None  # name of the abused-service list whose service it is (or is under)
    service_itself: bool  # the host is the abused service's own domain (not a sub-host on it)


_HASH_LISTS = frozenset(
    {"empty-hashes", "common-ioc-false-positive", "ti-falsepositives", "nioc-filehash", "eicar.com"}
)


class WarningLists:
    """The selected MISP warning lists, indexed. Build with `warning_lists()` (loaded once)."""

    def __init__(self, lists: Iterable[dict[str, object]], is_public_suffix: Callable[[str], bool]) -> None:
        self.exact: dict[str, str] = {}  # host -> list (legitimate)
        self.suffix: dict[str, str] = {}  # host and everything under it -> list (legitimate)
        self.abused_exact: dict[str, str] = {}
        self.abused_suffix: dict[str, str] = {}
        self.hashes: dict[str, str] = {}
        self.names: list[str] = []
        self.email_patterns: list[tuple[str, re.Pattern[str]]] = []
        self._v4 = Segments()
        self._v6 = Segments()
        self._single: dict[tuple[int, int], int] = {}  # (version, address) -> list priority
        # An entry that is itself a public suffix matches only exactly; decided on first use (PSL costs
        # ~10 µs a name, and most entries are never looked at).
        self._is_public = functools.lru_cache(maxsize=65536)(is_public_suffix)
        for warning_list in lists:
            self._add(warning_list)
        self._v4.build()
        self._v6.build()

    def _add(self, warning_list: dict[str, object]) -> None:
        name = str(warning_list["name_key"])
        kind = str(warning_list["type"])
        raw = warning_list["list"]
        items = [v for v in raw if isinstance(v, str)] if isinstance(raw, list) else []
        priority = len(self.names)
        self.names.append(name)
        if name in _HASH_LISTS:
            merged = dict.fromkeys(map(str.lower, items), name)
            merged.update(self.hashes)  # an earlier list keeps its claim
            self.hashes = merged
            return
        values = [text for text in map(str.strip, items) if text]
        if kind == "cidr":
            for value in values:
                span = address_span(value)
                if span is None:
                    continue
                if span[1] == span[2]:  # one address (most of the resolver lists): a dictionary entry
                    self._single.setdefault((span[0], span[1]), priority)
                else:
                    target = self._v4 if span[0] == 4 else self._v6
                    target.spans.append((span[1], span[2], priority))
            return
        if kind == "regex":
            for value in values:
                pattern = _misp_regex(value)
                if pattern is not None:
                    self.email_patterns.append((name, pattern))
            return
        abused = name in ABUSED_SERVICE_LISTS
        for value in values:
            host = normalise_host(value.lower().lstrip("*").lstrip("."))
            if not host:
                continue
            if abused:
                # Sub-hosts of a service are content on it (`www.dropbox.com`, `evil.duckdns.org`).
                self.abused_suffix.setdefault(host, name)
                self.abused_exact.setdefault(host, name)
            elif name in _EXACT_ONLY:
                self.exact.setdefault(host, name)
            else:
                self.suffix.setdefault(host, name)

    # ------------------------------------------------------------------------------------------ look-ups

    def host(self, host: str) -> HostMatch:
        host = normalise_host(host)
        if not host:
            return HostMatch(None, None, False)
        legitimate = self.exact.get(host) or self.suffix.get(host)
        abused = self.abused_exact.get(host)
        itself = abused is not None
        labels = host.split(".")
        for index in range(1, len(labels)):
            candidate = ".".join(labels[index:])
            if legitimate is None:
                found = self.suffix.get(candidate)
                if found is not None and not self._is_public(candidate):
                    legitimate = found
            if abused is None:
                abused = self.abused_suffix.get(candidate)
        return HostMatch(legitimate, abused, itself)

    def ip(self, value: str) -> str | None:
        span = address_span(value.strip().strip("[]"))
        if span is None or documentation(span):
            return None
        version, first, last = span
        owner = (self._v4 if version == 4 else self._v6).find(first, last)
        if first == last:
            single = self._single.get((version, first))
            if single is not None and (owner is None or single < owner):
                owner = single
        return None if owner is None else self.names[owner]

    def file_hash(self, value: str) -> str | None:
        return self.hashes.get(value.strip().lower())

    def email_contact(self, address: str) -> str | None:
        for name, pattern in self.email_patterns:
            if pattern.search(address):
                return name
        return None


class _SuffixTest:
    """`is_public(host)` from the Public Suffix List shipped by the `publicsuffixlist` package, parsed on the
    first question (most conversions never ask one)."""

    def __init__(self) -> None:
        self._psl: Any = None

    def __call__(self, host: str) -> bool:
        if self._psl is None:
            from publicsuffixlist import PublicSuffixList

            self._psl = PublicSuffixList()
        return bool(self._psl.is_public(host))


def _misp_regex(value: str) -> re.Pattern[str] | None:
    """MISP writes regex entries as `/…/flags` (PCRE); the ones shipped are also valid Python."""
    match = re.fullmatch(r"/(.*)/([a-z]*)", value)
    if not match:
        return None
    flags = re.IGNORECASE if "i" in match.group(2) else 0
    try:
        return re.compile(match.group(1).replace("\\@", "@"), flags)
    except re.error:
        return None


def normalise_host(host: str) -> str:
    """Lower case, no trailing dot, no port or brackets, IDN labels as punycode; '' when not a host name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        return ""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def _data_root() -> Path:
    """The lists folder of the installed `pymispwarninglists` package, found without importing it (its
    import pulls in jsonschema and costs seconds)."""
    spec = importlib.util.find_spec("pymispwarninglists")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError("the pymispwarninglists package is not installed")
    return Path(locations[0]) / "data" / "misp-warninglists" / "lists"


@functools.cache
def warning_lists() -> WarningLists:
    """The selected warning lists, read once from the `pymispwarninglists` package data."""
    root = _data_root()
    loaded: list[dict[str, object]] = []
    for name in (*LEGITIMATE_LISTS, *ABUSED_SERVICE_LISTS):
        entry = root / name / "list.json"
        if not entry.is_file():
            continue  # a list dropped by a newer package release: the others still apply
        document = json.loads(entry.read_bytes())
        document["name_key"] = name
        loaded.append(document)
    if not loaded:
        raise RuntimeError("the pymispwarninglists package ships no warning lists")
    return WarningLists(loaded, _SuffixTest())


# ----------------------------------------------------------------------------------------- public answers


def known_benign(kind: str, value: str) -> str | None:
    """The name of the warning list that makes `value` (of STIX type `kind`) known-legitimate, else None.

    kind: `domain-name`, `url`, `ipv4-addr`, `ipv6-addr`, `email-addr`, or a hash kind (`file`, `md5`,
    `sha1`, `sha256`, `sha512`, `hash`; the value is a hex digest). A URL on an abused service (a file on a
    sharing site, a short link) is NOT benign: it is the attacker's content. An address at a free-mail or
    disposable-mail provider is NOT benign either: the account is the attacker's.
    """
    lists = warning_lists()
    if kind in HASH_KINDS:
        return lists.file_hash(value)
    if kind in ("ipv4-addr", "ipv6-addr"):
        return lists.ip(value)
    if kind == "domain-name":
        match = lists.host(value)
        if match.abused_service and match.service_itself:
            return match.abused_service
        if match.abused_service and match.legitimate is None:
            return None
        return match.legitimate
    if kind == "url":
        return _benign_url(lists, value)
    if kind == "email-addr":
        return _benign_address(lists, value)
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(sorted(KINDS))}")


def abused_service(kind: str, value: str) -> str | None:
    """The abused-service list (LOTS, URL shorteners…) whose service hosts `value` (a host or URL), else None."""
    if kind == "url":
        value = _url_host(value)
    elif kind == "email-addr":
        value = value.rpartition("@")[2]
    elif kind != "domain-name":
        return None
    return warning_lists().host(value).abused_service


def _benign_url(lists: WarningLists, value: str) -> str | None:
    host = _url_host(value)
    if not host:
        return None
    match = lists.host(host)
    if _is_ip(host):
        return lists.ip(host)
    social = _registrable_in(host, SOCIAL_NETWORK_HOSTS)
    if match.abused_service and not social:
        # A page, file or short link on a service attackers use: benign only when it is the bare service.
        bare = _bare(value) and (match.service_itself or match.legitimate is not None)
        return match.abused_service if bare else None
    return match.legitimate


def _benign_address(lists: WarningLists, address: str) -> str | None:
    contact = lists.email_contact(address)
    if contact:
        return contact
    domain = address.rpartition("@")[2].lower()
    if not domain or domain in DEFAULT_FREEMAIL_DOMAINS:
        return None
    match = lists.host(domain)
    if match.abused_service:
        return None  # disposable or free hosting: the mailbox is the attacker's
    return match.legitimate


def _url_host(value: str) -> str:
    text = value.strip()
    if text.startswith("//"):
        text = "http:" + text
    try:
        return normalise_host(urlsplit(text).hostname or "")
    except ValueError:
        return ""


def _bare(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query


def _registrable_in(host: str, names: frozenset[str]) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in names for i in range(len(labels) - 1))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
