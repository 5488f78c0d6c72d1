"""`taxii-hub cert issue|list|revoke` and `serve --client-certs` through click's runner."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from taxii_server.cli import main
from taxii_server.cli.serve import _client_cert_options
from taxii_server.errors import ConfigError
from taxii_server.settings import load_settings
from tests.support.hubtest import COLLECTIONS, write_collections, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_collections(tmp_path / "collections", COLLECTIONS)
    path = write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")
    for args in (("init",), ("org", "add", "acme", "--name", "Acme", "--group", "gas")):
        assert run(path, *args).exit_code == 0
    return path


def run(config: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], input=input)


def issue(config: Path, out: Path, *extra: str, input: str | None = None) -> dict[str, object]:
    result = run(config, "cert", "issue", "acme", "-o", str(out), "--json", *extra, input=input)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taxii-hub: ") and fragment in lines[0], result.stderr


def test_issue_writes_the_certificate_its_key_and_a_pkcs12_bundle(config: Path, tmp_path: Path) -> None:
    data = issue(config, tmp_path / "out")
    crt, key, p12 = (tmp_path / "out" / f"acme.{s}" for s in ("crt", "key", "p12"))
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    assert data["serial"] == format(cert.serial_number, "x") and data["org_id"] == "acme"
    assert key.stat().st_mode & 0o077 == 0 and p12.stat().st_mode & 0o077 == 0
    assert pkcs12.load_key_and_certificates(p12.read_bytes(), str(data["p12_password"]).encode())[1] == cert


def test_the_human_output_shows_the_generated_password_once(config: Path, tmp_path: Path) -> None:
    result = run(config, "cert", "issue", "acme", "-o", str(tmp_path / "out"), "--days", "7")
    assert result.exit_code == 0, result.output
    password = result.stdout.strip().splitlines()[-1].rpartition(": ")[2]
    assert pkcs12.load_key_and_certificates((tmp_path / "out" / "acme.p12").read_bytes(), password.encode())


def test_the_pkcs12_password_can_come_from_stdin_and_is_then_not_printed(config: Path, tmp_path: Path) -> None:
    data = issue(config, tmp_path / "out", "--p12-password-stdin", input="correct horse battery\n")
    assert "p12_password" not in data
    p12 = (tmp_path / "out" / "acme.p12").read_bytes()
    assert pkcs12.load_key_and_certificates(p12, b"correct horse battery")[1] is not None


def test_list_and_revoke(config: Path, tmp_path: Path) -> None:
    serial = str(issue(config, tmp_path / "out")["serial"])
    listed = json.loads(run(config, "cert", "list", "acme", "--json").stdout)
    assert [c["serial"] for c in listed] == [serial] and listed[0]["revoked"] is None
    revoked = run(config, "cert", "revoke", serial.upper(), "--json")
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked"]
    assert "REVOKED" in run(config, "cert", "list").stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (("cert", "issue", "nobody", "-o", "OUT"), "no organisation 'nobody'"),
    (("cert", "revoke", "abc123"), "no client certificate with serial abc123"),
    (("cert", "revoke", "xyz"), "not hexadecimal"),
])
def test_user_errors_are_one_line(config: Path, tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(run(config, *(str(tmp_path / "o") if a == "OUT" else a for a in args)), fragment)


def test_issue_never_replaces_existing_files(config: Path, tmp_path: Path) -> None:
    issue(config, tmp_path / "out")
    assert_one_line_error(run(config, "cert", "issue", "acme", "-o", str(tmp_path / "out")), "already exists")
    assert len(json.loads(run(config, "cert", "list", "--json").stdout)) == 1


def test_revoking_twice_is_one_line(config: Path, tmp_path: Path) -> None:
    serial = str(issue(config, tmp_path / "out")["serial"])
    run(config, "cert", "revoke", serial)
    assert_one_line_error(run(config, "cert", "revoke", serial), "already revoked")


def test_serve_refuses_client_certificates_over_plain_http(config: Path) -> None:
    result = run(config, "serve", "--insecure-http", "--client-certs", "optional")
    assert_one_line_error(result, "--client-certs needs TLS")


@pytest.mark.parametrize(("mode", "reqs"), [("optional", ssl.CERT_OPTIONAL), ("required", ssl.CERT_REQUIRED)])
def test_serve_asks_gunicorn_to_verify_client_certificates_against_the_hub_ca(config: Path, mode: str,
                                                                              reqs: int) -> None:
    settings = load_settings(config, env={})
    assert _client_cert_options(mode, settings) == {"cert_reqs": reqs, "ca_certs": str(settings.ca_cert)}
    assert _client_cert_options("off", settings) == {"cert_reqs": ssl.CERT_NONE}


def test_serve_without_the_ca_says_to_run_init(config: Path) -> None:
    settings = load_settings(config, env={})
    settings.ca_cert.unlink()
    with pytest.raises(ConfigError, match="taxii-hub init"):
        _client_cert_options("required", settings)
