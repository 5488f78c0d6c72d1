"""Domain names as the hub stores and compares them: lower-case A-labels (IDNA 2008 with UTS #46 mapping; the
`idna` package also enforces the lengths of RFC 1035).

One normal form for every register of names (an organisation's mail domains, the allow-list), so that
`Kita-Heavy.example.`, `kita-heavy.example` and a full-width or Unicode spelling are one value, and an
internationalised name is stored as its `xn--` form (`display_domain` gives the Unicode form back).
Must not: resolve names or read any list of domains; it only spells and compares them.
"""

from __future__ import annotations

import idna


def normalise_domain(text: str) -> str:
    """The stored form of a domain name; ValueError (one line saying why) when it is not one.

    A name needs at least two labels (a mail domain or a host, never a bare top-level label) of letters,
    digits and '-' once IDNA-mapped; a single trailing dot is dropped."""
    raw = text.strip()
    if raw.endswith(".") and not raw.endswith(".."):
        raw = raw[:-1]
    if not raw:
        raise ValueError("a domain name must not be empty")
    try:
        ascii_form = idna.encode(raw, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"{text!r} is not a valid domain name ({exc})") from None
    if "." not in ascii_form:
        raise ValueError(f"{text!r} is not a domain name with at least two labels (such as example.org)")
    if ascii_form.rsplit(".", 1)[1].isdigit():
        raise ValueError(f"{text!r} looks like an IP address, not a domain name")
    return ascii_form


def display_domain(domain: str) -> str:
    """The Unicode form of a stored domain (`xn--…` labels decoded), for people to read."""
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


def domain_and_parents(host: str) -> list[str]:
    """`a.b.example.org` → [`a.b.example.org`, `b.example.org`, `example.org`, `org`]: the names whose
    entries cover this host (a domain covers its subdomains). `host` must already be normalised."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def covers(domain: str, host: str) -> bool:
    """Whether `host` is `domain` or one of its subdomains (both normalised)."""
    return host == domain or host.endswith("." + domain)
