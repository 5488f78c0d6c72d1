"""Who sent a mail, read liberally, and whether the receiving side believed it.

Owns: the sender from any `From:` a mail client would display (the angle-bracket address when there is one,
else the one addr-spec that parses; display names with commas, quoted addr-specs, encoded-words and raw UTF-8
(RFC 6532) included), the `Reply-To:` address, and the receiving side's authentication verdict on the From
domain (`Authentication-Results` DMARC/SPF/DKIM, Microsoft's `compauth`, `Received-SPF`). Several different
addresses or none give no sender and a note, never an exception. Pure functions over header text.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from converters.record import Address

_ANGLE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_BARE = re.compile(r"(?<![\w.+%-])([\w.+%'!#$&*/=?^`{|}~-]{1,64}@[\w-]+(?:\.[\w-]+)+)", re.UNICODE)
_LOCAL = re.compile(r"[^@\s<>()\[\],;:\"\\]{1,64}\Z")
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\Z")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# STIX email-addr values as stix2-validator accepts them (its EMAIL_RE): anything else stays text.
_STIX_ADDRESS = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+\Z")
_RESULT = re.compile(r"\b(dmarc|spf|dkim|compauth)\s*=\s*([a-z]+)", re.IGNORECASE)
_HEADER_FROM = re.compile(r"header\.(?:from|d)\s*=\s*([^\s;]+)", re.IGNORECASE)
_MAILFROM = re.compile(r"smtp\.mailfrom\s*=\s*(?:[^\s;@]*@)?([^\s;]+)", re.IGNORECASE)
_SPF_VERDICT = re.compile(r"^\s*(fail|softfail|pass|neutral|none|temperror|permerror)\b", re.IGNORECASE)
_ENVELOPE_FROM = re.compile(r"envelope-from\s*=\s*\"?(?:[^\s;@\"]*@)?([^\s;\"]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Sender:
    address: Address | None
    note: str | None = None  # why there is no usable sender, or what was guessed


def clean(text: str) -> str:
    """Text without lone surrogates (they break UTF-8 and canonical JSON)."""
    return _SURROGATE.sub("\ufffd", text)


def parse_from(values: Sequence[str], decode: Callable[[str], str]) -> Sender:
    """The sender of a mail from its `From:` header(s). `decode` turns header text into Unicode (RFC 2047 and
    raw 8-bit); it is applied to the display name only, after the address was found in the raw text."""
    raw = " ".join(" ".join(v.split()) for v in values)
    if not raw.strip():
        return Sender(None, "From: missing or empty; no sender indicator")
    angle = _unique(m.group(1) for m in _ANGLE.finditer(raw))
    if len(angle) == 1:
        address = angle[0]
        display = raw[: raw.find("<")].strip().strip(",")
    elif len(angle) > 1:
        return Sender(None, f"From: {len(angle)} different addresses; no sender indicator")
    else:
        parsed = _unique(a for _, a in email.utils.getaddresses([raw]) if a and "@" in a)
        bare = _unique(m.group(1) for m in _BARE.finditer(raw))
        candidates = parsed if len(parsed) == 1 else bare
        if len(candidates) != 1:
            what = "no address" if not candidates else f"{len(candidates)} different addresses"
            return Sender(None, f"From: {what}; no sender indicator")
        address = candidates[0]
        display = raw.replace(address, "").strip().strip("<>\",() ")
    normalised = normalise_address(address)
    if normalised is None:
        return Sender(None, f"From: {clean(address)[:80]!r} is not a usable address; no sender indicator")
    name = clean(decode(_unquote(display)))[:256].strip() or None
    return Sender(Address(normalised, name))


def parse_address(values: Sequence[str]) -> str | None:
    """The one address of a header such as `Reply-To:`, or None."""
    raw = " ".join(values)
    found = _unique(m.group(1) for m in _ANGLE.finditer(raw)) or _unique(m.group(1) for m in _BARE.finditer(raw))
    if len(found) != 1:
        return None
    return normalise_address(found[0])


def normalise_address(address: str) -> str | None:
    """`local@domain` with the domain in lower-case punycode; None when it is not an address."""
    address = clean(address).strip().strip(".")
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL.match(local):
        return None
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if len(domain) > 253 or not _DOMAIN.match(domain):
        return None
    return f"{local}@{domain}"


def stix_address(address: str) -> bool:
    """Whether STIX validators accept this as an `email-addr` value (else it is kept as text)."""
    return bool(_STIX_ADDRESS.match(address))


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _unique(values: Iterable[str]) -> list[str]:
    """Distinct addresses (compared case-insensitively), first spelling kept."""
    seen: dict[str, str] = {}
    for value in values:
        text = value.strip().strip(".")
        seen.setdefault(text.lower(), text)
    return list(seen.values())


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text.strip()


# ------------------------------------------------------------------------------------------ authentication


def spoofing_verdict(headers: Mapping[str, str | tuple[str, ...]], from_domain: str) -> str | None:
    """Why the receiving side did not authenticate the From domain (`dmarc=fail`, …), or None.

    Only the topmost `Authentication-Results` counts: it is the one the member's own server added (lower ones
    may be forged by the sender). SPF speaks about the envelope sender, so it counts only when that is the
    From domain (or a sub-domain of it) and DKIM did not pass.
    """
    results = _values(headers, "authentication-results")
    if results:
        top = results[0]
        verdicts = {name.lower(): value.lower() for name, value in _RESULT.findall(top)}
        if verdicts.get("dmarc") == "fail":
            return "dmarc=fail"
        if verdicts.get("compauth") == "fail":
            return "compauth=fail"
        mailfrom = _MAILFROM.search(top)
        if (
            verdicts.get("spf") in ("fail", "softfail")
            and verdicts.get("dkim") != "pass"
            and mailfrom
            and _same_site(mailfrom.group(1), from_domain)
        ):
            return f"spf={verdicts['spf']}"
        if "dmarc" in verdicts or "spf" in verdicts:
            return None
    for value in _values(headers, "received-spf")[:1]:
        verdict = _SPF_VERDICT.match(value)
        envelope = _ENVELOPE_FROM.search(value)
        if verdict and verdict.group(1).lower() in ("fail", "softfail") and envelope:
            if _same_site(envelope.group(1), from_domain):
                return f"Received-SPF: {verdict.group(1).lower()}"
    return None


def _same_site(domain: str, from_domain: str) -> bool:
    domain = domain.strip().strip(".>").lower()
    return bool(from_domain) and (domain == from_domain or domain.endswith("." + from_domain))


def _values(headers: Mapping[str, str | tuple[str, ...]], name: str) -> list[str]:
    for key, value in headers.items():
        if key.lower() == name:
            return [value] if isinstance(value, str) else list(value)
    return []
