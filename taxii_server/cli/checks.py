"""The checks of a deployment that `doctor` reports and `serve` runs before it starts any worker: the
configuration, the collection files, the TLS files, the database and the address to listen on.

Each check is a `Check`: `ok`, `warning` or `problem`, a detail naming the file or value, and what to do about
it. They read, and write nothing but one meta record proving the database writable.
"""

from __future__ import annotations

import datetime
import errno
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Catalog
from ..errors import ConfigError, HubError
from ..settings import Settings, load_settings
from ..storage import Store, open_store
from ..storage.base import SCHEMA_VERSION
from ..timestamps import format_us

EXPIRY_WARNING_DAYS = 30
CLOCK_TOLERANCE_S = 5


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warning" or "problem"
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The check as one line: what is wrong, then what to do."""
        return f"{self.detail}; fix: {self.fix}" if self.fix else self.detail


def config(path: Path | None) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(path)
    except HubError as exc:
        return Check("config", "problem", exc.message, "correct the configuration file or TAXII_HUB_* variables"), None
    return Check("config", "ok", f"settings from {settings.config_description}"), settings


def database(settings: Settings, clock: Callable[[], int]) -> tuple[list[Check], Store | None]:
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


def tls(cert_path: Path, key_path: Path, now: datetime.datetime) -> list[Check]:
    """The server certificate and key: readable, a pair, not expired (a warning 30 days ahead), not dated in
    the future."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except OSError as exc:
        return [Check("tls", "problem", f"TLS certificate {cert_path}: {exc.strerror}",
                      "run `taxii-hub init` for a development certificate, or set server.tls_cert")]
    except ValueError as exc:
        return [Check("tls", "problem", f"TLS certificate {cert_path}: not a PEM certificate ({exc})",
                      "point server.tls_cert at the PEM certificate")]
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except OSError as exc:
        return [Check("tls", "problem", f"TLS key {key_path}: {exc.strerror}", "set server.tls_key to the server key")]
    except (ValueError, TypeError) as exc:
        return [Check("tls", "problem", f"TLS key {key_path}: unreadable ({exc})",
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


def collections(settings: Settings) -> Check:
    try:
        catalog = Catalog.load(settings.collections_dir, settings.api_roots)
    except HubError as exc:
        missing = not settings.collections_dir.is_dir()
        return Check("collections", "problem", exc.message,
                     "set collections_dir to the directory of collection files (`taxii-hub init` writes examples "
                     "where it does not exist)" if missing else "correct that collection file")
    found = catalog.all()
    if not found:
        return Check("collections", "problem", f"no collections in {settings.collections_dir}",
                     "set collections_dir to the directory of collection files")
    return Check("collections", "ok", f"{len(found)} collections in {settings.collections_dir}")


def split_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--bind {bind!r} must be HOST:PORT")
    return host.strip("[]"), int(port)


def port(bind: str, *, in_use: str = "problem") -> Check:
    """Whether the hub could listen on `bind` now: a trial bind with the options gunicorn uses, released at
    once. `in_use` is the status of a port something already listens on (doctor: a warning, as the hub it
    checks may be that something)."""
    try:
        host, number = split_bind(bind)
    except ConfigError as exc:
        return Check("port", "problem", exc.message, "give --bind (or server.bind) as HOST:PORT, e.g. 127.0.0.1:8443")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, number, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror:
        return Check("port", "problem", f"{host!r} in {bind} is not a host name this machine can resolve",
                     "serve on an address of this machine, e.g. --bind 127.0.0.1:8443")
    try:
        with socket.socket(family, kind, proto) as trial:
            trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            trial.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return Check("port", in_use, f"port {number} on {host} is already in use (another taxii-hub serve?)",
                         f"stop that server, or serve on a free port: taxii-hub serve --bind {host}:{number + 1}")
        if exc.errno == errno.EACCES:
            return Check("port", "problem", f"listening on port {number} needs privileges this user lacks",
                         f"serve on a port above 1023: taxii-hub serve --bind {host}:8443")
        return Check("port", "problem", f"cannot listen on {bind}: {exc.strerror}",
                     "serve on an address of this machine, e.g. --bind 127.0.0.1:8443")
    return Check("port", "ok", f"{bind} is free to listen on")


def clock(store: Store, now_us: Callable[[], int]) -> Check:
    """A clock behind the newest time the hub recorded means a clock set back or machines out of step."""
    now = now_us()
    ahead = store.list_audit(now + CLOCK_TOLERANCE_S * 1_000_000, 1)
    if ahead:
        return Check("clock", "problem", f"the hub recorded activity at {format_us(ahead[0].at_us)}, after this "
                     f"machine's time {format_us(now)}", "synchronise the clocks of every hub machine (NTP)")
    return Check("clock", "ok", f"not behind the hub's records ({format_us(now)})")


CORRELATION_LAG_WARNING_S = 300


def correlation(store: Store, now_us: Callable[[], int]) -> Check:
    """The correlation step's backlog: reports waiting to be taken into the campaign candidates."""
    waiting, oldest = store.correlation_backlog()
    if not waiting or oldest is None:
        return Check("correlation", "ok", "no reports waiting for the correlation step")
    age = max(0, (now_us() - oldest) // 1_000_000)
    detail = f"{waiting} jobs waiting for the correlation step, the oldest for {age} s"
    if age > CORRELATION_LAG_WARNING_S:
        return Check("correlation", "warning", detail,
                     "run `taxii-hub worker` (or `serve` with [hub] correlation_worker = true)")
    return Check("correlation", "ok", detail)
