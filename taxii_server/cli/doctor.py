"""`taxii-hub doctor`: checks a deployment and says what to fix.

Checks, in order: the configuration loads; the database is reachable, initialised at this hub's schema
version and writable; the TLS certificate and key exist, belong together and are not expired or about to
expire; the collection files are valid; the configured address is free to listen on (a warning when taken: the
hub may be running); the clock is not behind what the hub already recorded (and the certificate is not dated in
the future); the correlation step is not falling behind. Each check is `ok`, `warning` or `problem`; a problem
makes the exit status 1. It changes nothing except one meta record written to prove the database is writable.
`serve` runs the same checks (checks.py).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import asdict

import click

from ..errors import HubError
from ..timestamps import now_us
from . import CliContext, checks
from .checks import Check


def diagnose(ctx: CliContext, clock: Callable[[], int] = now_us) -> list[Check]:
    found: list[Check] = []
    config, settings = checks.config(ctx.config)
    found.append(config)
    if settings is None:
        return found
    database, store = checks.database(settings, clock)
    found += database
    try:
        found += checks.tls(settings.tls_cert, settings.tls_key,
                            datetime.datetime.fromtimestamp(clock() / 1_000_000, datetime.UTC))
        found.append(checks.collections(settings))
        found.append(checks.port(settings.server.bind, in_use="warning"))
        if store is not None:
            try:
                found.append(checks.clock(store, clock))
            except HubError as exc:
                found.append(Check("clock", "warning", f"could not compare with the hub's records: {exc.message}"))
            try:
                found.append(checks.correlation(store, clock))
            except HubError as exc:
                found.append(Check("correlation", "warning", f"could not read the correlation queue: {exc.message}"))
    finally:
        if store is not None:
            store.close()
    return found


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_obj
def doctor(obj: CliContext, as_json: bool) -> None:
    """Check this deployment (configuration, database, schema, TLS files, collections, port, clock) and say
    what to fix.

    Exits 1 when a check finds a problem; warnings do not fail."""
    found = diagnose(obj)
    healthy = not any(c.status == "problem" for c in found)
    if as_json:
        click.echo(json.dumps({"healthy": healthy, "checks": [asdict(c) for c in found]}, indent=2,
                              ensure_ascii=False))
    else:
        for c in found:
            click.echo(f"{c.status.upper():<8} {c.name:<12} {c.detail}" + (f"\n{'':<8} {'':<12} fix: {c.fix}"
                                                                         if c.fix else ""))
        click.echo("healthy" if healthy else "problems found: fix them and run `taxii-hub doctor` again")
    if not healthy:
        raise click.exceptions.Exit(1)


def register(group: click.Group) -> None:
    group.add_command(doctor)
