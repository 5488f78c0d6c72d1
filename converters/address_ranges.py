"""IP address ranges as integers: an address or CIDR network as (version, first, last), and the sorted,
disjoint segments of many network lists that answer "which list covers this?" with one bisection. Used by
the warning lists (converters/benign.py); pure, no data of its own but the documentation ranges.
"""

from __future__ import annotations

import bisect
import socket


class Segments:
    """Disjoint, sorted address segments of all network lists of one IP version, each with the first list
    (in the order the caller numbered them) that covers it: one bisection answers a look-up."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int, int]] = []  # (first, last, priority)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.owner: list[int] = []

    def build(self) -> None:
        events: list[tuple[int, int, int]] = []  # (position, +1 start / -1 end, priority)
        for first, last, priority in self.spans:
            events.append((first, 1, priority))
            events.append((last + 1, -1, priority))
        events.sort()
        active: dict[int, int] = {}
        index = 0
        while index < len(events):
            position = events[index][0]
            while index < len(events) and events[index][0] == position:
                _, delta, priority = events[index]
                active[priority] = active.get(priority, 0) + delta
                if not active[priority]:
                    del active[priority]
                index += 1
            if self.starts and self.ends[-1] == -1:
                self.ends[-1] = position - 1
            if active:
                owner = min(active)
                if self.starts and self.owner[-1] == owner and self.ends[-1] == position - 1:
                    self.ends[-1] = -1  # the same list goes on: one segment
                    continue
                self.starts.append(position)
                self.ends.append(-1)
                self.owner.append(owner)
        self.spans = []

    def find(self, first: int, last: int) -> int | None:
        """The list covering all of first..last (a network may span segments of several lists)."""
        index = bisect.bisect_right(self.starts, first) - 1
        if index < 0 or first > self.ends[index]:
            return None
        owner, end = self.owner[index], self.ends[index]
        while end < last:
            index += 1
            if index == len(self.starts) or self.starts[index] != end + 1:
                return None
            end = self.ends[index]
        return owner


_DOCUMENTATION = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")


def documentation(span: tuple[int, int, int]) -> bool:
    """Whether the span lies in an RFC 5737 / RFC 3849 documentation range. The warning lists never hold
    those back: no real mail uses them, and the project's samples and tests use them for made-up attacker
    addresses (the rfc5735 and rfc3849 lists list them)."""
    for network in _DOCUMENTATION:
        doc = address_span(network)
        if doc is not None and doc[0] == span[0] and doc[1] <= span[1] and span[2] <= doc[2]:
            return True
    return False


def address_span(value: str) -> tuple[int, int, int] | None:
    """(version, first, last) of an address or CIDR network, parsed with the C resolver helpers."""
    address, _, prefix_text = value.partition("/")
    family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
    try:
        number = int.from_bytes(socket.inet_pton(family, address), "big")
        prefix = int(prefix_text) if prefix_text else bits
    except (OSError, ValueError):
        return None
    if not 0 <= prefix <= bits:
        return None
    host_bits = bits - prefix
    first = (number >> host_bits) << host_bits
    return (4 if bits == 32 else 6), first, first | ((1 << host_bits) - 1)
