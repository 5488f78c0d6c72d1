"""Which of a mail's headers a record keeps, and where its originating IP comes from.

Sender-side headers (all attacker-controlled) are kept for publishing; recipient-side ones are kept only as
sensitive member facts (converters/anonymisation.py removes them). The originating IP is the client-address
header's when it is routable, else the first external `Received` hop's (never a member's own relay).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType

from converters import anonymisation
from converters.record import Message, Record

SENDER_HEADERS = (
    "X-Mailer",
    "User-Agent",
    "X-Originating-IP",
    "X-Sender-IP",
    "X-Source-IP",
    "Reply-To",
    "Return-Path",
    "Sender",
    "X-Sender",
    "Organization",
    "References",
    "X-Priority",
    "Content-Language",
)
RECIPIENT_HEADERS = (
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    # The receiving side's verdict on the sender (spoofed senders are never indicators): member-side facts.
    "Authentication-Results",
    "Received-SPF",
)
_CLIENT_IP_HEADERS = ("X-Originating-IP", "X-Sender-IP", "X-Source-IP")


def kept_headers(get: Callable[[str], list[str]], text: Callable[[str], str]) -> dict[str, str | tuple[str, ...]]:
    """The kept headers' values, decoded by `text`: one value as a string, several as a tuple."""
    kept: dict[str, str | tuple[str, ...]] = {}
    for name in (*SENDER_HEADERS, *RECIPIENT_HEADERS):
        values = [text(value) for value in get(name)]
        if values:
            kept[name] = values[0] if len(values) == 1 else tuple(values)
    return kept


def with_originating_ip(message: Message, member_domains: frozenset[str]) -> Message:
    """`X-Originating-IP` from the client-address headers, else from the first external Received hop."""
    headers = dict(message.headers)
    for name in _CLIENT_IP_HEADERS:
        value = headers.get(name)
        if isinstance(value, str):
            candidate = value.strip().strip("[]() ")
            if anonymisation.routable(candidate):
                headers["X-Originating-IP"] = f"[{candidate}]"
                return dataclasses.replace(message, headers=MappingProxyType(headers))
    probe = Record(id="x", reported_at=message.sent_at, tlp="red", messages=(message,))
    domains = anonymisation.victim_facts(probe).domains | member_domains
    address = anonymisation.originating_ip(message.received, domains)
    if address is None:
        return message
    headers["X-Originating-IP"] = f"[{address}]"
    return dataclasses.replace(message, headers=MappingProxyType(headers))
