"""The one URL normaliser: whatever a mail shows as a link becomes a strict RFC 3986 URL, or a warning.

Owns: entity decoding (`&amp;`), whitespace and line breaks inside an `href`, bracket, quote and Markdown
wrappers, protocol-relative `//host/…` links, IDN hosts (punycode in the value used for patterns and SCOs,
the Unicode form kept for names), percent-encoding of what RFC 3986 does not allow, refusal of template
placeholders that are not hosts (`https://[body_domain]/…`, `{{domain}}`), and replacing recipient
identifiers inside a URL by a reserved placeholder address. Never raises on input text: a URL that cannot be
made valid is returned as a `Refused` with the reason. Pure functions, no network.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MAX_URL_LENGTH = 8192
# What the recipient's identifiers become inside a URL: reserved names (RFC 2606), so the link still works
# for analysis and reveals nothing.
PLACEHOLDER_ADDRESS = "recipient@example.invalid"
PLACEHOLDER_LOCAL = "recipient"

_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_WHITESPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_TRAILING = ".,;:!?'\"、。）」』】>*_"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_SCHEME = re.compile(r"(?i)^(https?|ftp)://")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_PLACEHOLDER = re.compile(r"[\[\]{}<>%$|*]|^_|_$")
# Characters RFC 3986 allows unencoded in path, query and fragment ('%' only as the start of an escape).
_ALLOWED = "-._~!$&'()*+,;=:@/?"
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class Url:
    value: str  # strict RFC 3986, ASCII (punycode host): what patterns and url SCOs carry
    display: str  # the host in Unicode, for names shown to people
    host: str  # the host as in `value` (punycode, lower case) or an IP literal without brackets


@dataclass(frozen=True)
class Refused:
    raw: str
    reason: str


def normalise(raw: str) -> Url | Refused:
    """One URL as found in a mail -> a valid URL, or why it cannot be one."""
    text = _unwrap(_WHITESPACE.sub("", decode_entities(raw)))
    if text.startswith("//"):
        text = "https:" + text  # protocol-relative: a mail client opens it over the web
    if not _SCHEME.match(text):
        return Refused(raw[:200], "not an http(s) or ftp URL")
    if len(text) > MAX_URL_LENGTH:
        return Refused(raw[:200], f"longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
        hostname = parts.hostname or ""
    except ValueError as exc:
        return Refused(raw[:200], f"not a URL ({exc})")
    netloc_host = parts.netloc.rpartition("@")[2]
    if _PLACEHOLDER.search(netloc_host.split(":")[0] if not netloc_host.startswith("[") else ""):
        return Refused(raw[:200], f"host {netloc_host[:80]!r} is a template placeholder, not a host")
    host, display = _host(hostname)
    if not host:
        return Refused(raw[:200], f"host {hostname[:80]!r} is not a valid host name")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        default = {"http": 80, "https": 443, "ftp": 21}[parts.scheme.lower()]
        if port != default:
            netloc += f":{port}"
    path = _encode(parts.path) or "/"
    query = _encode(parts.query)
    fragment = _encode(parts.fragment.replace("#", "%23"))
    value = urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))
    if parts.query == "" and text.endswith("?"):
        value += "?"
    display_netloc = netloc.replace(host, display, 1) if display != host else netloc
    return Url(value=value, display=value.replace(netloc, display_netloc, 1), host=host)


def decode_entities(text: str) -> str:
    """Only the HTML character references a link can carry with a terminating `;` (`&copy=1` stays)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _ENTITIES:
            return _ENTITIES[name]
        code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
        return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _ENTITY.sub(one, text)


def _unwrap(text: str) -> str:
    """Strip quotes, angle brackets and trailing punctuation; keep a closing bracket the URL itself opened."""
    text = text.strip("\"'`<>«»“”‘’")
    if text.startswith(("(", "[", "{")):
        text = text[1:]
    while text:
        last = text[-1]
        if last in _CLOSERS and text.count(_CLOSERS[last]) < text.count(last):
            text = text[:-1]
        elif last in _TRAILING:
            text = text[:-1]
        else:
            break
    return text


def _host(hostname: str) -> tuple[str, str]:
    """(ASCII host, Unicode display) or ('', '') when it is not a valid DNS name or IP literal."""
    name = hostname.strip().rstrip(".").lower()
    if not name:
        return "", ""
    try:
        return str(ipaddress.ip_address(name)), name
    except ValueError:
        pass
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return "", ""
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return "", ""
    try:
        display = ascii_name.encode("ascii").decode("idna") if "xn--" in ascii_name else ascii_name
    except UnicodeError:
        display = ascii_name
    return ascii_name, display


def _encode(part: str) -> str:
    """Percent-encode what RFC 3986 does not allow, leaving existing escapes alone."""
    return quote(_PCT.sub("%25", part), safe=_ALLOWED + "%")


# ------------------------------------------------------------------------------------ recipient identifiers


def recipient_forms(addresses: Iterable[str]) -> list[tuple[str, str]]:
    """(form as it may appear in a URL, its replacement) for each recipient address: the address itself,
    URL-encoded and base64-encoded, and its local part when that is distinctive (4+ characters)."""
    forms: dict[str, str] = {}
    for address in addresses:
        address = address.strip()
        if "@" not in address:
            continue
        local = address.rpartition("@")[0]
        forms[address] = PLACEHOLDER_ADDRESS
        forms[quote(address, safe="")] = quote(PLACEHOLDER_ADDRESS, safe="")
        for encoder in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encoder(address.encode("utf-8")).decode("ascii")
            placeholder = encoder(PLACEHOLDER_ADDRESS.encode("ascii")).decode("ascii")
            forms[encoded] = placeholder
            forms[encoded.rstrip("=")] = placeholder.rstrip("=")
        if len(local) >= 4:
            forms[local] = PLACEHOLDER_LOCAL
    return sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)


def without_recipients(url: str, forms: list[tuple[str, str]]) -> str:
    """The URL with every recipient identifier (case-insensitive, whole tokens) replaced by a placeholder."""
    if not forms:
        return url
    parts = urlsplit(url)
    tail = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    lowered = unquote(tail).lower()
    if not any(form.lower() in lowered or form.lower() in tail.lower() for form, _ in forms):
        return url
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")) + replace_forms(tail, forms)


def replace_forms(text: str, forms: list[tuple[str, str]]) -> str:
    """`text` with each recipient form replaced, case-insensitively and as a whole token."""
    lowered = text.lower()
    for form, replacement in forms:
        if form.lower() not in lowered:
            continue
        pattern = re.compile(r"(?<![A-Za-z0-9])" + re.escape(form) + r"(?![A-Za-z0-9])", re.IGNORECASE)
        text = pattern.sub(replacement.replace("\\", "\\\\"), text)
        lowered = text.lower()
    return text
