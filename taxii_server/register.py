"""The organisation register's rules: what a mail domain and an alias may be, and how a change applies.

An organisation's `domains` are its mail domains in the normal form of `hostnames.normalise_domain` (each
covers its subdomains); its `aliases` are the other names it goes by (short forms, names in other scripts),
kept as written but with surrounding and repeated white space removed, NFC-normalised and unique ignoring
case. Both are what the hub uses to recognise the organisation in mail and in what it would publish; neither
is ever published. Must not: read or write the store (`accounts` does).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import BadRequest
from .hostnames import covers, normalise_domain
from .model import Organisation

MAX_ALIAS = 128
MAX_ENTRIES = 64  # of each kind per organisation


def normalise_alias(text: str) -> str:
    """An alias as stored; BadRequest (one line) when it is empty, too long or holds control characters."""
    alias = " ".join(unicodedata.normalize("NFC", text).split())
    if not alias:
        raise BadRequest("an alias must not be empty")
    if len(alias) > MAX_ALIAS:
        raise BadRequest(f"alias {alias[:20]!r}… is longer than {MAX_ALIAS} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in alias):
        raise BadRequest(f"alias {alias!r} holds a control or format character")
    return alias


def domain(text: str) -> str:
    """A mail domain as stored; BadRequest naming the value when it is not a domain name."""
    try:
        return normalise_domain(text)
    except ValueError as exc:
        raise BadRequest(f"mail domain: {exc}") from None


def merge_aliases(current: Iterable[str], added: Iterable[str]) -> tuple[str, ...]:
    """`current` then each added alias not already there (ignoring case), in order."""
    out = list(current)
    seen = {a.casefold() for a in out}
    for alias in (normalise_alias(a) for a in added):
        if alias.casefold() not in seen:
            seen.add(alias.casefold())
            out.append(alias)
    return _bounded(out, "aliases")


def merge_domains(current: Iterable[str], added: Iterable[str]) -> tuple[str, ...]:
    """`current` then each added domain not already there, in order."""
    out = list(current)
    for name in (domain(d) for d in added):
        if name not in out:
            out.append(name)
    return _bounded(out, "mail domains")


def overlapping_domain(mine: Iterable[str], theirs: Iterable[str]) -> tuple[str, str] | None:
    """The first pair (mine, theirs) where one domain covers the other, if any."""
    for a in mine:
        for b in theirs:
            if covers(a, b) or covers(b, a):
                return a, b
    return None


def _bounded(values: list[str], what: str) -> tuple[str, ...]:
    if len(values) > MAX_ENTRIES:
        raise BadRequest(f"an organisation has at most {MAX_ENTRIES} {what}")
    return tuple(values)


@dataclass(frozen=True)
class RegisterChange:
    """A change to one organisation's register, applied in this order: clear, remove, add."""

    add_domains: tuple[str, ...] = ()
    remove_domains: tuple[str, ...] = ()
    clear_domains: bool = False
    add_aliases: tuple[str, ...] = ()
    remove_aliases: tuple[str, ...] = ()
    clear_aliases: bool = False

    def apply(self, org: Organisation) -> Organisation:
        domains = () if self.clear_domains else org.domains
        gone_domains = {domain(d) for d in self.remove_domains}
        missing = sorted(gone_domains - set(domains))
        if missing and not self.clear_domains:
            raise BadRequest(f"organisation {org.id!r} has no mail domain {missing[0]!r}")
        domains = tuple(d for d in domains if d not in gone_domains)
        aliases = () if self.clear_aliases else org.aliases
        gone_aliases = {normalise_alias(a).casefold() for a in self.remove_aliases}
        unknown = sorted(gone_aliases - {a.casefold() for a in aliases})
        if unknown and not self.clear_aliases:
            raise BadRequest(f"organisation {org.id!r} has no alias {unknown[0]!r}")
        aliases = tuple(a for a in aliases if a.casefold() not in gone_aliases)
        return replace(org, domains=merge_domains(domains, self.add_domains),
                       aliases=merge_aliases(aliases, self.add_aliases))
