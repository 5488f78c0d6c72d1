"""Values no feed may carry: what MISP's warning lists know as legitimate (converters.benign), so that a
member's firewall never blocks a popular site, a public resolver or a well-known file because a report
mentioned it. (The hub's own allow-list joins here.)

Owns mapping the feeds' kinds to the warning lists' kinds, and a version for the feeds' validators: a new
release of the lists changes every ETag. Must not: know HTTP or storage.
"""

from __future__ import annotations

from importlib import metadata

from converters.benign import known_benign

_KIND = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "domain": "domain-name", "url": "url", "email": "email-addr",
         "sha256": "sha256", "sha1": "sha1", "md5": "md5"}


class WarningListExclusions:
    def __init__(self) -> None:
        try:
            self._version = "warninglists:" + metadata.version("pymispwarninglists")
        except metadata.PackageNotFoundError:
            self._version = "warninglists:unknown"

    def excluded(self, kind: str, value: str) -> bool:
        benign_kind = _KIND.get(kind)
        return benign_kind is not None and known_benign(benign_kind, value) is not None

    def version(self) -> str:
        return self._version
