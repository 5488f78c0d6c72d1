"""The `taxii-hub` command. It goes through the same services and access rules as HTTP.

Every failure the user can cause is one line on stderr (`taxii-hub: …`) and a non-zero exit, never a
traceback. Commands that print data take `--json`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import ConfigError, HubError
from ..settings import CONFIG_ENV, SEARCH_PATHS, Settings, load_settings
from ..storage import Store, open_store

if TYPE_CHECKING:  # the command's start-up does not import the hub workflow
    from ..hub.publishing import PublicationListener

F = TypeVar("F", bound=Callable[..., Any])


class CliContext:
    """What every command shares: the configuration path and, once asked for, the settings. A program that
    runs the command in process (the tests) may pass its own context as click's `obj`, with a listener told of
    every publication the command writes."""

    def __init__(self, config: Path | None, on_published: PublicationListener | None = None) -> None:
        self.config = config
        self.on_published = on_published
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def store(self) -> Store:
        """The hub's store, created or upgraded as needed. A database is created only under a configuration
        file (a forgotten --config must not silently start an empty hub in the working directory), and its
        creation is announced together with the configuration that asked for it."""
        settings = self.settings()
        database = self.new_database()
        store = open_store(settings.storage.url)
        try:
            store.initialise()
        except BaseException:
            store.close()
            raise
        if database is not None:
            announce(settings, f"created the database {database}")
        return store

    def new_database(self) -> Path | None:
        """The SQLite file the store would create, or None when it exists (or is not a file). Without a
        configuration file this refuses, with the one line that says what to do."""
        settings = self.settings()
        database = sqlite_file(settings.storage.url)
        if database is None or database.exists():
            return None
        refuse_without_config(settings, f"a database at {database}")
        return database


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite storage URL names (None for other backends and in-memory databases)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").partition("?")[0]
    return None if path in ("", ":memory:") else Path(path)


def refuse_without_config(settings: Settings, what: str) -> None:
    if settings.config_file is None:
        tried = ", ".join(("--config", f"${CONFIG_ENV}", *(f"./{p}" if not p.is_absolute() else str(p)
                                                           for p in SEARCH_PATHS)))
        raise ConfigError(f"no configuration file found ({tried}), so not creating {what}: run `taxii-hub init` "
                          "to set up a hub in this directory, or name the configuration with --config FILE")


def announce(settings: Settings | None, done: str) -> None:
    """One line on stderr for something a command created, naming the configuration it followed."""
    suffix = f" (configuration {settings.config_description})" if settings is not None else ""
    click.echo(f"taxii-hub: {done}{suffix}", err=True)


def fail(message: str) -> click.exceptions.Exit:
    click.echo(f"taxii-hub: {message}", err=True)
    return click.exceptions.Exit(1)


def one_line_errors(func: F) -> F:
    """Turn the hub's own errors into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HubError as exc:
            raise fail(exc.message) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(f"{where}{exc.strerror or exc}") from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Configuration file (TOML); default $TAXII_HUB_CONFIG, else ./config/hub.toml, else "
                   "/etc/taxii-hub/hub.toml.")
@click.version_option(package_name="taxii-hub")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """taxii-hub: a STIX 2.1 / TAXII 2.1 threat-feed hub.

    Shell completion (bash; zsh and fish likewise): eval "$(_TAXII_HUB_COMPLETE=bash_source taxii-hub)"
    """
    ctx.obj = CliContext(config, ctx.obj.on_published if isinstance(ctx.obj, CliContext) else None)


def _register() -> None:
    from . import admin, allow, backup, certs, convert, correlation, doctor, feed_exports, hub, serve

    for module in (admin, certs, serve, convert, hub, correlation, allow, feed_exports, backup, doctor):
        module.register(main)


_register()


def run() -> None:  # pragma: no cover - the console-script shim
    sys.exit(main())
