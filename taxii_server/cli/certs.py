"""`taxii-hub cert issue|list|revoke`: client certificates for members that authenticate with mutual TLS.

They act as the local operator (administrator) through the certificate service (certificates.py). `issue`
writes ORG.crt, ORG.key and ORG.p12 to a directory, never over existing files; the private key exists only
there (the hub keeps the serial and fingerprint).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from ..accounts import OPERATOR
from ..certificates import DEFAULT_DAYS, MAX_DAYS, ClientCertificates, IssuedCertificate
from ..errors import Conflict
from ..model import ClientCertificate
from . import CliContext, one_line_errors


def _service(obj: CliContext) -> ClientCertificates:
    return ClientCertificates(obj.store(), obj.settings().ca_cert.parent)


def _emit(data: Any, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else human)


def _line(c: ClientCertificate) -> str:
    state = f"REVOKED {c.revoked}" if c.revoked else "active"
    return f"{c.serial:<42} {c.org_id:<16} until {c.not_after}  {state}"


@click.group()
def cert() -> None:
    """Manage client certificates (mutual TLS)."""


@cert.command("issue")
@click.argument("org_id")
@click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where to write ORG.crt, ORG.key and ORG.p12 (created if missing; files are never replaced).")
@click.option("--days", type=click.IntRange(1, MAX_DAYS), default=DEFAULT_DAYS, show_default=True,
              help="How long the certificate is valid.")
@click.option("--p12-password-stdin", is_flag=True,
              help="Read the PKCS#12 password from standard input (otherwise a random one is printed once).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def cert_issue(obj: CliContext, org_id: str, output_dir: Path, days: int, p12_password_stdin: bool,
               as_json: bool) -> None:
    """Issue a client certificate for ORG_ID, signed by the hub's CA."""
    password = sys.stdin.readline().rstrip("\r\n") if p12_password_stdin else None
    paths = {suffix: output_dir / f"{org_id}.{suffix}" for suffix in ("crt", "key", "p12")}
    for path in paths.values():
        if path.exists():
            raise Conflict(f"{path} already exists; choose another directory")
    issued = _service(obj).issue(OPERATOR, org_id, days=days, p12_password=password)
    _write(paths, issued)
    data: dict[str, Any] = {**asdict(issued.record), "files": {k: str(v) for k, v in paths.items()}}
    if password is None:
        data["p12_password"] = issued.p12_password
    human = [f"issued client certificate {issued.record.serial} for {org_id}, valid until {issued.record.not_after}",
             *(f"  {path}" for path in paths.values())]
    if password is None:
        human.append(f"PKCS#12 password (shown once, store it now): {issued.p12_password}")
    _emit(data, as_json, "\n".join(human))


def _write(paths: dict[str, Path], issued: IssuedCertificate) -> None:
    paths["crt"].parent.mkdir(parents=True, exist_ok=True)
    for suffix, content, mode in (("crt", issued.cert_pem, 0o644), ("key", issued.key_pem, 0o600),
                                  ("p12", issued.p12, 0o600)):
        fd = os.open(paths[suffix], os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)


@cert.command("list")
@click.argument("org_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def cert_list(obj: CliContext, org_id: str | None, as_json: bool) -> None:
    """List issued client certificates (all, or one organisation's)."""
    found = _service(obj).certificates(OPERATOR, org_id)
    _emit([asdict(c) for c in found], as_json, "\n".join(_line(c) for c in found) or "no client certificates")


@cert.command("revoke")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def cert_revoke(obj: CliContext, serial: str, as_json: bool) -> None:
    """Revoke a client certificate by its serial (hex); connections with it are refused from now on."""
    revoked = _service(obj).revoke(OPERATOR, serial)
    _emit(asdict(revoked), as_json, f"revoked client certificate {revoked.serial} of {revoked.org_id}")


def register(group: click.Group) -> None:
    group.add_command(cert)


__all__ = ["register"]
