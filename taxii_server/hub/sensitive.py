"""What the leak check protects: values that would tell a member who reported or who was attacked.

Each value carries its kind (a finding names the kind, never the value). Sources:
- the organisation register: every non-hub organisation's id, name (also without a parenthesised note or a
  legal suffix), aliases and mail domains;
- the reports behind a publication (incident records): recipient addresses, their local parts and display
  names, the member's own Message-IDs, host names and addresses of member-side `Received` hops, the
  `X-Originating-*` values of the member's own replies, forwarding headers, record ids and submission ids;
- a STIX submission: addresses (and their display names) that its email messages were sent to, email
  addresses and identities it links as `targets`, Message-IDs of mail those addresses sent, `received_lines`.

Short values would refuse every text that happens to contain the same word, so each kind has a minimum
length (counted in letters and digits, ignoring separators): 3 for what an administrator registers on purpose
(ids, aliases), 4 for what is harvested from reports; a value written in a script without spaces (Japanese
names) needs 2 letters. A record id counts only when it has a digit. Generic role mailboxes (`info`,
`sales`, `soc`, …) are protected as whole addresses only, never as a bare local part.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from converters import Record
from converters.anonymisation import VictimFacts, envelope_names, split_received, victim_facts

from ..model import Organisation
from .textforms import Needle, tokens

MEMBER_ID = "a member organisation's id"
MEMBER_NAME = "a member organisation's name"
MEMBER_ALIAS = "a member organisation's alias"
MEMBER_DOMAIN = "a member's mail domain"
RECIPIENT = "a recipient address"
LOCAL_PART = "a recipient address's local part"
DISPLAY_NAME = "a recipient's display name"
TARGET_NAME = "the name of a targeted identity"
HOST = "an internal host name"
PRIVATE_ADDRESS = "a private network address"
MEMBER_ADDRESS = "an address of a member's mail server or client"
MESSAGE_ID = "a Message-ID of a member's mail"
RECORD_ID = "a report's record id"
ENVELOPE = "the reporter's forwarding address"

REGISTERED = frozenset({MEMBER_ID, MEMBER_ALIAS})
STRICT = frozenset({PRIVATE_ADDRESS, MEMBER_ADDRESS})  # separators matter in IP addresses

# RFC 2142 and common role mailboxes: a bare one says nothing about who was attacked.
ROLE_MAILBOXES = frozenset({
    "abuse", "admin", "administrator", "contact", "contactus", "customer", "enquiry", "help", "helpdesk",
    "hostmaster", "hr", "info", "inquiry", "it", "mail", "marketing", "news", "noc", "noreply", "office",
    "postmaster", "press", "privacy", "sales", "security", "service", "soc", "support", "usenet", "uucp",
    "webmaster", "www",
})
_LEGAL_SUFFIXES = re.compile(
    r"(?i)[\s,]*(co\.?,?\s*ltd\.?|ltd\.?|inc\.?|corp\.?|corporation|k\.?k\.?|plc|gmbh|llc|s\.a\.|"
    r"株式会社|有限会社|\(株\)|（株）)$")
_LEGAL_PREFIX = re.compile(r"^(株式会社|有限会社|\(株\)|（株）)\s*")
_HOST = re.compile(r"(?<![\w.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*")
# Address literals inside any text: every dotted quad not glued to other digits (overlapping, so letters or a
# dot around it never hide it: "da192.168.7.7", "10.20.30.40.php"), and every run of hex digits, colons and dots
# with two colons or more (IPv6, including the IPv4-embedding forms).
_IPV4_LITERAL = re.compile(r"(?=(?<![0-9])([0-9]{1,3}(?:\.[0-9]{1,3}){3})(?![0-9]))")
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
_RECEIVED_HEADERS = ("received", "x-received")
_ORIGINATING = ("x-originating-ip", "x-originating-email", "x-sender-ip", "x-client-ip", "x-ms-exchange-"
                "organization-originalclientipaddress")
_ENVELOPE_HEADERS = ("resent-from", "resent-sender", "x-forwarded-by", "x-reported-by", "x-original-sender")


@dataclass(frozen=True)
class Sensitive:
    value: str
    kind: str

    def needle(self) -> Needle | None:
        """How the matcher looks for it; None when the value is too short to look for safely."""
        parts = tokens(self.value)
        squashed = "".join(parts)
        unspaced = any(len(p) == 1 and not p.isascii() for p in parts)
        minimum = 2 if unspaced else 3 if self.kind in REGISTERED else 4
        if len(squashed) < minimum:
            return None
        if self.kind == LOCAL_PART and squashed in ROLE_MAILBOXES:
            return None
        if self.kind == RECORD_ID and not any(c.isdigit() for c in squashed):
            return None  # ids are numbered; a word-only id ("TLP-amber") would match ordinary text
        return Needle.of(self.value, strict=self.kind in STRICT)


def from_register(organisations: Iterable[Organisation]) -> set[Sensitive]:
    """Ids, names, aliases and mail domains of every organisation that is not the hub itself."""
    found: set[Sensitive] = set()
    for org in organisations:
        if "analyst" in org.roles or "admin" in org.roles:
            continue
        found.add(Sensitive(org.id, MEMBER_ID))
        for name in _name_variants(org.name):
            found.add(Sensitive(name, MEMBER_NAME))
        found |= {Sensitive(alias, MEMBER_ALIAS) for alias in org.aliases if alias.strip()}
        found |= {Sensitive(domain, MEMBER_DOMAIN) for domain in org.domains if domain.strip()}
        found.add(Sensitive(org.identity_id, MEMBER_ID))
    return found


def _name_variants(name: str) -> set[str]:
    variants = {name.strip()}
    bare = re.sub(r"\s*[(（][^()（）]*[)）]\s*", " ", name).strip()
    variants.add(bare)
    variants.add(_LEGAL_PREFIX.sub("", _LEGAL_SUFFIXES.sub("", bare)).strip())
    return {v for v in variants if v}


def from_record(record: Record, freemail_domains: frozenset[str] = frozenset()) -> set[Sensitive]:
    """Everything in one incident record that points at the reporting member or the people attacked."""
    facts = victim_facts(record, freemail_domains)
    found: set[Sensitive] = {Sensitive(record.id, RECORD_ID)}
    if record.reporter:
        found.add(Sensitive(record.reporter, MEMBER_ID))
    found |= _addresses(facts.addresses, freemail_domains)
    found |= {Sensitive(d, MEMBER_DOMAIN) for d in facts.domains}
    found |= {Sensitive(m, MESSAGE_ID) for m in facts.message_ids}
    # The reporter's envelope (a forwarded report): the forwarding staff's names, besides their addresses.
    found |= {Sensitive(n, DISPLAY_NAME) for n in envelope_names(record)}
    for message in record.messages:
        recipients = (*message.to, *message.cc) if message.attacker_authored else (message.from_, *message.cc)
        found |= {Sensitive(a.display_name, DISPLAY_NAME) for a in recipients if a is not None and a.display_name}
        found |= _hops(_internal_hops(message.received, facts))
        for name, values in message.headers.items():
            lowered = name.lower()
            items = [values] if isinstance(values, str) else list(values)
            if lowered in _RECEIVED_HEADERS:
                found |= {Sensitive(ip, PRIVATE_ADDRESS) for item in items for ip in private_addresses(item)}
            elif lowered in _ORIGINATING and not message.attacker_authored:
                found |= {Sensitive(v.strip("[] "), MEMBER_ADDRESS) for v in items if v.strip("[] ")}
            elif lowered in _ENVELOPE_HEADERS:
                found |= {Sensitive(v.strip(), ENVELOPE) for v in items if v.strip()}
        found |= {Sensitive(ip, PRIVATE_ADDRESS) for hop in message.received for ip in private_addresses(hop)}
    return found


def _addresses(addresses: Iterable[str], freemail_domains: frozenset[str]) -> set[Sensitive]:
    found: set[Sensitive] = set()
    for address in addresses:
        found.add(Sensitive(address, RECIPIENT))
        local, _, domain = address.rpartition("@")
        if local:
            found.add(Sensitive(local, LOCAL_PART))
        if domain and domain.lower() not in freemail_domains:
            found.add(Sensitive(domain, MEMBER_DOMAIN))
    return found


def _internal_hops(received: Sequence[str], facts: VictimFacts) -> list[str]:
    """Hops (newest first) that happened inside the member's network: those `split_received` finds, and
    every hop from the oldest one whose receiving side (`by …` up to `;`) names a member domain or a private
    address upwards."""
    internal, _ = split_received(received, facts)
    oldest = -1
    for index, hop in enumerate(received):
        by = hop.lower().partition(" by ")[2].partition(";")[0]
        if by and (private_addresses(by) or any(d in by for d in facts.domains)):
            oldest = index
    return list(received[: max(oldest + 1, len(internal))])


def _hops(hops: Iterable[str]) -> set[Sensitive]:
    """Host names and addresses in `Received` hops that happened inside the member's network."""
    found: set[Sensitive] = set()
    for hop in hops:
        for host in _HOST.findall(hop):
            if not _is_ip(host) and "." in host.strip("."):
                found.add(Sensitive(host.strip("."), HOST))
        for candidate in ip_literals(hop):
            kind = PRIVATE_ADDRESS if _private(candidate) else MEMBER_ADDRESS
            found.add(Sensitive(candidate, kind))
    return found


def ip_literals(text: str) -> list[str]:
    """Every IPv4 or IPv6 address literal in `text`, once each, in order of appearance."""
    found = [m.group(1) for m in _IPV4_LITERAL.finditer(text)]
    found += [c.strip(".") for c in _IPV6_CANDIDATE.findall(text)]
    return [c for c in dict.fromkeys(found) if _is_ip(c)]


def private_addresses(text: str) -> list[str]:
    """Every private, loopback, link-local or unique-local IP address literal in `text`, also when written as
    IPv6 that embeds an IPv4 address (mapped `::ffff:a.b.c.d`, 6to4, NAT64, IPv4-compatible)."""
    return [c for c in ip_literals(text) if _private(c)]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _private(text: str) -> bool:
    """RFC 1918, loopback, link-local, carrier-grade NAT, unique-local. The documentation ranges count as
    public: examples and tests use them for attackers' servers."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    return any(address in n for n in _INTERNAL if n.version == address.version)


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: mapped, 6to4, NAT64 (the last 32 bits) or IPv4-compatible."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in n for n in _NAT64) or 1 < int(address) < 2**32:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


_INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
    "::1/128", "fc00::/7", "fe80::/10"))


def from_stix(objects: Sequence[Mapping[str, Any]], freemail_domains: frozenset[str] = frozenset()) -> set[Sensitive]:
    """Victim facts a member's STIX bundle carries: who its email messages were addressed to, the email
    addresses and identities it says were targeted, Message-IDs of mail those addresses sent, and the
    member-side `received_lines`."""
    by_id = {str(o.get("id")): o for o in objects if isinstance(o, Mapping)}
    victims: set[str] = set()
    found: set[Sensitive] = set()
    for obj in by_id.values():
        if obj.get("type") == "email-message":
            for key in ("to_refs", "cc_refs", "bcc_refs"):
                victims.update(str(r) for r in obj.get(key) or () if isinstance(r, str))
        elif obj.get("type") == "relationship" and obj.get("relationship_type") == "targets":
            victims.add(str(obj.get("target_ref")))
    addresses: set[str] = set()
    for ref in victims:
        target = by_id.get(ref, {})
        if target.get("type") == "email-addr" and isinstance(target.get("value"), str):
            addresses.add(target["value"])
            if isinstance(target.get("display_name"), str):
                found.add(Sensitive(target["display_name"], DISPLAY_NAME))
        elif target.get("type") == "identity" and isinstance(target.get("name"), str):
            found.add(Sensitive(target["name"], TARGET_NAME))
    found |= _addresses(addresses, freemail_domains)
    for obj in by_id.values():
        if obj.get("type") != "email-message":
            continue
        if obj.get("from_ref") in victims and isinstance(obj.get("message_id"), str):
            found.add(Sensitive(obj["message_id"], MESSAGE_ID))
        lines = [str(v) for v in obj.get("received_lines") or () if isinstance(v, str)]
        headers = obj.get("additional_header_fields") or {}
        if isinstance(headers, Mapping):
            for name, value in headers.items():
                if str(name).lower() in _RECEIVED_HEADERS:
                    lines += [value] if isinstance(value, str) else [str(v) for v in value or ()]
        domains = frozenset(a.rpartition("@")[2].lower() for a in addresses) - freemail_domains
        found |= _hops(_internal_hops(lines, VictimFacts(frozenset(addresses), domains, frozenset())))
        found |= {Sensitive(ip, PRIVATE_ADDRESS) for line in lines for ip in private_addresses(line)}
    return found


def needles(values: Iterable[Sensitive]) -> list[tuple[Needle, str]]:
    """(needle, kind) for every value long enough to look for; one needle per distinct token run."""
    best: dict[Needle, str] = {}
    for value in sorted(values, key=lambda s: (s.kind, s.value)):
        needle = value.needle()
        if needle is not None and needle not in best:
            best[needle] = value.kind
    return sorted(best.items(), key=lambda item: item[0].squashed)
