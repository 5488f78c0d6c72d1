"""The peer servers: OpenTAXII 0.10.0b1 (SQLite) and medallion 3.0.0 (memory backend), from PyPI.

Owns: a virtualenv per peer under bench/.peers/<name> (created with `python -m venv`, packages installed with
that venv's pip; reused while its stamp names the same requirements), each peer's configuration in the
scratch directory, loading the read collection, and starting the peer under gunicorn on 127.0.0.1 with the
same worker class and threads as the hub.

- OpenTAXII: YAML config (TAXII 1 off, SQLite for accounts and data), set up and loaded by
  peer_scripts/opentaxii_setup.py run with OpenTAXII's interpreter; served by `gunicorn opentaxii.http:app`
  with the hub's worker count. Authorisation: Bearer JWT (its fast path) and Basic (password checked per
  request).
- medallion: JSON config with the memory backend and a data file written here (collections with `objects`
  and `manifest`); one worker, since the memory backend lives in one process. Basic auth only.

Must not: copy peer code into this repository, or install anything outside bench/.peers.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import procs
from .target import Target

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
SCRIPTS = Path(__file__).resolve().parent / "peer_scripts"
# The peers run under the same gunicorn release as the hub.
GUNICORN = f"gunicorn=={importlib.metadata.version('gunicorn')}"
OPENTAXII_REQUIREMENTS = ("opentaxii==0.10.0b1", GUNICORN)
MEDALLION_REQUIREMENTS = ("medallion==3.0.0", GUNICORN)


def ensure_venv(name: str, requirements: Sequence[str], pre: bool = False) -> Path:
    """bench/.peers/<name> with exactly these requirements installed; returns its bin directory."""
    venv = PEERS_DIR / name
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return venv / "bin"
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, *(["--pre"] if pre else []), *requirements], capture_output=True, text=True,
                            timeout=900, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"installing {' '.join(requirements)} into {venv} failed:\n{result.stderr[-2000:]}")
    stamp.write_text(wanted)
    return venv / "bin"


def _write_jsonl(path: Path, objects: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for obj in objects:
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")


def _gunicorn(bin_dir: Path, app: str, port: int, workers: int, threads: int) -> list[str]:
    return [str(bin_dir / "gunicorn"), app, "--bind", f"{procs.HOST}:{port}", "--workers", str(workers),
            "--threads", str(threads), "--worker-class", "gthread", "--timeout", "30", "--graceful-timeout", "10"]


class OpenTaxiiSetup:
    name = "opentaxii"

    def __init__(self, workers: int, threads: int) -> None:
        self.workers = workers
        self.threads = threads
        self.bin = PEERS_DIR / self.name / "bin"

    def prepare(self) -> None:
        self.bin = ensure_venv(self.name, OPENTAXII_REQUIREMENTS, pre=True)

    def start(self, workdir: Path, objects: Sequence[dict[str, Any]] | None, objects_file: Path, count: int,
              ingest_collections: int) -> Target:
        root = workdir / self.name
        root.mkdir(parents=True, exist_ok=True)
        if objects is not None:
            _write_jsonl(objects_file, objects)
        port = procs.free_port()
        config = {
            "domain": f"{procs.HOST}:{port}",
            "support_basic_auth": True,
            "return_server_error_details": False,
            "auth_api": {"class": "opentaxii.auth.sqldb.SQLDatabaseAPI",
                         "parameters": {"db_connection": f"sqlite:///{root / 'auth.db'}", "create_tables": True,
                                        "secret": secrets.token_hex(16), "token_ttl_secs": 86400}},
            "taxii1": None,
            "taxii2": {"persistence_api": {"class": "opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI",
                                           "parameters": {"db_connection": f"sqlite:///{root / 'data.db'}",
                                                          "create_tables": True}},
                       "title": "bench", "public_discovery": True, "max_content_length": 209715200},
            "logging": {"opentaxii": "warning", "root": "warning"},
        }
        config_path = root / "opentaxii.yml"
        config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        env = {**_base_env(), "OPENTAXII_CONFIG": str(config_path)}
        password = secrets.token_urlsafe(16)
        setup = subprocess.run(
            [str(self.bin / "python"), str(SCRIPTS / "opentaxii_setup.py"), "--objects", str(objects_file),
             "--ingest", str(ingest_collections), "--password", password],
            capture_output=True, text=True, env=env, cwd=root, timeout=3600, check=False,
        )
        if setup.returncode != 0:
            raise RuntimeError(f"OpenTAXII setup failed:\n{setup.stderr[-2000:]}")
        info = json.loads(setup.stdout.strip().splitlines()[-1])
        if info["loaded"] != count:
            raise RuntimeError(f"OpenTAXII loaded {info['loaded']} of {count} objects")
        server = procs.start(self.name, _gunicorn(self.bin, "opentaxii.http:app", port, self.workers, self.threads),
                             root / "server.log", port, procs.answers("/taxii2/"), env=env, cwd=root)
        base = f"/taxii2/{info['api_root']}"
        basic = "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()
        target = Target(
            name=self.name, port=port, read_path=f"{base}/collections/{info['read']}/objects/",
            ingest_paths=[f"{base}/collections/{cid}/objects/" for cid in info["ingest"]],
            status_prefix=f"{base}/status/",
            auth={"Bearer": f"Bearer {info['token']}", "Basic": basic},
            server=server,
            notes=[f"gunicorn gthread, {self.workers} workers x {self.threads} threads, SQLite via SQLAlchemy, "
                   "admin account; Bearer = a JWT from its auth API, used for every workload but the Basic row; "
                   "Basic = user name + password, hashed per request"],
        )
        target.load_seconds = float(info["seconds"])
        target.load_method = "OpenTAXII persistence API add_objects, 1,000 objects per call (no envelope validation)"
        return target


class MedallionSetup:
    name = "medallion"

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.bin = PEERS_DIR / self.name / "bin"

    def prepare(self) -> None:
        self.bin = ensure_venv(self.name, MEDALLION_REQUIREMENTS)

    def start(self, workdir: Path, objects: Sequence[dict[str, Any]] | None, objects_file: Path, count: int,
              ingest_collections: int) -> Target:
        root = workdir / self.name
        root.mkdir(parents=True, exist_ok=True)
        port = procs.free_port()
        started = time.perf_counter()
        source: Iterable[dict[str, Any]] = objects if objects is not None else _read_jsonl(objects_file)
        read_id = str(uuid.uuid4())
        ingest_ids = [str(uuid.uuid4()) for _ in range(ingest_collections)]
        data = {
            "/discovery": {"title": "bench", "default": f"http://{procs.HOST}:{port}/bench/",
                           "api_roots": [f"http://{procs.HOST}:{port}/bench/"]},
            "bench": {
                "information": {"title": "bench", "versions": ["application/taxii+json;version=2.1"],
                                "max_content_length": 209715200},
                "status": [],
                "collections": [_medallion_collection(read_id, "read", source)]
                + [_medallion_collection(cid, f"ingest-{n}", ()) for n, cid in enumerate(ingest_ids)],
            },
        }
        data_path = root / "data.json"
        data_path.write_text(json.dumps(data))
        password = secrets.token_urlsafe(16)
        config_path = root / "medallion.json"
        config_path.write_text(json.dumps({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(data_path)},
            "users": {"bench": password},
            "taxii": {"max_page_size": 1000},
        }))
        app = f"medallion:load_app({json.dumps(str(config_path))})"
        basic = "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()
        server = procs.start(self.name, _gunicorn(self.bin, app, port, 1, self.threads), root / "server.log", port,
                             procs.answers("/taxii2/", {"Accept": "application/taxii+json;version=2.1",
                                                        "Authorization": basic}),
                             env=_base_env(), cwd=root, timeout_s=600)
        target = Target(
            name=self.name, port=port, read_path=f"/bench/collections/{read_id}/objects/",
            ingest_paths=[f"/bench/collections/{cid}/objects/" for cid in ingest_ids],
            status_prefix="/bench/status/", auth={"Basic": basic}, server=server,
            notes=[f"gunicorn gthread, 1 worker x {self.threads} threads (memory backend: one process); "
                   "Basic = user name + password from its config (it has no Bearer)"],
        )
        target.load_seconds = time.perf_counter() - started
        target.load_method = "memory-backend data file written by the bench, read at start-up"
        return target


def _medallion_collection(cid: str, title: str, objects: Iterable[dict[str, Any]]) -> dict[str, Any]:
    stored: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    added = datetime(2025, 1, 1, tzinfo=UTC)
    for n, obj in enumerate(objects):
        stored.append(obj)
        when = added + timedelta(microseconds=n)
        manifest.append({"id": obj["id"], "date_added": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                         "version": obj.get("modified", obj.get("created")),
                         "media_type": "application/stix+json;version=2.1"})
    return {"id": cid, "title": title, "can_read": True, "can_write": True,
            "media_types": ["application/stix+json;version=2.1"], "objects": stored, "manifest": manifest}


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENTAXII_", "TAXII_HUB_"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env
