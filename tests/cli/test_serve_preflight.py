"""`serve` checks the deployment in the master before any worker starts — the same checks as `doctor` — and
reports each problem as one line with its fix, writing nothing (no gunicorn start, no "serving" line)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from taxii_server.storage import open_store
from tests.support.hubtest import COLLECTIONS, write_collections, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_collections(tmp_path / "collections", COLLECTIONS)
    path = write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")
    assert run(path, "init").exit_code == 0
    return path


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something else already listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def serve(config: Path, port: int | None = None) -> Result:
    return run(config, "serve", "--bind", f"127.0.0.1:{port or free_port()}")


def problem_lines(result: Result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "serving" not in result.output and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("taxii-hub: ") and "; fix: " in line for line in lines), lines
    return lines


def test_a_bad_collection_file_is_one_line_naming_file_and_position(config: Path, tmp_path: Path) -> None:
    (tmp_path / "collections" / "energy.toml").write_text('id = "x"\ntitle = "unterminated\n')
    (line,) = problem_lines(serve(config))
    assert "energy.toml: not valid TOML" in line and "line 2" in line and "correct that collection file" in line


def test_a_port_in_use_is_one_line_naming_the_port_and_bind(config: Path, listening: int) -> None:
    (line,) = problem_lines(serve(config, listening))
    assert f"port {listening} on 127.0.0.1 is already in use" in line and "--bind 127.0.0.1:" in line


def test_missing_tls_files_are_one_line_saying_to_run_init(config: Path, tmp_path: Path) -> None:
    (tmp_path / "var" / "tls" / "server.crt").unlink()
    (line,) = problem_lines(serve(config))
    assert "server.crt: No such file or directory" in line and "run `taxii-hub init`" in line


def test_a_key_that_is_not_the_certificate_s_is_one_line(config: Path, tmp_path: Path) -> None:
    tls = tmp_path / "var" / "tls"
    (tls / "server.key").write_bytes((tls / "ca.key").read_bytes())
    (line,) = problem_lines(serve(config))
    assert "server.key is not the key of" in line


def test_a_database_from_a_newer_hub_is_one_line(config: Path, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'var' / 'hub.sqlite3'}")
    store.import_meta("schema_version", "999")
    store.close()
    (line,) = problem_lines(serve(config))
    assert "schema 999 is newer than this hub understands" in line and "upgrade taxii-hub" in line


def test_every_problem_is_reported_not_only_the_first(config: Path, tmp_path: Path, listening: int) -> None:
    (tmp_path / "collections" / "energy.toml").write_text("title = [\n")
    (tmp_path / "var" / "tls" / "server.key").unlink()
    lines = problem_lines(serve(config, listening))
    assert len(lines) == 3
    assert ["energy.toml" in lines[0], "server.key" in lines[1], f"port {listening}" in lines[2]] == [True] * 3


def test_doctor_reports_the_same_problem_as_serve(config: Path, tmp_path: Path) -> None:
    (tmp_path / "collections" / "energy.toml").write_text('id = "x"\ntitle = "unterminated\n')
    (line,) = problem_lines(serve(config))
    doctor = run(config, "doctor")
    assert doctor.exit_code == 1
    detail, fix = line.removeprefix("taxii-hub: ").split("; fix: ")
    assert f"PROBLEM  collections  {detail}" in doctor.stdout and f"fix: {fix}" in doctor.stdout


def test_doctor_warns_about_a_port_in_use_without_failing(config: Path, listening: int, tmp_path: Path) -> None:
    config.write_text(config.read_text() + f'[server]\nbind = "127.0.0.1:{listening}"\n')
    doctor = run(config, "doctor")
    assert doctor.exit_code == 0, doctor.stdout
    assert f"WARNING  port         port {listening} on 127.0.0.1 is already in use" in doctor.stdout
