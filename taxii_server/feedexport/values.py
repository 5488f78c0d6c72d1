"""Which block-list values an indicator's pattern yields, and how each product wants them written.

Owns: picking the patterns that are one observation of equality comparisons (`[domain-name:value = 'x']`, or
several joined by OR, as `[file:hashes.MD5 = … OR file:hashes.'SHA-256' = …]`, where each comparison alone
satisfies the pattern), as `converters.patterns.equality_values` reads them (stix2-patterns' inspector, or its
canonical-form equivalent: values whole, escapes undone), and turning each value into one safe list line per
kind. Anything else — AND, FOLLOWEDBY, qualifiers, other operators, several observations — yields nothing: a
compound pattern is never flattened into a list, because its single values do not mean what the pattern means.

Every value is checked and normalised for its kind (addresses and networks by `ipaddress`, domains to
lower-case IDNA, hashes to lower-case hex of the right length, URLs percent-encoded), so no value can carry a
line break, a comma, a quote or a `#` into a list line; a value that cannot be made safe is left out.
Must not: know HTTP or storage. Pure functions.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from converters import patterns

Kind = Literal["ipv4", "ipv6", "domain", "url", "sha256", "sha1", "md5", "email"]
KINDS: tuple[Kind, ...] = ("ipv4", "ipv6", "domain", "url", "sha256", "sha1", "md5", "email")
# List dialects where the products differ (only url.txt differs today: PAN-OS EDLs take URLs without a scheme)
DIALECTS = ("panos", "fortigate", "plain")

_PATHS: dict[tuple[str, str], Kind] = {
    ("ipv4-addr", "value"): "ipv4",
    ("ipv6-addr", "value"): "ipv6",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("email-message", "from_ref.value"): "email",
    ("email-message", "sender_ref.value"): "email",
}
_HASHES: dict[str, Kind] = {"SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"}
# Text every comparison of that kind holds (no space is allowed between an object type and its colon), so a
# pattern without it is skipped unparsed when one kind is asked for.
_NEEDLES: dict[Kind, str] = {"ipv4": "ipv4-addr:", "ipv6": "ipv6-addr:", "domain": "domain-name:", "url": "url:",
                             "email": "email-", "sha256": "file:hashes", "sha1": "file:hashes", "md5": "file:hashes"}
_HASH_LENGTH = {"sha256": 64, "sha1": 40, "md5": 32}

_HEX = re.compile(r"[0-9a-f]+")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9.!$%&'*+/=?^_`{|}~-]{1,64}")


@dataclass(frozen=True)
class Value:
    kind: Kind
    value: str  # normalised; safe on a line of its own and in a CSV cell


def simple_values(pattern: str, only: Kind | None = None) -> tuple[Value, ...]:
    """The values of a pattern that is one observation of `=` comparisons joined by OR; () for any other
    pattern, and for comparisons on paths no list carries. With `only`, just the values of that kind (the
    others are not normalised at all)."""
    if only is not None and _NEEDLES[only] not in pattern:
        return ()
    found = patterns.equality_values(pattern.strip())
    if found is None:
        return ()
    values: list[Value] = []
    for otype, path, raw in found:
        kind = _kind(otype, path)
        if only is not None and kind != only:
            continue
        normalised = normalise(kind, raw) if kind else None
        if kind and normalised and Value(kind, normalised) not in values:
            values.append(Value(kind, normalised))
    return tuple(values)


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _kind(otype: str, path: str) -> Kind | None:
    if otype == "file" and path.startswith("hashes."):
        return _HASHES.get(path.removeprefix("hashes.").replace("-", "").upper())
    return _PATHS.get((otype, path))


def normalise(kind: Kind, raw: str) -> str | None:
    """The value in its canonical, list-safe form; None when it is not a valid value of that kind."""
    raw = raw.strip()
    if not raw or len(raw) > 2048:
        return None
    if kind in ("ipv4", "ipv6"):
        return _address(raw, 4 if kind == "ipv4" else 6)
    if kind == "domain":
        return _domain(raw)
    if kind == "url":
        return _url(raw)
    if kind == "email":
        return _email(raw)
    value = raw.lower()
    return value if len(value) == _HASH_LENGTH[kind] and _HEX.fullmatch(value) else None


def _address(raw: str, version: int) -> str | None:
    if version == 4 and _DOTTED_QUAD.fullmatch(raw):  # the common case, already canonical
        return raw
    try:
        network = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        return None
    if network.version != version:
        return None
    full = 32 if version == 4 else 128
    return str(network.network_address) if network.prefixlen == full else str(network)


def _domain(raw: str) -> str | None:
    name = raw.lower().rstrip(".")
    try:
        name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return name


def _email(raw: str) -> str | None:
    local, sep, domain = raw.rpartition("@")
    if not sep or not _EMAIL_LOCAL.fullmatch(local) or local.startswith(".") or local.endswith("."):
        return None
    host = _domain(domain)
    return f"{local}@{host}" if host else None


# characters left as they are in a URL's path and query; everything else is percent-encoded, so a URL line can
# never hold whitespace, a quote, a comma or a `#`
_URL_SAFE = "/:;=?&@!$'()*+-._~%[]"


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _url(raw: str) -> str | None:
    # urlsplit silently drops tabs and line breaks (as browsers do); encode them first so the value keeps them
    raw = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", raw)
    try:
        parts = urlsplit(raw if "://" in raw else "http://" + raw)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    hostname = parts.hostname
    if ":" in hostname:
        host = _address(hostname, 6)
    elif hostname.strip("0123456789."):  # a name (an IPv4 host is dotted decimal only): no address parsing
        host = _domain(hostname)
    else:
        host = _address(hostname, 4) or _domain(hostname)
    if host is None or "/" in host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    # the fragment never reaches a server, so no proxy can match on it: it is dropped
    path = quote(parts.path or "/", safe=_URL_SAFE.replace("'", ""))
    query = quote(parts.query, safe=_URL_SAFE.replace("'", "")) if parts.query else ""
    return f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def list_line(value: str, kind: Kind, dialect: str) -> str:
    """One list line (without its line break) for a normalised value, as the dialect's products expect."""
    if kind == "url" and dialect == "panos":
        return value.split("://", 1)[1]  # PAN-OS URL lists take no scheme
    return value
