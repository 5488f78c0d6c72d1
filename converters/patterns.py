"""STIX 2.1 patterns: building them from values, escaping, and validating them cheaply.

Owns the exact pattern forms of stix-mapping §1.4.5. Values only ever enter a pattern through `literal()`,
which escapes `\\` and `'` (the only two escapes the STIX grammar has), so no value can change a pattern's
structure; hypothesis checks that any string round-trips through stix2-patterns.

Validation: the ANTLR-based stix2-patterns validator costs ~250 µs per call, more than building a whole
record's objects. We run it once per distinct pattern *shape* (the pattern with every string literal blanked)
and check the values that the grammar constrains semantically (hash lengths, IP syntax) with cheap checks at
build time. Since the escaping makes literal contents irrelevant to the parse, that is as strong as running
the validator on every pattern. `validate_pattern()` runs the full validator for callers that want it.
"""

from __future__ import annotations

import ipaddress
import re
import threading

from stix2patterns.validator import run_validator

from converters.errors import PatternError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Grammar keywords: as a bare path step they would parse as operators or literals.
_KEYWORDS = frozenset({
    "and", "or", "not", "followedby", "like", "matches", "issubset", "issuperset", "last", "in", "start", "stop",
    "seconds", "true", "false", "within", "repeats", "times", "exists",
})
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'", re.DOTALL)
_HEX = {"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128}
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+\Z")

_checked_shapes: set[str] = set()
_lock = threading.Lock()


def literal(value: str) -> str:
    """A STIX pattern string literal for `value`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unescape_literal(text: str) -> str:
    """The value of a quoted STIX string literal (inverse of `literal`)."""
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        raise ValueError(f"not a string literal: {text!r}")
    return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)


def key(name: str) -> str:
    """A property-path step: bare when it is an identifier, quoted otherwise (`hashes.'SHA-256'`)."""
    return name if _IDENTIFIER.match(name) and name.lower() not in _KEYWORDS else literal(name)


def equals(path: str, value: str) -> str:
    return f"{path} = {literal(value)}"


def observation(*comparisons: str, joiner: str = "OR") -> str:
    return "[" + f" {joiner} ".join(comparisons) + "]"


# ------------------------------------------------------------------------------------------------ builders


def sender(address: str) -> str:
    return _checked(observation(equals("email-message:from_ref.value", address)))


def email_address(address: str) -> str:
    """Any address object (a Reply-To candidate), not only the From of a message."""
    return _checked(observation(equals("email-addr:value", address)))


def file_hashes(hashes: dict[str, str]) -> str:
    """`[file:hashes.'SHA-256' = … OR file:hashes.MD5 = … OR file:hashes.'SHA-1' = …]` (SHA-256 first)."""
    ordered = [name for name in ("SHA-256", "MD5", "SHA-1", "SHA-512") if name in hashes]
    if not ordered:
        raise PatternError("pattern", "file:hashes", "no hash to build a pattern from")
    for name in ordered:
        _check_hash(name, hashes[name])
    return _checked(observation(*(equals(f"file:hashes.{key(name)}", hashes[name]) for name in ordered)))


def domain(value: str) -> str:
    return _checked(observation(equals("domain-name:value", value)))


def url(value: str) -> str:
    return _checked(observation(equals("url:value", value)))


def ipv4(value: str) -> str:
    _check_ip(value, 4)
    return _checked(observation(equals("ipv4-addr:value", value)))


def ipv6(value: str) -> str:
    _check_ip(value, 6)
    return _checked(observation(equals("ipv6-addr:value", value)))


def conversation_sequence(address: str, within_seconds: int) -> str:
    """Attachment-free mail followed by mail with an attachment from the same sender (stix-mapping §1.4.5)."""
    first = observation(
        equals("email-message:from_ref.value", address), "email-message:is_multipart = false", joiner="AND"
    )
    second = observation(
        equals("email-message:from_ref.value", address),
        "email-message:body_multipart[*].content_disposition LIKE 'attachment%'",
        joiner="AND",
    )
    return _checked(f"{first} FOLLOWEDBY {second} WITHIN {int(within_seconds)} SECONDS")


def recon_burst(address: str, count: int, within_seconds: int) -> str:
    """The same sender's reconnaissance mail, `count` copies within a short window."""
    base = observation(equals("email-message:from_ref.value", address))
    return _checked(f"{base} REPEATS {int(count)} TIMES WITHIN {int(within_seconds)} SECONDS")


# ---------------------------------------------------------------------------------------------- validation


def validate_pattern(pattern: str) -> list[str]:
    """Full stix2-patterns validation (STIX 2.1); the list of error texts, empty when valid."""
    return [str(error) for error in run_validator(pattern, stix_version="2.1")]


def _checked(pattern: str) -> str:
    shape = _LITERAL.sub("''", pattern)
    if shape in _checked_shapes:
        return pattern
    errors = validate_pattern(pattern)
    if errors:
        raise PatternError("pattern", pattern[:200], "; ".join(errors))
    with _lock:
        _checked_shapes.add(shape)
    return pattern


def _check_hash(name: str, value: str) -> None:
    length = _HEX.get(name)
    if length is not None and (len(value) != length or not _HEX_DIGITS.match(value)):
        raise PatternError("pattern", f"file:hashes.{name}", f"{value!r} is not a valid {name} hash")


def _check_ip(value: str, version: int) -> None:
    try:
        parsed = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise PatternError("pattern", f"ipv{version}-addr:value", f"{value!r} is not an IP address") from exc
    if parsed.version != version:
        raise PatternError("pattern", f"ipv{version}-addr:value", f"{value!r} is not an IPv{version} address")
