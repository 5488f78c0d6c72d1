"""Setting a hub up from nothing: where the configuration comes from, what `init` writes in an empty
directory (from the package's data), and that no command silently creates a database without a configuration.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from taxii_server.settings import SEARCH_PATHS, load_settings
from tests.support.mispcheck import cli_context

REPO = Path(__file__).resolve().parents[2]
SKELETON = REPO / "taxii_server" / "skeleton"


@pytest.fixture
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory with no configuration named anywhere."""
    assert not SEARCH_PATHS[1].exists(), f"{SEARCH_PATHS[1]} exists on this machine and would be found"
    monkeypatch.delenv("TAXII_HUB_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj=cli_context())


def one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taxii-hub: "), result.stderr
    assert all(f in lines[0] for f in fragments), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("command", [("key", "create", "kita-heavy"), ("org", "list"),
                                     ("org", "add", "acme", "--name", "Acme", "--group", "gas"),
                                     ("submissions", "list"), ("export", "-o", "out"), ("serve",)])
def test_commands_refuse_to_create_a_database_where_there_is_no_configuration(empty_dir: Path,
                                                                              command: tuple[str, ...]) -> None:
    line = one_line_error(run(*command), "no configuration file found", "./config/hub.toml",
                          "/etc/taxii-hub/hub.toml", "taxii-hub init", "--config")
    assert "var/hub.sqlite3" in line
    assert list(empty_dir.iterdir()) == []


def test_init_in_an_empty_directory_writes_a_commented_config_and_example_collections(empty_dir: Path) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    config = empty_dir / "config" / "hub.toml"
    assert config.is_file() and config.read_text().count("#") > 20
    for written in (empty_dir / "collections").iterdir():
        assert written.read_bytes() == (SKELETON / "collections" / written.name).read_bytes()
    assert len(list((empty_dir / "collections").iterdir())) == len(list((SKELETON / "collections").glob("*.toml")))
    assert "wrote config/hub.toml" in result.stderr
    assert "created the database var/hub.sqlite3 (configuration config/hub.toml, found as ./config/hub.toml)" \
        in result.stderr
    assert "configuration config/hub.toml, found as ./config/hub.toml" in result.stdout
    listed = run("collection", "list", "--json")
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 5
    doctor = run("doctor", "--json")
    assert json.loads(doctor.stdout)["healthy"] is True, doctor.stdout


def test_init_never_overwrites_a_configuration(empty_dir: Path) -> None:
    assert run("init").exit_code == 0
    config = empty_dir / "config" / "hub.toml"
    config.write_text(config.read_text() + "\n# mine\n")
    (empty_dir / "collections" / "energy.toml").unlink()
    again = run("init")
    assert again.exit_code == 0, again.output
    assert config.read_text().endswith("# mine\n") and "wrote" not in again.stderr
    assert not (empty_dir / "collections" / "energy.toml").exists()  # an existing directory is the operator's


def test_a_named_configuration_that_does_not_exist_is_an_error_not_a_new_file(empty_dir: Path) -> None:
    one_line_error(run("--config", "elsewhere/hub.toml", "init"), "elsewhere/hub.toml: configuration file not found")
    assert list(empty_dir.iterdir()) == []


def test_each_scaffolded_hub_gets_its_own_id_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAXII_HUB_CONFIG", raising=False)
    keys = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        assert run("init").exit_code == 0
        keys.append(load_settings(None, env={}).conversion.id_key)
    assert keys[0] != keys[1] and all(len(k) == 64 for k in keys)


def _keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for key, value in table.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out


def test_the_packaged_config_documents_every_setting_of_the_example_config() -> None:
    packaged = tomllib.loads((SKELETON / "hub.toml").read_text())
    example = tomllib.loads((REPO / "config" / "hub.toml").read_text())
    assert _keys(example) <= _keys(packaged)


def test_the_checkout_s_config_gets_its_collections_from_the_package(empty_dir: Path) -> None:
    """The checkout keeps one copy of the example collections, the packaged one: `make run` runs `init` with
    config/hub.toml, which writes them into the collections directory it names (ignored by git)."""
    (empty_dir / "config").mkdir()
    (empty_dir / "config" / "hub.toml").write_bytes((REPO / "config" / "hub.toml").read_bytes())
    result = run("--config", "config/hub.toml", "init")
    assert result.exit_code == 0, result.output
    written = sorted((empty_dir / "collections").iterdir())
    assert [p.name for p in written] == sorted(p.name for p in (SKELETON / "collections").glob("*.toml"))
    assert all(p.read_bytes() == (SKELETON / "collections" / p.name).read_bytes() for p in written)
    assert "/collections/" in (REPO / ".gitignore").read_text().splitlines()


def test_the_demo_hint_is_a_command_that_works_as_printed(empty_dir: Path) -> None:
    result = run("init", "--demo")
    assert result.exit_code == 0, result.output
    keys = json.loads((empty_dir / "var" / "demo-keys.json").read_text())
    (hint,) = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("curl ")]
    assert hint.startswith("curl -g ") and f"-u kita-heavy:{keys['kita-heavy']} " in hint
    assert "https://localhost:8443/" in hint and "KEY" not in hint


def test_the_demo_hint_names_the_member_feed_by_its_id_for_products(empty_dir: Path) -> None:
    """MISP's TAXII import (taxii2-client) refuses a collection whose URL does not contain its id."""
    result = run("init", "--demo")
    (hint,) = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("curl ")]
    assert "/hub/collections/bc5bba2c-fbdf-49b1-9252-46057d616761/objects/" in hint
    assert "member-feed" not in hint
