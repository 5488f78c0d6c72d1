"""What `taxii-hub init` writes where nothing is configured yet: a commented `hub.toml` and the example
collections, from the package's own data (`taxii_server/skeleton/`), so that a hub installed from a wheel can
be set up in an empty directory. It never overwrites a file.
"""

from __future__ import annotations

import secrets
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

PLACEHOLDER_ID_KEY = 'id_key = "CHANGE-ME"'


def skeleton() -> Traversable:
    return files("taxii_server") / "skeleton"


def write_config(path: Path) -> None:
    """The commented configuration, with a random secret behind the hub's STIX ids."""
    text = (skeleton() / "hub.toml").read_text(encoding="utf-8")
    text = text.replace(PLACEHOLDER_ID_KEY, f'id_key = "{secrets.token_hex(32)}"', 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:
        fh.write(text)


def write_collections(directory: Path) -> int:
    """The example collections (member feed, inbox, sector-group collections, analysts' workbench)."""
    directory.mkdir(parents=True)
    examples = sorted((e for e in (skeleton() / "collections").iterdir() if e.name.endswith(".toml")),
                      key=lambda e: e.name)
    for example in examples:
        (directory / example.name).write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    return len(examples)
