"""The hub-local allow-list on the command line: `allow add`, `allow list`, `allow remove`.

They act as the local operator, or as an analyst named with `--as ORG` (recorded in the audit trail), through
the same service and access rule as every other door.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from ..model import ALLOW_KINDS, AllowedValue
from . import CliContext, one_line_errors
from .hub import AS_OPTION, JSON_OPTION, _emit, _principal, _services

KIND = click.Choice(ALLOW_KINDS)


@click.group()
def allow() -> None:
    """Values known to be legitimate: never an indicator, never correlation evidence."""


@allow.command("add")
@click.argument("kind", type=KIND, metavar="KIND")
@click.argument("value")
@click.option("--reason", required=True, help="Why the value is legitimate (kept in the list and the audit).")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def allow_add(obj: CliContext, kind: str, value: str, reason: str, as_org: str | None, as_json: bool) -> None:
    """Add VALUE of KIND: domain-name, ipv4-addr, ipv6-addr, url, email-addr, md5, sha1 or sha256.

    A domain also covers its subdomains (and URLs and addresses on them); an address may be a CIDR network."""
    services = _services(obj)
    entry = services.hub.allowlist.add(_principal(services, as_org, required=False), kind, value, reason)
    _emit(asdict(entry), as_json, lambda: f"allowed {entry.kind} {entry.value}")


@allow.command("list")
@click.option("--kind", type=KIND, default=None, help="Only this kind.")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def allow_list(obj: CliContext, kind: str | None, as_org: str | None, as_json: bool) -> None:
    """List the allow-list, by kind then value."""
    services = _services(obj)
    entries: list[AllowedValue] = services.hub.allowlist.entries(_principal(services, as_org, required=False), kind)
    _emit([asdict(e) for e in entries], as_json, lambda: "\n".join(
        f"{e.kind:<12} {e.value:<40} {e.added[:10]} {e.added_by:<14} {e.reason}" for e in entries
    ) or "the allow-list is empty")


@allow.command("remove")
@click.argument("kind", type=KIND, metavar="KIND")
@click.argument("value")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def allow_remove(obj: CliContext, kind: str, value: str, as_org: str | None, as_json: bool) -> None:
    """Remove VALUE of KIND from the allow-list."""
    services = _services(obj)
    entry = services.hub.allowlist.remove(_principal(services, as_org, required=False), kind, value)
    _emit(asdict(entry), as_json, lambda: f"removed {entry.kind} {entry.value} from the allow-list")


def register(group: click.Group) -> None:
    group.add_command(allow)


__all__ = ["register"]
