"""`taxii-hub doctor`: checks a deployment and says what to fix.

Checks, in order: the configuration loads; the database is reachable, initialised at this hub's schema
version and writable; the TLS certificate and key exist, belong together and are not expired or about to
expire; the collection files are valid; the clock is not behind what the hub already recorded (and the
certificate is not dated in the future). Each check is `ok`, `warning` or `problem`; a problem makes the exit
status 1. It changes nothing except one meta record written to prove the database is writable.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from ..catalog import Catalog
from ..errors import HubError
from ..settings import Settings, load_settings
from ..storage import Store, open_store
from ..storage.base import SCHEMA_VERSION
from ..timestamps import format_us, now_us
from . import CliContext

EXPIRY_WARNING_DAYS = 30
CLOCK_TOLERANCE_S = 5


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warning" or "problem"
    detail: str
    fix: str = ""


def _config(ctx: CliContext) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(ctx.config)
    except HubError as exc:
        return Check("config", "problem", exc.message, "correct the configuration file or TAXII_HUB_* variables"), None
    return Check("config", "ok", f"settings from {settings.source}"), settings


def _database(settings: Settings, clock: Callable[[], int]) -> tuple[list[Check], Store | None]:
    url = settings.storage.url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            return [Check("database", "problem", f"{path} does not exist", "run `taxii-hub init`")], None
    try:
        store = open_store(url)
        meta = store.export_meta()
    except HubError as exc:
        return [Check("database", "problem", f"{url}: {exc.message}",
                      "check storage.url and that the database server is running and reachable")], None
    checks = [Check("database", "ok", f"{url} is reachable")]
    found = meta.get("schema_version")
    if found is None:
        checks.append(Check("schema", "problem", "the database holds no hub schema", "run `taxii-hub init`"))
    elif int(found) > SCHEMA_VERSION:
        checks.append(Check("schema", "problem", f"schema {found} is newer than this hub understands "
                            f"({SCHEMA_VERSION})", "upgrade taxii-hub to the version that wrote the database"))
    elif int(found) < SCHEMA_VERSION:
        checks.append(Check("schema", "warning", f"schema {found}, this hub uses {SCHEMA_VERSION}",
                            "`taxii-hub serve` or `init` upgrades it in place (a backup copy is kept)"))
    else:
        checks.append(Check("schema", "ok", f"schema version {found}"))
    try:
        store.import_meta("doctor_checked_at", format_us(clock()))
        checks.append(Check("writable", "ok", "a test write succeeded"))
    except HubError as exc:
        checks.append(Check("writable", "problem", exc.message,
                            "give the hub's user write access to the database (and its directory for SQLite)"))
    return checks, store


def _tls(settings: Settings, now: datetime.datetime) -> list[Check]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = settings.tls_cert, settings.tls_key
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except OSError as exc:
        return [Check("tls", "problem", f"certificate {cert_path}: {exc.strerror}",
                      "run `taxii-hub init` for a development certificate, or set server.tls_cert")]
    except ValueError as exc:
        return [Check("tls", "problem", f"certificate {cert_path}: not a PEM certificate ({exc})",
                      "point server.tls_cert at the PEM certificate")]
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except OSError as exc:
        return [Check("tls", "problem", f"key {key_path}: {exc.strerror}", "set server.tls_key to the server key")]
    except (ValueError, TypeError) as exc:
        return [Check("tls", "problem", f"key {key_path}: unreadable ({exc})",
                      "point server.tls_key at an unencrypted PEM private key")]
    if key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        return [Check("tls", "problem", f"{key_path} is not the key of {cert_path}",
                      "use the key the certificate was issued for")]
    until = cert.not_valid_after_utc
    left = until - now
    if left.total_seconds() <= 0:
        return [Check("tls", "problem", f"{cert_path} expired on {until:%Y-%m-%d}",
                      "renew the certificate (development: delete the tls directory and run `taxii-hub init`)")]
    checks = []
    if left.days < EXPIRY_WARNING_DAYS:
        checks.append(Check("tls", "warning", f"{cert_path} expires on {until:%Y-%m-%d} ({left.days} days)",
                            "renew the certificate soon"))
    else:
        checks.append(Check("tls", "ok", f"{cert_path} valid until {until:%Y-%m-%d}"))
    if cert.not_valid_before_utc > now + datetime.timedelta(seconds=CLOCK_TOLERANCE_S):
        start = f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M}"
        checks.append(Check("clock", "problem", f"{cert_path} is valid only from {start} UTC, later than this "
                            "machine's clock", "set the clock right (NTP)"))
    return checks


def _collections(settings: Settings) -> Check:
    try:
        catalog = Catalog.load(settings.collections_dir, settings.api_roots)
    except HubError as exc:
        return Check("collections", "problem", exc.message, "correct that collection file")
    found = catalog.all()
    if not found:
        return Check("collections", "problem", f"no collections in {settings.collections_dir}",
                     "set collections_dir to the directory of collection files")
    return Check("collections", "ok", f"{len(found)} collections in {settings.collections_dir}")


def _clock(store: Store, clock: Callable[[], int]) -> Check:
    """A clock behind the newest time the hub recorded means a clock set back or machines out of step."""
    now = clock()
    ahead = store.list_audit(now + CLOCK_TOLERANCE_S * 1_000_000, 1)
    if ahead:
        return Check("clock", "problem", f"the hub recorded activity at {format_us(ahead[0].at_us)}, after this "
                     f"machine's time {format_us(now)}", "synchronise the clocks of every hub machine (NTP)")
    return Check("clock", "ok", f"not behind the hub's records ({format_us(now)})")


def diagnose(ctx: CliContext, clock: Callable[[], int] = now_us) -> list[Check]:
    checks: list[Check] = []
    config, settings = _config(ctx)
    checks.append(config)
    if settings is None:
        return checks
    database, store = _database(settings, clock)
    checks += database
    try:
        checks += _tls(settings, datetime.datetime.fromtimestamp(clock() / 1_000_000, datetime.UTC))
        checks.append(_collections(settings))
        if store is not None:
            try:
                checks.append(_clock(store, clock))
            except HubError as exc:
                checks.append(Check("clock", "warning", f"could not compare with the hub's records: {exc.message}"))
    finally:
        if store is not None:
            store.close()
    return checks


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_obj
def doctor(obj: CliContext, as_json: bool) -> None:
    """Check this deployment (configuration, database, schema, TLS files, collections, clock) and say what to fix.

    Exits 1 when a check finds a problem; warnings do not fail."""
    checks = diagnose(obj)
    healthy = not any(c.status == "problem" for c in checks)
    if as_json:
        click.echo(json.dumps({"healthy": healthy, "checks": [asdict(c) for c in checks]}, indent=2,
                              ensure_ascii=False))
    else:
        for c in checks:
            click.echo(f"{c.status.upper():<8} {c.name:<12} {c.detail}" + (f"\n{'':<8} {'':<12} fix: {c.fix}"
                                                                         if c.fix else ""))
        click.echo("healthy" if healthy else "problems found: fix them and run `taxii-hub doctor` again")
    if not healthy:
        raise click.exceptions.Exit(1)


def register(group: click.Group) -> None:
    group.add_command(doctor)
