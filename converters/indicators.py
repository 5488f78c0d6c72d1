"""Indicator SDOs (stix-mapping §1.4.5): exact patterns, validity windows, types, names and descriptions.

Owns the policy of what becomes an indicator: attacker sender addresses, attachment and archive-member hashes,
C2 domains/IPs/URLs, malicious URLs in mail, and the behaviour patterns of a conversation-type thread. Never a
domain indicator for a free-mail provider; compromised legitimate sites are `compromised` with a short
`valid_until`; IPs always expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from converters import patterns
from converters.graph import Graph
from converters.record import C2, format_time

# Validity windows (from the time the observable was seen).
IP_VALIDITY = timedelta(days=180)
COMPROMISED_IP_VALIDITY = timedelta(days=30)
COMPROMISED_SITE_VALIDITY = timedelta(days=90)


@dataclass(frozen=True)
class IndicatorSpec:
    pattern: str
    name: str
    description: str
    types: tuple[str, ...]
    confidence: int
    valid_until: timedelta | None = None


def add(graph: Graph, spec: IndicatorSpec, level: str, seen: datetime) -> str:
    valid_from = format_time(seen)
    valid_until = format_time(seen + spec.valid_until) if spec.valid_until else None
    return graph.sdo(
        "indicator",
        {"pattern_type": "stix", "pattern": spec.pattern.strip(), "generation": 0},
        level,
        text=(spec.name, spec.description),
        name=spec.name,
        description=spec.description,
        indicator_types=list(spec.types),
        pattern=spec.pattern,
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=valid_from,
        valid_until=valid_until,
        confidence=spec.confidence,
    )


def sender(address: str, freemail: bool, roles: list[str], reconstructed: bool = False) -> IndicatorSpec:
    account = "free-mail account" if freemail else "address"
    seen = " Read from an inline forward (reconstructed, not the original headers)." if reconstructed else ""
    return IndicatorSpec(
        pattern=patterns.sender(address),
        name=f"Targeted-email sender {address}",
        description=(
            f"From address ({account}) of {len(roles)} attacker message(s) in a reported "
            f"targeted-email thread: {', '.join(roles)}. The receiving side did not report it spoofed.{seen}"
        ),
        types=("malicious-activity",),
        confidence=60 if reconstructed else 85,
    )


def reply_to(address: str, step: str) -> IndicatorSpec:
    return IndicatorSpec(
        pattern=patterns.email_address(address),
        name=f"Reply-To address {address}",
        description=(
            f"Reply-To of message {step} in a reported targeted-email thread, on another domain than its From: "
            "where the sender wants the answers to go (candidate; the From may be spoofed)."
        ),
        types=("malicious-activity",),
        confidence=60,
    )


def file(name: str, hashes: dict[str, str], what: str) -> IndicatorSpec:
    return IndicatorSpec(
        pattern=patterns.file_hashes(hashes),
        name=f"Malicious file {name} ({_short_hash(hashes)})",
        description=f"{what} Any of the listed hashes identifies the file.",
        types=("malicious-activity",),
        confidence=90,
    )


def c2_specs(c2: C2, freemail_domains: frozenset[str]) -> list[tuple[str, IndicatorSpec]]:
    """(kind, spec) for the domain, IPs and URL of one C2 entry."""
    compromised = c2.compromised_site
    where = "compromised legitimate website used as C2" if compromised else "C2 server"
    types = ("compromised",) if compromised else ("malicious-activity",)
    out: list[tuple[str, IndicatorSpec]] = []
    if c2.domain and c2.domain.lower() not in freemail_domains:
        out.append(
            (
                "domain",
                IndicatorSpec(
                    pattern=patterns.domain(c2.domain),
                    name=f"C2 domain {c2.domain}" + (" (compromised site)" if compromised else ""),
                    description=(
                        f"Domain of a {where}, contacted by malware delivered in a targeted email."
                        + (" Legitimate site: alert rather than block." if compromised else "")
                    ),
                    types=types,
                    confidence=60 if compromised else 85,
                    valid_until=COMPROMISED_SITE_VALIDITY if compromised else None,
                ),
            )
        )
    for kind, value, build in (("ipv4", c2.ipv4, patterns.ipv4), ("ipv6", c2.ipv6, patterns.ipv6)):
        if value:
            out.append(
                (
                    kind,
                    IndicatorSpec(
                        pattern=build(value),
                        name=f"C2 IP address {value}" + (" (compromised site)" if compromised else ""),
                        description=(
                            f"Address of a {where}"
                            + (f" ({c2.domain})" if c2.domain else "")
                            + ". May be shared hosting; IP indicators expire."
                        ),
                        types=types,
                        confidence=40 if compromised else 75,
                        valid_until=COMPROMISED_IP_VALIDITY if compromised else IP_VALIDITY,
                    ),
                )
            )
    if c2.url:
        out.append(
            (
                "url",
                IndicatorSpec(
                    pattern=patterns.url(c2.url),
                    name=f"C2 URL {c2.url}",
                    description=f"Exact C2 URL on a {where}; preferred over blocking the whole host.",
                    types=("malicious-activity", "compromised") if compromised else ("malicious-activity",),
                    confidence=90,
                    valid_until=COMPROMISED_SITE_VALIDITY if compromised else None,
                ),
            )
        )
    return out


def mail_url(
    value: str, role: str, where: list[str], shown_hosts: list[str], reconstructed: bool = False
) -> IndicatorSpec:
    kind = "reconnaissance" if role == "recon" else "attack"
    text = f"Link in a targeted {kind} email: {'; '.join(dict.fromkeys(where))}."
    if shown_hosts:
        text += (
            f" Its visible text shows {', '.join(dict.fromkeys(shown_hosts))}, a different site than the "
            "link's target (a strong phishing signal)."
        )
    if reconstructed:
        text += " Read from an inline forward (reconstructed)."
    return IndicatorSpec(
        pattern=patterns.url(value),
        name=f"Malicious URL {value}",
        description=text,
        types=("malicious-activity",),
        confidence=60 if reconstructed else (90 if shown_hosts else 80),
    )


def conversation_sequence(address: str, within_seconds: int) -> IndicatorSpec:
    return IndicatorSpec(
        pattern=patterns.conversation_sequence(address, within_seconds),
        name=f"Conversation-type sequence from {address}",
        description=(
            "Behaviour pattern: attachment-free mail followed by mail with an attachment from the same "
            "sender. Needs a pattern engine that supports FOLLOWEDBY/WITHIN; publish the sender "
            "indicator as well."
        ),
        types=("attribution",),
        confidence=50,
    )


def recon_burst(address: str, count: int, within_seconds: int) -> IndicatorSpec:
    return IndicatorSpec(
        pattern=patterns.recon_burst(address, count, within_seconds),
        name=f"Reconnaissance burst from {address}",
        description=f"The same reconnaissance mail sent {count} times within {within_seconds} seconds.",
        types=("attribution",),
        confidence=50,
    )


def _short_hash(hashes: dict[str, str]) -> str:
    for algorithm in ("SHA-256", "SHA-1", "MD5"):
        if algorithm in hashes:
            return f"{algorithm} {hashes[algorithm][:12]}"
    return "no hash"
