"""The `taxii-hub` command through click's runner: results, --json output, and one-line errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from tests.support.hubtest import COLLECTIONS, write_collections, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_collections(tmp_path / "collections", COLLECTIONS)
    return write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")


def run(config: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], input=input)


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taxii-hub: ") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_init_creates_the_database_tls_files_and_is_idempotent(config: Path, tmp_path: Path) -> None:
    first = run(config, "init", "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert Path(data["ca_cert"]).exists()
    assert (tmp_path / "var" / "hub.sqlite3").exists()
    assert (tmp_path / "var" / "tls" / "server.key").stat().st_mode & 0o077 == 0
    assert run(config, "init").exit_code == 0


def test_init_demo_prints_each_demo_organisation_with_a_working_key(config: Path) -> None:
    result = run(config, "init", "--demo", "--json")
    orgs = {o["id"]: o for o in json.loads(result.stdout)["organisations"]}
    assert {"kita-heavy", "hub-analyst", "hub-admin"} <= set(orgs)
    again = {o["id"]: o["key"] for o in json.loads(run(config, "init", "--demo", "--json").stdout)["organisations"]}
    assert again["kita-heavy"] == orgs["kita-heavy"]["key"]
    listed = json.loads(run(config, "key", "list", "kita-heavy", "--json").stdout)
    assert len(listed) == 1 and "key" not in listed[0]


def test_org_and_key_lifecycle(config: Path) -> None:
    run(config, "init")
    added = run(config, "org", "add", "sora-air", "--name", "Sora Air", "--group", "transport",
                "--role", "member", "--role", "analyst", "--json")
    assert json.loads(added.stdout)["roles"] == ["member", "analyst"]
    created = json.loads(run(config, "key", "create", "sora-air", "--label", "SIEM", "--json").stdout)
    assert created["key"].startswith("thk_") and created["label"] == "SIEM"
    shown = json.loads(run(config, "org", "show", "sora-air", "--json").stdout)
    assert [k["id"] for k in shown["keys"]] == [created["id"]]
    revoked = json.loads(run(config, "key", "revoke", created["id"], "--json").stdout)
    assert revoked["revoked"]
    assert [o["id"] for o in json.loads(run(config, "org", "list", "--json").stdout)] == ["sora-air"]


def test_collection_list_shows_the_declared_rules(config: Path) -> None:
    rows = json.loads(run(config, "collection", "list", "--json").stdout)
    assert {r["title"] for r in rows} == {c["title"] for c in COLLECTIONS.values()}
    assert next(r for r in rows if r["title"] == "inbox")["visibility"] == "own"


def test_org_set_password_reads_stdin(config: Path) -> None:
    run(config, "init")
    run(config, "org", "add", "sora-air", "--name", "Sora", "--group", "transport")
    accepted = run(config, "org", "set-password", "sora-air", "--password-stdin", input="a long passphrase\n")
    assert accepted.exit_code == 0
    assert_one_line_error(run(config, "org", "set-password", "sora-air", "--password-stdin", input="short\n"),
                          "at least 12 characters")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("org", "add", "sora-air", "--name", "S", "--group", "Transport Group"), "group 'Transport Group'"),
        (("org", "show", "nobody"), "no organisation 'nobody'"),
        (("key", "create", "nobody"), "no organisation 'nobody'"),
        (("key", "revoke", "key-0000"), "no API key 'key-0000'"),
        (("serve", "--insecure-http", "--bind", "0.0.0.0:8080"), "only on a loopback address"),
        (("serve", "--bind", "nonsense"), "must be HOST:PORT"),
    ],
)
def test_user_errors_are_one_line(config: Path, args: tuple[str, ...], fragment: str) -> None:
    run(config, "init")
    assert_one_line_error(run(config, *args), fragment)


def test_duplicate_organisation_is_one_line(config: Path) -> None:
    run(config, "init")
    run(config, "org", "add", "sora-air", "--name", "S", "--group", "transport")
    assert_one_line_error(run(config, "org", "add", "sora-air", "--name", "S", "--group", "transport"),
                          "already exists")


def test_a_bad_configuration_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("data_dri = 'x'\n")
    assert_one_line_error(run(bad, "init"), "unknown setting 'data_dri'")
    assert_one_line_error(run(tmp_path / "absent.toml", "init"), "configuration file not found")


def test_serve_without_tls_files_says_to_run_init(config: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert_one_line_error(run(config, "serve", "--bind", f"127.0.0.1:{free}"), "run `taxii-hub init`")
    assert not (config.parent / "var" / "hub.sqlite3").exists()  # nothing is written before the checks pass
