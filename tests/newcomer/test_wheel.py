"""The wheel is a product: built from the checkout, installed into a fresh virtual environment outside it,
it sets up a hub in an empty directory (`init --demo`), serves it, answers a TAXII client and passes `doctor`.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from taxii2client.v21 import Server

from tests.support.newcomer import Served, run

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("taxii_server", "converters", "setup.cfg", "pyproject.toml", "README.md", "LICENSE")
INDICATOR = {
    "type": "indicator", "spec_version": "2.1", "id": "indicator--5f0c9d1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f",
    "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z", "name": "C2 address",
    "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
}


def build_wheel(tmp_path: Path) -> Path:
    """From a copy of the sources, so that the build leaves nothing in the checkout."""
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                 "-w", str(tmp_path / "dist"), str(source)], cwd=tmp_path, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("taxii_hub-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    made = run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent)
    assert made.returncode == 0, made.stderr
    installed = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     "-c", str(REPO / "constraints.txt"), str(wheel)], cwd=venv.parent, timeout=600)
    assert installed.returncode == 0, installed.stderr
    return venv / "bin" / "taxii-hub"


@pytest.mark.slow
def test_the_wheel_sets_up_serves_and_checks_a_hub_outside_the_checkout(
        tmp_path: Path, serve_hub: Callable[[Path, Path], Served]) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "taxii_server/skeleton/hub.toml" in names and "taxii_server/skeleton/collections/member-feed.toml" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)

    cli = install(wheel, tmp_path / "venv")
    where = run([str(tmp_path / "venv" / "bin" / "python"), "-c", "import taxii_server; print(taxii_server.__file__)"],
                cwd=tmp_path)
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout  # the installed copy, not the checkout
    for module in ("matplotlib", "stix2"):  # charts are SVG; SCO id rules are the project's own table
        unused = run([str(tmp_path / "venv" / "bin" / "python"), "-c", f"import {module}"], cwd=tmp_path)
        assert unused.returncode != 0, f"{module} is not needed by a runtime install"

    site = tmp_path / "site"
    site.mkdir()
    init = run([str(cli), "init", "--demo"], cwd=site)
    assert init.returncode == 0, init.stderr
    assert "wrote config/hub.toml" in init.stderr and "wrote 5 example collections" in init.stderr
    listed = run([str(cli), "collection", "list", "--json"], cwd=site)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 5, listed.stderr

    served = serve_hub(cli, site)
    keys = json.loads((site / "var" / "demo-keys.json").read_text())
    url = f"https://localhost:{served.port}/taxii2/"
    analyst = Server(url, user="hub-analyst", password=keys["hub-analyst"], verify=str(served.ca))
    feed = next(c for c in analyst.api_roots[0].collections if c.title == "Member feed")
    status = feed.add_objects({"objects": [INDICATOR]})
    assert status.status == "complete" and status.success_count == 1, status.failures
    member = Server(url, user="kita-heavy", password=keys["kita-heavy"], verify=str(served.ca))
    polled = next(c for c in member.api_roots[0].collections if c.title == "Member feed").get_objects()
    assert [o["id"] for o in polled["objects"]] == [INDICATOR["id"]]

    doctor = run([str(cli), "doctor", "--json"], cwd=site)
    assert doctor.returncode == 0, doctor.stdout
    report = json.loads(doctor.stdout)
    assert report["healthy"] is True
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["collections"] == "ok" and statuses["database"] == "ok" and statuses["tls"] == "ok"
    assert served.process.poll() is None, served.output()
