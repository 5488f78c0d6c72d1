"""`taxii-hub export`, `import` and `migrate` through click's runner: results, --json, one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from tests.support.hubtest import C_RW, COLLECTIONS, write_collections, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_collections(tmp_path / "collections", COLLECTIONS)
    config = write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")
    for org in ("alice", "bob"):
        assert run(config, "org", "add", org, "--name", org.title(), "--group", "gas").exit_code == 0
        assert run(config, "key", "create", org).exit_code == 0
    return config


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], env=env)


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taxii-hub: ") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def other_hub(tmp_path: Path) -> tuple[Path, str]:
    """A second, empty hub configuration, and its storage URL."""
    url = f"sqlite:///{tmp_path / 'other' / 'hub.sqlite3'}"
    return write_config(tmp_path / "other.toml", tmp_path / "other", tmp_path / "collections"), url


def test_export_then_import_into_an_empty_hub_restores_organisations_and_keys(config: Path, tmp_path: Path) -> None:
    exported = run(config, "export", "-o", str(tmp_path / "backup"), "--json")
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["streams"]["credentials.jsonl"]["count"] == 2
    target, _ = other_hub(tmp_path)
    imported = run(target, "import", str(tmp_path / "backup"))
    assert imported.exit_code == 0, imported.output
    assert "verified" in imported.stdout
    assert json.loads(run(target, "key", "list", "--json").stdout) == json.loads(run(config, "key", "list",
                                                                                      "--json").stdout)


def test_export_of_one_collection(config: Path, tmp_path: Path) -> None:
    result = run(config, "export", "--collection", C_RW, "-o", str(tmp_path / "one"), "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["streams"]) == {f"collections/{C_RW}.jsonl", f"owners/{C_RW}.jsonl"}


def test_import_into_a_non_empty_hub_is_refused_without_force(config: Path, tmp_path: Path) -> None:
    assert run(config, "export", "-o", str(tmp_path / "backup")).exit_code == 0
    assert_one_line_error(run(config, "import", str(tmp_path / "backup")), "not empty; use --force")
    assert run(config, "import", str(tmp_path / "backup"), "--force").exit_code == 0


def test_exporting_over_an_earlier_export_needs_force(config: Path, tmp_path: Path) -> None:
    assert run(config, "export", "-o", str(tmp_path / "backup")).exit_code == 0
    assert_one_line_error(run(config, "export", "-o", str(tmp_path / "backup")), "already holds an export")


def test_import_of_a_directory_that_is_not_an_export_is_one_line(config: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run(config, "import", str(tmp_path / "empty")), "no manifest")


def test_migrate_copies_the_hub_and_refuses_to_overwrite(config: Path, tmp_path: Path) -> None:
    target, url = other_hub(tmp_path)
    first = run(config, "migrate", "--to", url, "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(run(target, "org", "list", "--json").stdout)[0]["id"] == "alice"
    assert_one_line_error(run(config, "migrate", "--to", url), "not empty; use --force")
    assert run(config, "migrate", "--to", url, "--force").exit_code == 0


def test_migrate_to_an_unknown_kind_of_storage_is_one_line(config: Path) -> None:
    assert_one_line_error(run(config, "migrate", "--to", "postgres://db/hub"), "unsupported storage URL")


def test_migrate_to_an_unreachable_mongodb_is_one_line_within_seconds(config: Path) -> None:
    result = run(config, "migrate", "--to", "mongodb://127.0.0.1:9/taxii_hub?serverSelectionTimeoutMS=300"
                 "&timeoutMS=500")
    assert_one_line_error(result, "database could not")
