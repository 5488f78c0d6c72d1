"""Evidence values known to be legitimate, which never link reports (they are shown as over-correlating): the
hub's own allow-list, the MISP warning lists (converters/benign.py) and the member register's mail domains.

Owns the mapping from correlation evidence kinds to the STIX kinds those lists speak. Must not: decide
anything else about a value (correlation.py does), or read the lists on import.
"""

from __future__ import annotations

from collections.abc import Callable

from converters.benign import known_benign

from .allowlist import AllowList


def stix_kind(kind: str, value: str) -> tuple[str, str] | None:
    """The (STIX kind, value) an evidence value is checked as; None for evidence no list speaks of."""
    if kind == "c2-domain":
        return "domain-name", value
    if kind == "c2-ip":
        return ("ipv6-addr" if ":" in value else "ipv4-addr"), value
    if kind in ("url", "c2-url"):
        return "url", value
    if kind == "sender-address":
        return "email-addr", value
    if kind == "file-hash" and ":" in value:
        algorithm, digest = value.split(":", 1)
        return algorithm, digest
    return None


def benign_check(allow: AllowList, warning_lists: bool) -> Callable[[str, str], bool]:
    """Whether an evidence value is on the allow-list or, with `warning_lists`, on a MISP warning list."""

    def check(kind: str, value: str) -> bool:
        found = stix_kind(kind, value)
        if found is None:
            return False
        if len(allow) and allow.matches(*found) is not None:  # (an empty allow-list: no normalising)
            return True
        return warning_lists and known_benign(*found) is not None

    return check
