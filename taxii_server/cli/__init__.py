"""The `taxii-hub` command. It goes through the same services and access rules as HTTP.

Every failure the user can cause is one line on stderr (`taxii-hub: …`) and a non-zero exit, never a
traceback. Commands that print data take `--json`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import HubError
from ..settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class CliContext:
    """What every command shares: the configuration path and, once asked for, the settings."""

    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


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
              help="Configuration file (TOML); default $TAXII_HUB_CONFIG, else built-in defaults.")
@click.version_option(package_name="taxii-hub")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """taxii-hub: a STIX 2.1 / TAXII 2.1 threat-feed hub.

    Shell completion (bash; zsh and fish likewise): eval "$(_TAXII_HUB_COMPLETE=bash_source taxii-hub)"
    """
    ctx.obj = CliContext(config)


def _register() -> None:
    from . import admin, allow, backup, certs, convert, doctor, hub, serve

    for module in (admin, certs, serve, convert, hub, allow, backup, doctor):
        module.register(main)


_register()


def run() -> None:  # pragma: no cover - the console-script shim
    sys.exit(main())
