"""Every module and package of `taxii_server` sits in the import-linter layers contract (setup.cfg), so a new one
cannot escape the rule that imports go down the layers only."""

from __future__ import annotations

import configparser
from pathlib import Path

import taxii_server

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(taxii_server.__file__).parent


def layered() -> set[str]:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    layers = config["importlinter:contract:layers"]["layers"]
    return {name.strip() for line in layers.splitlines() for name in line.replace("|", ":").split(":")
            if name.strip()}


def top_level() -> set[str]:
    modules = {f"taxii_server.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    packages = {f"taxii_server.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    return modules | packages


def test_every_module_of_the_hub_is_in_the_layers_contract() -> None:
    assert top_level() - layered() == set()


def test_the_layers_contract_names_only_modules_that_exist() -> None:
    assert layered() - top_level() == set()
