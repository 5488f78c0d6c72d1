"""Which observed values may become indicators, and the tally of what was held back and why.

Owns the one decision "is this value plausibly malicious?" for senders, URLs, domains, IPs and file hashes:
never the member organisations' own mail domains (a spoofed member sender, the recipient's own site), never
a value on the hub's allow-list (`ConversionOptions.allowed`), never known-legitimate infrastructure on the
MISP warning lists (`converters.benign`). Every refusal is counted in a `Summary` by reason, with the parser's
warnings, so an analyst can review what the conversion left out. Pure; no I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from converters import benign
from converters.options import ConversionOptions


@dataclass
class Summary:
    """What one conversion made and what it held back (reason -> count), plus warnings."""

    indicators: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def held_back(self, reason: str) -> None:
        self.suppressed[reason] += 1

    def warn(self, text: str) -> None:
        if text not in self.warnings and len(self.warnings) < 500:
            self.warnings.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "indicators": self.indicators,
            "suppressed": dict(sorted(self.suppressed.items())),
            "warnings": list(self.warnings),
        }

    def lines(self) -> list[str]:
        """Human-readable, one fact a line (for the command line and logs)."""
        out = [f"{self.indicators} indicator(s)"]
        out.extend(f"held back {count}: {reason}" for reason, count in sorted(self.suppressed.items()))
        out.extend(f"warning: {text}" for text in self.warnings)
        return out


class Screen:
    """Decides per value; `member_domains` are every member's mail domains plus the recipient's."""

    def __init__(self, options: ConversionOptions, victim_domains: frozenset[str], summary: Summary) -> None:
        self.options = options
        self.member_domains = frozenset(d.lower() for d in (*options.member_domains, *victim_domains) if d)
        self.summary = summary

    def reason(self, kind: str, value: str) -> str | None:
        """Why `value` (of STIX type `kind`) is not an indicator, or None when it may be one."""
        host = _host_of(kind, value)
        if host and self._member(host):
            return "member organisation's own domain"
        if self.options.allowed is not None:
            allowed = self.options.allowed(kind, value)
            if allowed:
                return f"hub allow-list ({allowed})"
        if self.options.warning_lists:
            listed = benign.known_benign(kind, value)
            if listed:
                return f"MISP warning list {listed}"
        return None

    def keep(self, kind: str, value: str, what: str) -> bool:
        """True when `value` may be an indicator; else the refusal is counted under `what`."""
        reason = self.reason(kind, value)
        if reason is None:
            return True
        self.summary.held_back(f"{what}: {reason}")
        return False

    def _member(self, host: str) -> bool:
        labels = host.lower().rstrip(".").split(".")
        return any(".".join(labels[i:]) in self.member_domains for i in range(len(labels)))


def _host_of(kind: str, value: str) -> str | None:
    if kind == "domain-name":
        return value
    if kind == "email-addr":
        return value.rpartition("@")[2]
    if kind == "url":
        from urllib.parse import urlsplit

        try:
            return urlsplit(value.strip()).hostname
        except ValueError:
            return None
    return None
