"""`taxii-hub serve`: the hub under gunicorn (never the Flask development server).

TLS by default with the certificate `init` made (TAXII §8.2.2 requires HTTPS); plain HTTP only when asked
with --insecure-http, and then only on a loopback address. Over TLS, gunicorn asks clients for a certificate
from the hub's CA (--client-certs optional, the default) or insists on one (required); mutual TLS ends here,
at gunicorn, never at a proxy that would pass identity on in a header. Each worker builds its own application
and opens its own database connection after the fork. The worker (worker.py) reads each request whole — TLS
handshake, head and body, within [server] header_timeout and body_timeout — before a thread takes it, so slow
or idle clients cannot tie the threads up.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from .. import logs
from ..errors import ConfigError, HubError
from ..settings import Settings
from ..timestamps import now_us
from . import CliContext, checks, one_line_errors
from .worker import BodyLimit, buffering_worker

# HTTP limits gunicorn enforces before the application (spec/security.md HTTP-02), set explicitly rather than
# inherited: a longer request line is a 414, more or longer header fields a 431, both as TAXII errors
# (worker.py). 8190 is gunicorn's ceiling and leaves room for long match[id] lists; nginx's default
# large_client_header_buffers (4 × 8k) draws the same lines at the edge.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 64
LIMIT_REQUEST_FIELD_SIZE = 8190
CLIENT_CERT_MODES = ("off", "optional", "required")
CONSOLE_UPLOAD_BYTES = 25 * 1024 * 1024  # web/console/blueprint.py MAX_UPLOAD_BYTES


class HubServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from ..app import create_app
        from ..hub.correlation_worker import CorrelationWorker

        app = create_app(self.settings)
        if self.settings.hub.correlation_worker:  # in each worker process, after the fork: off every request
            CorrelationWorker(app.extensions["taxii_hub"].hub.campaigns.correlator).start_thread()
        return app


def _tls_context(config: Any, default_ssl_context_factory: Any) -> ssl.SSLContext:
    """TLS 1.2 or newer with forward-secret AEAD suites only (TAXII §8.2.2, checklist A2–A4)."""
    context: ssl.SSLContext = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def _client_cert_options(mode: str, settings: Settings) -> dict[str, Any]:
    """gunicorn's TLS asks for a client certificate (`optional`) or insists on one (`required`) and verifies
    a presented one against the hub's CA: one from another CA, or expired, fails the handshake. The
    application then maps the verified certificate to its organisation (web/auth.py)."""
    if mode == "off":
        return {"cert_reqs": ssl.CERT_NONE}
    try:
        with open(settings.ca_cert, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"client CA {settings.ca_cert}: {exc.strerror}; run `taxii-hub init` first, "
                          "or serve with --client-certs off") from exc
    reqs = ssl.CERT_REQUIRED if mode == "required" else ssl.CERT_OPTIONAL
    return {"cert_reqs": reqs, "ca_certs": str(settings.ca_cert)}


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--bind", default=None, help="HOST:PORT (default from the configuration, 127.0.0.1:8443).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="gunicorn worker processes.")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Threads per worker (default from the configuration, 2: more threads mean more GIL contention, "
                   "bench/README.md).")
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None, help="Server certificate (PEM).")
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None, help="Server private key (PEM).")
@click.option("--insecure-http", is_flag=True, help="Serve plain HTTP (loopback addresses only).")
@click.option("--client-certs", type=click.Choice(CLIENT_CERT_MODES), default=None,
              help="Client certificates from the hub's CA: off, optional (the default over TLS) or required.")
@click.pass_obj
@one_line_errors
def serve(obj: CliContext, bind: str | None, workers: int | None, threads: int | None, tls_cert: str | None,
          tls_key: str | None, insecure_http: bool, client_certs: str | None) -> None:
    """Serve the hub over HTTPS (TAXII 2.1 at /taxii2/)."""
    settings = obj.settings()
    if threads is not None:  # the application sizes each organisation's share of the threads from this
        settings = dataclasses.replace(settings, server=dataclasses.replace(settings.server, threads=threads))
    threads = settings.server.threads
    bind = bind or settings.server.bind
    host, port = checks.split_bind(bind)
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers or settings.server.workers,
        "threads": threads,
        "worker_class": buffering_worker(
            settings.server.header_timeout, settings.server.body_timeout, settings.server.reading_per_address,
            _largest_body(settings), _body_limits(settings)),
        "timeout": settings.server.timeout,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "logger_class": logs.GunicornLogger,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "proc_name": "taxii-hub",
        "forwarded_allow_ips": "",
        "control_socket_disable": True,
    }
    if insecure_http:
        if tls_cert or tls_key:
            raise ConfigError("--insecure-http cannot be combined with --tls-cert/--tls-key")
        if not _is_loopback(host):
            raise ConfigError(f"--insecure-http is allowed only on a loopback address, not {host!r}")
        if client_certs not in (None, "off"):
            raise ConfigError("--client-certs needs TLS (certificates are presented in the TLS handshake); "
                              "drop --insecure-http or use --client-certs off")
        scheme = "http"
        tls_files = None
    else:
        cert = tls_cert or str(settings.tls_cert)
        key = tls_key or str(settings.tls_key)
        tls_files = (Path(cert), Path(key))
        options.update(certfile=cert, keyfile=key, ssl_context=_tls_context)
        scheme = "https"
    _preflight(obj, bind, tls_files)
    if scheme == "https":
        options.update(_client_cert_options(client_certs or "optional", settings))
    shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
    certs = f" (client certificates: {client_certs or 'optional'})" if scheme == "https" else ""
    click.echo(f"taxii-hub serving {scheme}://{shown}:{port}/taxii2/{certs}", err=True)
    if scheme == "https" and not tls_cert:
        click.echo(f"clients trust the development CA: {settings.ca_cert}", err=True)
    logs.configure()  # before the workers build the app, so Flask's logger writes JSON lines too
    HubServer(settings, options).run()


def _largest_body(settings: Settings) -> int:
    """The most a request body is buffered before a thread takes it: the largest body any endpoint accepts."""
    roots = max((r.max_content_length for r in settings.api_roots.values()), default=0)
    return max(roots, settings.limits.max_submission_bytes, CONSOLE_UPLOAD_BYTES) + 64 * 1024


def _body_limits(settings: Settings) -> tuple[BodyLimit, ...]:
    """Each surface's largest body, refused by the worker from the declared length before it is read: the
    same limit and message the application applies (web/body.py)."""
    from ..web.errors import HUB_API_PREFIX
    from ..web.hub_api import MAX_FORM_BYTES
    from ..web.media import TAXII

    limits = [BodyLimit(f"/{name}/", root.max_content_length, "max_content_length", TAXII)
              for name, root in settings.api_roots.items()]
    limits.append(BodyLimit(HUB_API_PREFIX, MAX_FORM_BYTES, "max_content_length", "application/json"))
    limits.append(BodyLimit(HUB_API_PREFIX + "submissions", settings.limits.max_submission_bytes,
                            "[limits] max_submission_bytes", "application/json"))
    return tuple(limits)


def _preflight(obj: CliContext, bind: str, tls_files: tuple[Path, Path] | None) -> None:
    """In the master, before any worker starts, the checks `doctor` runs (checks.py): the collection files,
    the TLS files, the database and the address. Each problem is one line with its fix, and any problem stops
    the start before anything is written; warnings are printed and the hub starts. Then the schema is created
    or upgraded (MongoDB: its indexes), once, before the fork."""
    settings = obj.settings()
    creating = obj.new_database()  # without a configuration file this refuses: one line, nothing else to say
    found = [checks.collections(settings)]
    if tls_files is not None:
        found += checks.tls(*tls_files, datetime.datetime.now(datetime.UTC))
    if creating is None:
        database, store = checks.database(settings, now_us)
        if store is not None:
            store.close()
        found += [c for c in database if c.status == "problem" and not _serve_creates(c)]
    found.append(checks.port(bind))
    for check in found:
        if check.status == "warning":
            click.echo(f"taxii-hub: warning: {check.line()}", err=True)
    problems = [check for check in found if check.status == "problem"]
    if not problems:
        try:
            obj.store().close()
        except HubError as exc:
            problems.append(checks.Check("database", "problem", f"{settings.storage.url}: {exc.message}",
                                         "check storage.url and run `taxii-hub doctor`"))
    for check in problems:
        click.echo(f"taxii-hub: {check.line()}", err=True)
    if problems:
        raise click.exceptions.Exit(1)


def _serve_creates(check: checks.Check) -> bool:
    """An empty database (a new MongoDB database, say) is not a problem for `serve`: it creates the schema."""
    return check.name == "schema" and "no hub schema" in check.detail


def register(group: click.Group) -> None:
    group.add_command(serve)
