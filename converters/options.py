"""Conversion options: everything the hub's configuration decides about the STIX it produces.

A frozen value passed in by the caller (CLI, hub intake, benchmark); converters never read configuration or
the environment themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Free-mail providers: a sender address at one of these is an attacker-made account (ATT&CK T1585.002), and
# its domain must never become a domain indicator. The two reserved `.example` names are the ones used by the
# shared samples and demo data.
DEFAULT_FREEMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.co.jp",
        "yahoo.com",
        "ymail.com",
        "outlook.com",
        "outlook.jp",
        "hotmail.com",
        "hotmail.co.jp",
        "live.com",
        "live.jp",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mail.com",
        "gmx.com",
        "gmx.net",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "hanmail.net",
        "protonmail.com",
        "proton.me",
        "excite.co.jp",
        "infoseek.jp",
        "freemail.example",
        "webmail.example",
    }
)


@dataclass(frozen=True)
class ConversionOptions:
    """How records become STIX.

    id_key: secret key for the keyed (HMAC) ids of SDOs and SROs and for pseudonyms; stable and escrowed,
        because rotating it changes every id.
    hub_identity_name: the `name` of the hub identity that is `created_by_ref` of everything.
    sector_groups: member organisation id -> sector group (see `converters.sectors.SECTOR_GROUPS`); a reporter
        not listed becomes the generic "member organisation" class.
    freemail_domains: providers whose domains never become indicators.
    sample_url_prefix: where the hub's access-controlled sample store serves a sample by hash
        (`artifact.url`).
    hub_epoch: `created`/`modified` of the hub's own long-lived objects (identity, attack patterns...).
    member_domains: every member organisation's mail domains: a sender, URL or domain on them is never an
        indicator (spoofed member senders, links to the recipient's own site).
    reporter_domains: the reporting member's own mail domains (its envelope and relays are member facts).
    allowed: the hub's allow-list, `(stix kind, value) -> reason or None`; an allowed value is never an
        indicator.
    warning_lists: whether the MISP warning lists (`converters.benign`) hold back known-legitimate values.
    """

    id_key: str
    hub_identity_name: str = "taxii-hub"
    sector_groups: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    freemail_domains: frozenset[str] = DEFAULT_FREEMAIL_DOMAINS
    sample_url_prefix: str = "https://hub.invalid/samples/"
    hub_epoch: str = "2013-01-01T00:00:00.000Z"
    member_domains: frozenset[str] = frozenset()
    reporter_domains: frozenset[str] = frozenset()
    allowed: Callable[[str, str], str | None] | None = None
    warning_lists: bool = True

    def __post_init__(self) -> None:
        if not self.id_key:
            raise ValueError("id_key must not be empty")
