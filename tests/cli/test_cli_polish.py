"""CLI polish: `doctor` on healthy and broken deployments, progress that stays out of non-terminal output,
shell completion, `--json` on every command that prints data."""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from taxii_server.cli import main
from taxii_server.cli.progress import progress
from tests.support.hubtest import COLLECTIONS, write_collections, write_config

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "tests" / "data" / "samples" / "records"
CLI = Path(sys.executable).parent / "taxii-hub"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_collections(tmp_path / "collections", COLLECTIONS)
    path = write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")
    assert run(path, "init", "--demo").exit_code == 0
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def checks(result: Result) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_doctor_finds_a_fresh_deployment_healthy(config: Path) -> None:
    result = run(config, "doctor", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["healthy"] is True
    found = {n: c["status"] for n, c in checks(result).items()}
    assert found.pop("port") in ("ok", "warning")  # the configured port may be taken by another hub here
    assert found == {"config": "ok", "database": "ok", "schema": "ok", "writable": "ok", "tls": "ok",
                     "collections": "ok", "clock": "ok", "correlation": "ok"}


def test_doctor_says_to_run_init_when_there_is_no_database(tmp_path: Path) -> None:
    write_collections(tmp_path / "collections", COLLECTIONS)
    config = write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")
    result = run(config, "doctor")
    assert result.exit_code == 1
    assert "PROBLEM  database" in result.stdout and "fix: run `taxii-hub init`" in result.stdout


def test_doctor_reports_a_configuration_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text("no_such_setting = 1\n")
    result = run(tmp_path / "hub.toml", "doctor", "--json")
    assert result.exit_code == 1 and checks(result)["config"]["status"] == "problem"
    assert "no_such_setting" in checks(result)["config"]["detail"]


def test_doctor_reports_an_invalid_collection(config: Path, tmp_path: Path) -> None:
    (tmp_path / "collections" / "broken.toml").write_text('id = "not-a-uuid"\n')
    result = run(config, "doctor", "--json")
    assert result.exit_code == 1 and checks(result)["collections"]["status"] == "problem"


def _self_signed(directory: Path, not_before: datetime.datetime, not_after: datetime.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def test_doctor_reports_an_expired_certificate(config: Path, tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    _self_signed(tmp_path / "var" / "tls", now - datetime.timedelta(days=400), now - datetime.timedelta(days=1))
    tls = checks(run(config, "doctor", "--json"))["tls"]
    assert tls["status"] == "problem" and "expired" in tls["detail"] and tls["fix"]


def test_doctor_warns_of_a_certificate_about_to_expire(config: Path, tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    _self_signed(tmp_path / "var" / "tls", now - datetime.timedelta(days=1), now + datetime.timedelta(days=5))
    result = run(config, "doctor", "--json")
    assert result.exit_code == 0 and checks(result)["tls"]["status"] == "warning"


def test_doctor_reports_a_key_that_is_not_the_certificates(config: Path, tmp_path: Path) -> None:
    (tmp_path / "var" / "tls" / "server.key").write_bytes((tmp_path / "var" / "tls" / "ca.key").read_bytes())
    assert checks(run(config, "doctor", "--json"))["tls"]["status"] == "problem"


def test_doctor_reports_a_clock_behind_the_hubs_records(config: Path) -> None:
    from taxii_server.cli import CliContext
    from taxii_server.cli.doctor import diagnose

    assert run(config, "submit", "--as", "kita-heavy", str(RECORDS / "case04-conversation.json")).exit_code == 0
    found = {c.name: c for c in diagnose(CliContext(config), clock=lambda: 1_000_000_000_000_000)}
    assert found["clock"].status == "problem"


def test_long_commands_print_only_their_own_lines_when_not_on_a_terminal(config: Path, tmp_path: Path) -> None:
    files = [str(p) for p in sorted(RECORDS.glob("case02-*.json"))]
    submitted = run(config, "submit", "--as", "kita-heavy", *files[:1])
    assert submitted.exit_code == 0 and submitted.stderr == ""
    exported = run(config, "export", "-o", str(tmp_path / "export"))
    assert exported.exit_code == 0 and exported.stderr == "" and "\r" not in exported.stdout
    assert "\x1b" not in exported.stdout and exported.stdout.count("\n") == 1


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_drawn_and_then_cleared() -> None:
    screen = FakeTerminal()
    with progress("submit", 3, stream=screen) as step:
        for name in ("a.eml", "b.eml", "c.eml"):
            step(name)
    assert "submit" in screen.getvalue()


def test_progress_writes_nothing_into_a_pipe() -> None:
    pipe = io.StringIO()
    with progress("submit", 3, stream=pipe) as step:
        step("a.eml")
    assert pipe.getvalue() == ""


def test_bash_completion_script_is_generated() -> None:
    env = {**os.environ, "_TAXII_HUB_COMPLETE": "bash_source"}
    result = subprocess.run([str(CLI)], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0 and "_taxii_hub_completion" in result.stdout and "complete " in result.stdout


def test_completion_offers_the_commands() -> None:
    env = {**os.environ, "_TAXII_HUB_COMPLETE": "bash_complete", "COMP_WORDS": "taxii-hub do", "COMP_CWORD": "1"}
    result = subprocess.run([str(CLI)], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert "doctor" in result.stdout


@pytest.mark.parametrize("command", ["dismiss", "revoke"])
def test_commands_that_print_data_take_json(config: Path, command: str) -> None:
    assert "--json" in run(config, command, "--help").stdout


def test_validate_prints_its_verdicts_as_json(config: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text('{"type": "bundle", "id": "bundle--6f1e2b9c-6d3c-4b8e-9f0a-1c2d3e4f5a6b", "objects": []}')
    result = run(config, "validate", "--json", str(bundle))
    assert json.loads(result.stdout)[0]["file"] == str(bundle)
