"""What in a record identifies the reporting member, and how to keep it out of STIX.

Owns the rules of incident-record.md "What is sensitive" and stix-mapping §4.3: victim addresses and domains,
victim Message-IDs (and `In-Reply-To`/`References` values quoting them), the member's own `Received` hops,
recipient-side headers, quoted victim text in attacker bodies. `sensitive_values()` lists the literal values
a leak check can search a bundle for.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from converters.record import Message, Record

REDACTED = "[redacted]"

# Recipient-side headers: they name the member's mailboxes or hosts.
RECIPIENT_HEADERS = frozenset(
    {
        "to",
        "cc",
        "bcc",
        "delivered-to",
        "x-original-to",
        "envelope-to",
        "x-envelope-to",
        "x-forwarded-to",
        "x-rcpt-to",
        "apparently-to",
        "resent-to",
        "resent-cc",
        "resent-bcc",
        "resent-from",
        "resent-sender",
        "resent-date",
        "resent-message-id",
        "received-spf",
        "list-unsubscribe",
        "x-hub-reconstructed",
        "x-received",
        "received",
        "authentication-results",
        "arc-authentication-results",
        "x-ms-exchange-organization-authas",
        "return-receipt-to",
        "disposition-notification-to",
    }
)

_BY_CLAUSE = re.compile(r"\bby\s+(\S+)", re.IGNORECASE)
_BRACKETED_IP = re.compile(r"\[([0-9A-Fa-f:.]+)\]")
_QUOTE_START = re.compile(
    r"^\s*(-{2,}\s*(original message|forwarded message|元のメッセージ|転送メッセージ)"
    r"|on .{1,200} wrote:\s*$|.{1,200}(さんは|様は)書きました[:：]?\s*$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VictimFacts:
    addresses: frozenset[str]
    domains: frozenset[str]
    message_ids: frozenset[str]


def victim_facts(record: Record, freemail_domains: frozenset[str] = frozenset()) -> VictimFacts:
    """Addresses, mail domains and Message-IDs of the targeted member found anywhere in the record."""
    addresses: set[str] = set()
    attacker_ids = {m.message_id for m in record.messages if m.attacker_authored and m.message_id}
    message_ids: set[str] = set()
    for message in record.messages:
        if message.attacker_authored:
            addresses.update(a.address for a in (*message.to, *message.cc))
            for name in ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to"):
                addresses.update(_header_values(message, name))
            # The reporter's envelope (who forwarded the report to the hub, and to whom): member facts.
            for name in ("resent-from", "resent-to", "resent-cc", "resent-sender"):
                addresses.update(_addresses_in(_header_values(message, name)))
            quoted = [
                message.in_reply_to,
                *_header_values(message, "references"),
                *_header_values(message, "in-reply-to"),
            ]
            message_ids.update(value for value in quoted if value and value not in attacker_ids)
        elif message.from_ is not None:
            addresses.add(message.from_.address)
            addresses.update(a.address for a in message.cc)
            if message.message_id:
                message_ids.add(message.message_id)
    addresses = {a.strip() for a in addresses if a.strip()}
    domains = {a.rsplit("@", 1)[1].lower() for a in addresses if "@" in a} - freemail_domains
    return VictimFacts(frozenset(addresses), frozenset(domains), frozenset(message_ids))


_ADDRESS = re.compile(r"[^\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9.-]{1,253}")


def _addresses_in(values: Iterable[str]) -> list[str]:
    return [match.group(0).strip(".") for value in values for match in _ADDRESS.finditer(value)]


def envelope_names(record: Record) -> set[str]:
    """Display names in the reporter's envelope (the staff who forwarded the report): never published."""
    names: set[str] = set()
    for message in record.messages:
        for value in _header_values(message, "resent-from"):
            name = value.split("<", 1)[0].strip().strip('"').strip()
            if name and "@" not in name and len(name) >= 3:
                names.add(name)
    return names


def _header_values(message: Message, name: str) -> list[str]:
    out: list[str] = []
    for key, value in message.headers.items():
        if key.lower() == name:
            values = [value] if isinstance(value, str) else list(value)
            for item in values:
                out.extend(item.split() if name == "references" else [item.strip()])
    return out


def split_received(received: Iterable[str], victim: VictimFacts) -> tuple[list[str], list[str]]:
    """Split `Received` lines (newest first) into (member-side hops, sender-side hops).

    Every hop from the oldest one that names a victim domain or a private address upwards happened inside the
    member's network. Without any victim domain to recognise them by, all hops count as member-side.
    """
    hops = list(received)
    if not victim.domains:
        return hops, []
    last_internal = -1
    for index, hop in enumerate(hops):
        if _is_internal(hop, victim.domains):
            last_internal = index
    return hops[: last_internal + 1], hops[last_internal + 1 :]


def _is_internal(hop: str, domains: frozenset[str]) -> bool:
    lowered = hop.lower()
    if any(domain in lowered for domain in domains):
        return True
    by = _BY_CLAUSE.search(hop)
    if by and by.group(1).lower().startswith("localhost"):
        return True
    for candidate in _BRACKETED_IP.findall(by.group(0) if by else ""):
        if _private(candidate):
            return True
    return False


_INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


def _private(text: str) -> bool:
    """An address that only exists inside an organisation (RFC 1918, loopback, link-local, ULA, CGN)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in _INTERNAL_NETWORKS if network.version == address.version)


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})"
_FROM_IPV4 = re.compile(rf"(?<![0-9.])({_OCTET}(?:\.{_OCTET}){{3}})(?![0-9.])")
_FROM_IPV6 = re.compile(r"[\[(](?:IPv6:)?([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::[0-9.]+)?)[\])]")
_NOT_ROUTED = tuple(
    ipaddress.ip_network(n) for n in ("0.0.0.0/8", "224.0.0.0/3", "::/128", "ff00::/8", "255.255.255.255/32")
)


def hop_client_ips(hop: str) -> list[str]:
    """The client addresses a `Received:` line names in its `from` clause, in every common form: bracketed
    (`[192.0.2.1]`), Microsoft's parenthesised `(192.0.2.1)`, Google's `(host. [192.0.2.1])`, `[IPv6:…]`."""
    lowered = hop.lower()
    by_at = lowered.find(" by ")
    from_part = hop[:by_at] if by_at >= 0 else hop
    found = [m.group(1) for m in _FROM_IPV6.finditer(from_part)] + [m.group(1) for m in _FROM_IPV4.finditer(from_part)]
    out: list[str] = []
    for candidate in found:
        try:
            out.append(str(ipaddress.ip_address(candidate)))
        except ValueError:
            continue
    return out


def routable(address: str) -> bool:
    """Not private, loopback, link-local, CGN, multicast or unspecified (documentation ranges stay: the
    project's samples use them for made-up attacker addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if _private(address):
        return False
    return not any(ip in n for n in _NOT_ROUTED if n.version == ip.version)


def originating_ip(received: Iterable[str], member_domains: Iterable[str] = ()) -> str | None:
    """Where the sender's mail entered the Internet: walking the sender-side `Received:` lines from the oldest,
    the first client address that is routable and not one of the member's own relays (a hop naming a
    member domain)."""
    domains = [d.lower() for d in member_domains if d]
    for hop in reversed(list(received)):
        lowered = hop.lower()
        by_at = lowered.find(" by ")
        from_part = lowered[:by_at] if by_at >= 0 else lowered
        if any(domain in from_part for domain in domains):
            continue
        for candidate in hop_client_ips(hop):
            if routable(candidate):
                return candidate
    return None


def scrub_text(text: str, victim: VictimFacts) -> str:
    """Attacker text without quoted victim text, and with victim addresses and domains replaced."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_START.match(line):
            break
        if line.lstrip().startswith((">", "＞")):
            continue
        kept.append(line)
    return redact("\n".join(kept).strip("\n"), victim)


def redact(text: str, victim: VictimFacts) -> str:
    """Victim addresses, Message-IDs and domains replaced, as whole tokens only: a victim domain `pot` never
    eats into "Potential", but `mail.pot` and `taro@pot` are caught."""
    lowered = text.lower()
    for value in sorted((*victim.addresses, *victim.message_ids, *victim.domains), key=len, reverse=True):
        if value and value.lower() in lowered:
            text = _token(value).sub(REDACTED, text)
            lowered = text.lower()
    return text


def _token(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![0-9A-Za-z_])" + re.escape(value) + r"(?![0-9A-Za-z_])", re.IGNORECASE)


def sensitive_values(record: Record) -> set[str]:
    """Literal values that must never appear in published STIX: the reporter id, victim addresses, victim
    Message-IDs and the member's own Received hops (for a leak check over a serialized bundle)."""
    victim = victim_facts(record)
    values: set[str] = set(victim.addresses) | set(victim.message_ids) | envelope_names(record)
    if record.reporter:
        values.add(record.reporter)
    for message in record.messages:
        internal, _ = split_received(message.received, victim)
        values.update(hop for hop in internal if hop.strip())
    return {value for value in values if value}
