"""The hub's settings, read once: defaults < TOML file < TAXII_HUB_* environment variables.

The file is the first of: the path given (`--config`), $TAXII_HUB_CONFIG, `./config/hub.toml`,
`/etc/taxii-hub/hub.toml`. Without any, the built-in defaults apply and `Settings.config_file` is None (the
command line then refuses to create a database: see cli/__init__.py).

This is the only module that reads the environment. Unknown keys, in the file or in the environment, are
errors, so a misspelt setting never silently falls back to a default. Relative paths are taken relative to
the working directory the hub is started from.

Environment names: `TAXII_HUB_<KEY>` for a top-level key and `TAXII_HUB_<TABLE>__<KEY>` for a key inside a
table (`TAXII_HUB_STORAGE__URL`). `TAXII_HUB_CONFIG` names the file; `TAXII_HUB_TEST_*` belong to the tests.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .model import ApiRootDef

ENV_PREFIX = "TAXII_HUB_"
CONFIG_ENV = "TAXII_HUB_CONFIG"
# Where a configuration file is looked for when none is named, in order.
SEARCH_PATHS = (Path("config/hub.toml"), Path("/etc/taxii-hub/hub.toml"))
_ENV_NOT_SETTINGS = ("TAXII_HUB_CONFIG", "TAXII_HUB_TEST_")


@dataclass(frozen=True)
class StorageSettings:
    url: str


@dataclass(frozen=True)
class ServerSettings:
    bind: str = "127.0.0.1:8443"
    workers: int = 2
    threads: int = 2  # per worker (more threads mean more GIL contention: 2 measured best, bench/README.md)
    timeout: int = 30
    tls_cert: str = ""  # default: <data_dir>/tls/server.crt, made by `taxii-hub init`
    tls_key: str = ""
    # The address clients reach the hub at ("https://hub.example.org"): discovery's api_roots and default, and
    # the console's connection page, become absolute URLs under it. Never taken from Host or X-Forwarded-*.
    public_url: str = ""
    # Slow clients: a connection has header_timeout seconds for its TLS handshake and request head, then
    # body_timeout for its body, all read before a thread is committed; at most reading_per_address
    # connections of one client address are being read at once (per worker process).
    header_timeout: int = 10
    body_timeout: int = 60
    reading_per_address: int = 32


@dataclass(frozen=True)
class DiscoverySettings:
    title: str = "taxii-hub"
    description: str = "STIX 2.1 / TAXII 2.1 threat-feed hub"
    contact: str = ""
    default: str = ""


@dataclass(frozen=True)
class ConversionSettings:
    """What the converters need from the hub: the key behind keyed SDO/SRO ids and the hub's name."""

    id_key: str = "taxii-hub-development-id-key"
    hub_identity_name: str = "taxii-hub"


@dataclass(frozen=True)
class HubSettings:
    """The sharing workflow's policy."""

    correlation_window_days: int = 90  # reports further apart than this are never linked
    # Over-correlation guard: a value seen in more reports, from more organisations, or over a longer span
    # (first to last report) than these is shown as evidence but never links reports.
    correlation_max_reports: int = 200
    correlation_max_organisations: int = 20
    correlation_max_span_days: int = 60
    correlation_warning_lists: bool = True  # values on the MISP warning lists never link reports either
    correlation_worker: bool = True  # `serve` runs the correlation step in a thread of each worker process
    min_group_count: int = 2  # a group's count of reporting members is published only from this many (at least 2)
    min_group_size: int = 4  # ... and only for groups of at least this many members (smaller ones are pooled)
    two_person_rule: bool = False  # a publication needs a second analyst's approval
    valid_days_ip: int = 30  # valid_until of IP indicators, from publication
    valid_days_compromised_site: int = 14
    valid_days_domain: int = 90
    valid_days_url: int = 60
    valid_days_email: int = 180  # sender addresses; file hashes never expire


@dataclass(frozen=True)
class LimitsSettings:
    """Rate limits (token buckets in the store, shared by every worker) and the bounds of the poll history.

    A rate is refilled per minute up to its burst. 0 as a rate turns that limit off. `enabled = false` turns
    every limit off (benchmarks, load tests). `client_address_header` names a header a proxy on this machine
    sets to the client's address (nginx: X-Real-IP); it is believed only from a loopback or unix-socket peer.
    """

    enabled: bool = True
    org_requests_per_minute: int = 0  # 0: no per-organisation limit, and no store write for a valid API key
    org_burst: int = 600
    address_failures_per_minute: int = 10  # failed authentications (wrong password, unknown key) per address
    address_failure_burst: int = 30
    account_failures_per_minute: int = 5  # password attempts per account name, taken before the hash runs
    account_failure_burst: int = 10
    client_address_header: str = ""
    poll_history_days: int = 30
    poll_history_per_org: int = 10_000
    # Feed fetches are counted in memory per (organisation, credential, collection, feed, status) and written
    # to the poll history at most this often (and at exit); a crash loses at most this many seconds of them.
    # 0 writes each fetch as it is answered.
    poll_feed_flush_seconds: int = 5
    # Budgets of one report (incident records, mails, STIX bundles, console uploads), checked before schema
    # validation or conversion; over one is a 413/400 naming the field and the limit (converters/limits.py).
    max_submission_bytes: int = 20 * 1024 * 1024
    max_records: int = 1000
    max_messages: int = 100
    max_recipients: int = 500
    max_attachments: int = 100
    max_urls: int = 500
    max_text_chars: int = 512 * 1024
    max_field_chars: int = 16 * 1024
    # Every JSON body (TAXII envelopes, hub API, uploads): the longest string, array and object.
    max_json_string_chars: int = 1024 * 1024
    max_json_array_items: int = 100_000
    max_json_object_members: int = 10_000
    conversion_cpu_seconds: int = 20  # CPU time one report's conversion may take before it is rejected
    submission_worker_share: int = 50  # percent of a worker's threads one organisation's conversions may hold


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    collections_dir: Path
    storage: StorageSettings
    api_roots: Mapping[str, ApiRootDef]
    discovery: DiscoverySettings = DiscoverySettings()
    server: ServerSettings = ServerSettings()
    conversion: ConversionSettings = ConversionSettings()
    hub: HubSettings = HubSettings()
    limits: LimitsSettings = LimitsSettings()
    max_page_size: int = 1000
    status_retention_seconds: int = 7 * 24 * 3600
    future_skew_seconds: int = 300  # `created`/`modified` later than this after the hub's clock are refused
    source: str = field(default="defaults", compare=False)
    config_file: Path | None = field(default=None, compare=False)
    found_by: str = field(default="", compare=False)  # "--config", "$TAXII_HUB_CONFIG", or the searched path

    @property
    def config_description(self) -> str:
        """Which configuration this is, for the lines a command prints when it creates something."""
        if self.config_file is None:
            return "built-in defaults (no configuration file found)"
        if self.found_by in ("--config", f"${CONFIG_ENV}"):
            return f"{self.config_file}, from {self.found_by}"
        return f"{self.config_file}, found as {self.found_by}"

    @property
    def tls_cert(self) -> Path:
        return Path(self.server.tls_cert) if self.server.tls_cert else self.data_dir / "tls" / "server.crt"

    @property
    def tls_key(self) -> Path:
        return Path(self.server.tls_key) if self.server.tls_key else self.data_dir / "tls" / "server.key"

    @property
    def public_base(self) -> str:
        """What goes before an absolute path ("/taxii2/") to make the URL clients use: the configured
        public_url without its trailing slash, or "" (then URLs stay relative)."""
        return self.server.public_url.rstrip("/")

    @property
    def ca_cert(self) -> Path:
        return self.data_dir / "tls" / "ca.crt"


_TOP_LEVEL: dict[str, type] = {
    "data_dir": str,
    "collections_dir": str,
    "max_page_size": int,
    "status_retention_seconds": int,
    "future_skew_seconds": int,
}
_TABLES: dict[str, type] = {
    "storage": StorageSettings,
    "server": ServerSettings,
    "discovery": DiscoverySettings,
    "conversion": ConversionSettings,
    "hub": HubSettings,
    "limits": LimitsSettings,
}
_API_ROOT_KEYS: dict[str, type] = {"title": str, "description": str, "max_content_length": int}
_DEFAULT_API_ROOTS = {
    "hub": {"title": "taxii-hub sharing hub", "description": "Vetted intelligence from the hub's members"}
}


def find_config(path: str | os.PathLike[str] | None, env: Mapping[str, str],
                search: tuple[Path, ...] = SEARCH_PATHS) -> tuple[Path | None, str]:
    """The configuration file to read and how it was chosen: the path given, else $TAXII_HUB_CONFIG, else the
    first of `search` that exists. A path given or named by the environment must exist (reading it says so)."""
    if path:
        return Path(path), "--config"
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]), f"${CONFIG_ENV}"
    for candidate in search:
        if candidate.is_file():
            return candidate, str(candidate) if candidate.is_absolute() else f"./{candidate}"
    return None, ""


def locate_config(path: str | os.PathLike[str] | None) -> tuple[Path | None, str]:
    """`find_config` with this process's environment (for `init`, which writes a configuration where none is)."""
    return find_config(path, os.environ)


def load_settings(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
                  search: tuple[Path, ...] = SEARCH_PATHS) -> Settings:
    """Read the settings from the file `find_config` chooses (none: defaults) and the environment."""
    env = os.environ if env is None else env
    config_file, found_by = find_config(path, env, search)
    raw: dict[str, Any] = {}
    source = "defaults"
    if config_file is not None:
        raw = _read_toml(config_file)
        source = str(config_file)
    _merge_environment(raw, env)
    return dataclasses.replace(_build(raw, source), config_file=config_file, found_by=found_by)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _merge_environment(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(_ENV_NOT_SETTINGS):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if "__" in key:
            table, _, sub = key.partition("__")
            target = raw.setdefault(table, {})
            if not isinstance(target, dict):
                raise ConfigError(f"environment {name}: {table} is not a table")
            target[sub] = value
        else:
            raw[key] = value


def _coerce(where: str, value: Any, wanted: type) -> Any:
    if wanted is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if wanted is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def _table(name: str, value: Any, cls: type) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(types))
    if unknown:
        raise ConfigError(f"[{name}]: unknown key {unknown[0]!r} (known: {', '.join(sorted(types))})")
    wanted = {"int": int, "bool": bool, int: int, bool: bool}
    kwargs = {k: _coerce(f"{name}.{k}", v, wanted.get(types[k], str)) for k, v in value.items()}
    return cls(**kwargs)


def _api_roots(value: Any) -> dict[str, ApiRootDef]:
    if not isinstance(value, dict) or not value:
        raise ConfigError("[api_roots] must hold at least one table [api_roots.<name>]")
    roots: dict[str, ApiRootDef] = {}
    for name, table in value.items():
        if not name.replace("-", "").replace("_", "").isalnum() or name == "taxii2":
            raise ConfigError(f"[api_roots.{name}]: the name must be a plain URL path segment other than taxii2")
        if not isinstance(table, dict):
            raise ConfigError(f"[api_roots.{name}] must be a table")
        unknown = sorted(set(table) - set(_API_ROOT_KEYS))
        if unknown:
            raise ConfigError(f"[api_roots.{name}]: unknown key {unknown[0]!r}")
        if "title" not in table:
            raise ConfigError(f"[api_roots.{name}]: title is required")
        kwargs = {k: _coerce(f"api_roots.{name}.{k}", v, _API_ROOT_KEYS[k]) for k, v in table.items()}
        root = ApiRootDef(name=name, **kwargs)
        if root.max_content_length <= 0:
            raise ConfigError(f"[api_roots.{name}]: max_content_length must be positive")
        roots[name] = root
    return roots


def _build(raw: dict[str, Any], source: str) -> Settings:
    known = set(_TOP_LEVEL) | set(_TABLES) | {"api_roots"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    top = {k: _coerce(k, raw[k], t) for k, t in _TOP_LEVEL.items() if k in raw}
    data_dir = Path(top.pop("data_dir", "var"))
    collections_dir = Path(top.pop("collections_dir", "collections"))
    storage_raw = dict(raw.get("storage", {}))
    storage_raw.setdefault("url", f"sqlite:///{data_dir / 'hub.sqlite3'}")
    tables = {name: _table(name, raw[name], cls) for name, cls in _TABLES.items() if name in raw and name != "storage"}
    settings = Settings(
        data_dir=data_dir,
        collections_dir=collections_dir,
        storage=_table("storage", storage_raw, StorageSettings),
        api_roots=_api_roots(raw.get("api_roots", _DEFAULT_API_ROOTS)),
        source=source,
        **tables,
        **top,
    )
    if settings.max_page_size <= 0:
        raise ConfigError(f"{source}: max_page_size must be positive")
    if settings.status_retention_seconds < 24 * 3600:
        raise ConfigError(f"{source}: status_retention_seconds must be at least 86400 (TAXII 2.1 §4.3)")
    if settings.future_skew_seconds < 0:
        raise ConfigError(f"{source}: future_skew_seconds must be 0 or more")
    _check_limits(source, settings.limits)
    _check_public_url(source, settings.server.public_url)
    server = settings.server
    if min(server.header_timeout, server.body_timeout, server.reading_per_address, server.threads) < 1:
        raise ConfigError(f"{source}: [server] header_timeout, body_timeout, reading_per_address and threads must "
                          "be at least 1")
    default = settings.discovery.default
    if default and default not in settings.api_roots:
        raise ConfigError(f"[discovery] default {default!r} is not one of the api_roots")
    return settings


def _check_public_url(source: str, url: str) -> None:
    """An https:// URL without query, fragment or credentials (TAXII §4.1.1: API roots are HTTPS or relative)."""
    if not url:
        return
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username \
            or parts.password or any(c.isspace() for c in url):
        raise ConfigError(f"{source}: [server] public_url must be an https:// URL with a host and no query, "
                          f"fragment or credentials, like \"https://hub.example.org\"; got {url[:100]!r}")


def _check_limits(source: str, limits: LimitsSettings) -> None:
    rates = (limits.org_requests_per_minute, limits.address_failures_per_minute, limits.account_failures_per_minute)
    bursts = (limits.org_burst, limits.address_failure_burst, limits.account_failure_burst)
    if min(rates) < 0 or min(bursts) < 1:
        raise ConfigError(f"{source}: [limits] rates must be 0 (off) or positive, and bursts at least 1")
    if limits.poll_history_days < 1 or limits.poll_history_per_org < 1:
        raise ConfigError(f"{source}: [limits] poll_history_days and poll_history_per_org must be at least 1")
    if not 0 <= limits.poll_feed_flush_seconds <= 3600:
        raise ConfigError(f"{source}: [limits] poll_feed_flush_seconds must be between 0 and 3600")
    for name in _BUDGETS:
        if getattr(limits, name) < 1:
            raise ConfigError(f"{source}: [limits] {name} must be at least 1")
    if not 1 <= limits.submission_worker_share <= 100:
        raise ConfigError(f"{source}: [limits] submission_worker_share is a percentage from 1 to 100")


_BUDGETS = ("max_submission_bytes", "max_records", "max_messages", "max_recipients", "max_attachments", "max_urls",
            "max_text_chars", "max_field_chars", "max_json_string_chars", "max_json_array_items",
            "max_json_object_members", "conversion_cpu_seconds")
