"""The hub under test: laid out in a scratch directory, enrolled through its CLI, served by `taxii-hub serve`.

Owns: the hub's configuration and collection files for the bench, one organisation (`bench`) with an API key,
and loading the read collection, over HTTP POST (1,000-object envelopes) up to `HTTP_LOAD_MAX` objects, or
directly through the storage API (`SQLiteStore.add_versions`, after the same per-object validation the
service applies) above it, before the server starts.

Must not: change the hub's defaults beyond what the bench needs (plain HTTP on loopback, a page cap of 1,000
so the walk can use limit=1000, a 100 MB request cap for the ingest envelopes).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from . import procs
from .target import MT_TAXII, Target

CLI = Path(sys.executable).parent / "taxii-hub"
ROOT = "bench"
ORG = "bench"
READ_ID = "3f0c1ad2-5b1e-4d8e-9a57-0f6a2b8c4d01"
HTTP_LOAD_MAX = 200_000
ENVELOPE = 1000


def _ingest_id(number: int) -> str:
    return str(uuid.UUID(int=0x7B0C0000_0000_4000_8000_000000000000 + number))


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _layout(root: Path, ingest_collections: int) -> Path:
    collections = root / "collections"
    collections.mkdir(parents=True, exist_ok=True)
    declared = {"read": READ_ID, **{f"ingest-{n}": _ingest_id(n) for n in range(ingest_collections)}}
    for name, cid in declared.items():
        decl = {"id": cid, "api_root": ROOT, "title": f"bench {name}", "read": [f"org:{ORG}"],
                "write": [f"org:{ORG}"], "max_tlp": "amber"}
        (collections / f"{name}.toml").write_text("".join(f"{k} = {_toml(v)}\n" for k, v in decl.items()))
    config = root / "hub.toml"
    config.write_text(
        f"data_dir = {_toml(str(root / 'var'))}\ncollections_dir = {_toml(str(collections))}\nmax_page_size = 1000\n"
        f"[storage]\nurl = {_toml('sqlite:///' + str(root / 'var' / 'hub.sqlite3'))}\n"
        f'[api_roots.{ROOT}]\ntitle = "bench"\nmax_content_length = 104857600\n'
        f'[discovery]\ntitle = "bench hub"\ndefault = "{ROOT}"\n'
    )
    return config


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXII_HUB_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _cli(config: Path, *args: str) -> str:
    result = subprocess.run([str(CLI), "--config", str(config), *args], capture_output=True, text=True,
                            timeout=120, env=_env(), cwd=config.parent, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"taxii-hub {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def chunks(objects: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(objects)
    while batch := list(islice(iterator, size)):
        yield batch


def _load_direct(config: Path, objects: Iterable[dict[str, Any]]) -> None:
    """Into the store through its API, with the service's validation; the server is not running yet."""
    from taxii_server.catalog import Catalog
    from taxii_server.model import NewVersion, ObjectScope
    from taxii_server.settings import load_settings
    from taxii_server.storage.sqlite import SQLiteStore
    from taxii_server.validation import check

    settings = load_settings(config, env={})
    collection = Catalog.load(settings.collections_dir, settings.api_roots).by_id(READ_ID)
    assert collection is not None
    store = SQLiteStore(settings.data_dir / "hub.sqlite3")
    store.initialise()
    scope = ObjectScope(READ_ID)
    for batch in chunks(objects, 5000):
        versions = [check(obj, collection) for obj in batch]
        accepted = [v for v in versions if isinstance(v, NewVersion)]
        if len(accepted) != len(batch):
            raise RuntimeError("the hub's validation rejected generated objects")
        results = store.add_versions(scope, ORG, False, accepted, time.time_ns() // 1000)
        if any(r.outcome != "added" for r in results):
            raise RuntimeError("the store did not add every generated object")
    store.close()


def post_envelopes(port: int, path: str, headers: dict[str, str], objects: Iterable[dict[str, Any]]) -> int:
    """POST the objects in 1,000-object envelopes; returns how many the server reported as successes."""
    import http.client

    conn = http.client.HTTPConnection(procs.HOST, port, timeout=600)
    sent = {**headers, "Content-Type": MT_TAXII}
    added = 0
    try:
        for batch in chunks(objects, ENVELOPE):
            conn.request("POST", path, body=json.dumps({"objects": batch}).encode(), headers=sent)
            response = conn.getresponse()
            body = response.read()
            if response.status != 202:
                raise RuntimeError(f"POST {path}: HTTP {response.status}: {body[:300]!r}")
            added += int(json.loads(body).get("success_count", 0))
    finally:
        conn.close()
    return added


class HubSetup:
    name = "taxii-hub"

    def __init__(self, workers: int, threads: int) -> None:
        self.workers = workers
        self.threads = threads

    def prepare(self) -> None:
        if not CLI.exists():
            raise RuntimeError(f"{CLI} not found: run `make install` first")

    def start(self, workdir: Path, objects: Sequence[dict[str, Any]] | None, objects_file: Path, count: int,
              ingest_collections: int) -> Target:
        root = workdir / "hub"
        config = _layout(root, ingest_collections)
        _cli(config, "init", "--json")
        _cli(config, "org", "add", ORG, "--name", "Bench member", "--group", "bench")
        key = json.loads(_cli(config, "key", "create", ORG, "--label", "bench", "--json"))["key"]
        basic = "Basic " + base64.b64encode(f"{ORG}:{key}".encode()).decode()
        source: Iterable[dict[str, Any]] = objects if objects is not None else _read_jsonl(objects_file)
        started = time.perf_counter()
        method = "HTTP POST, 1,000-object envelopes"
        if count > HTTP_LOAD_MAX:
            _load_direct(config, source)
            method = "directly through SQLiteStore.add_versions (after the service's validation)"
        port = procs.free_port()
        argv = [str(CLI), "--config", str(config), "serve", "--bind", f"{procs.HOST}:{port}",
                "--workers", str(self.workers), "--threads", str(self.threads), "--insecure-http"]
        server = procs.start(self.name, argv, root / "server.log", port, procs.answers("/taxii2/"), env=_env(),
                             cwd=root)
        read_path = f"/{ROOT}/collections/{READ_ID}/objects/"
        target = Target(
            name=self.name, port=port, read_path=read_path,
            ingest_paths=[f"/{ROOT}/collections/{_ingest_id(n)}/objects/" for n in range(ingest_collections)],
            status_prefix=f"/{ROOT}/status/",
            auth={"Basic": basic, "Bearer": f"Bearer {key}"},
            server=server,
            notes=[f"gunicorn gthread, {self.workers} workers x {self.threads} threads, plain HTTP on loopback, "
                   "SQLite (WAL), access log on (its default); Basic = organisation id + API key, "
                   "Bearer = the same API key"],
        )
        if count <= HTTP_LOAD_MAX:
            added = post_envelopes(port, read_path, target.headers(), source)
            if added != count:
                raise RuntimeError(f"the hub stored {added} of {count} objects")
        target.load_seconds = time.perf_counter() - started
        target.load_method = method
        return target


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)
