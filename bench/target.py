"""What the load client needs to know about a running TAXII server, whichever implementation it is.

Owns: the `Target` record (address, collection paths, authorisation headers, the server process) and the
`Setup` protocol that hub.py and peers.py implement: start a server holding `count` generated objects in a
read collection, with empty collections for the ingest runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .procs import ServerProcess

MT_TAXII = "application/taxii+json;version=2.1"


@dataclass
class Target:
    name: str
    port: int
    read_path: str  # the read collection's objects/ path
    ingest_paths: list[str]  # empty collections' objects/ paths, one per ingest run (warm-up first)
    status_prefix: str  # status path = status_prefix + status id + "/"
    auth: dict[str, str]  # scheme label -> Authorization header; the first is the default for every workload
    server: ServerProcess
    notes: list[str] = field(default_factory=list)  # how it was configured and loaded, for the report
    load_seconds: float = 0.0
    load_method: str = ""

    def headers(self, scheme: str | None = None) -> dict[str, str]:
        label = scheme or next(iter(self.auth))
        return {"Accept": MT_TAXII, "Authorization": self.auth[label]}


class Setup(Protocol):
    name: str

    def prepare(self) -> None:
        """Install what the server needs (idempotent); called once per bench run."""
        ...

    def start(self, workdir: Path, objects: Sequence[dict[str, Any]] | None, objects_file: Path, count: int,
              ingest_collections: int) -> Target:
        """A running server with `count` objects in its read collection (objects in memory, or streamed from
        `objects_file` when None) and `ingest_collections` empty ones."""
        ...
