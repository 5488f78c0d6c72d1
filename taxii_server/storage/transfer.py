"""Export, import and migration: a whole hub (or one collection) copied exactly, between any two backends or to
and from a directory, then verified by counts and checksums.

Owns the export format and the copy procedure; the CLI (cli/backup.py) only parses arguments and prints.
Must not: name a concrete backend (it works on `Store`s it is given), or serve a request.

The format, one directory:
  manifest.json                 {"format", "hub_id", "scope", "streams": {name: {"count", "sha256"}}}, last
  collections/<collection>.jsonl  one object version a line, date_added ascending, raw JSON kept as a string
  owners/<collection>.jsonl       who may add versions of each id
  meta, organisations (with password hashes), credentials (SHA-256 of keys, never keys), statuses,
  submissions (content base64), publications (bundle base64), audit, client certificates (never their keys),
  the allow-list, the analysts' correlation exclusions and their splits and merges: one <name>.jsonl each
(never the correlation index, its queue or the candidates: they are derived from the submissions, and the
command line recomputes them after an import)
Every line is canonical JSON (sorted keys); a stream's sha256 is over its lines, so a copy in another backend
has the same checksums as its source.

Copying into a store refuses a non-empty target unless `force` (which erases it first), except to resume a
copy of the same source that stopped half-way (a marker in the target's meta): imports are idempotent, so
resuming re-sends and the target skips what it has. The marker is cleared only after verification.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import BadRequest, Conflict, HubError
from ..model import (
    AllowedValue,
    AuditEntry,
    ClientCertificate,
    Credential,
    Exclusion,
    Organisation,
    Override,
    SubmissionContent,
)
from .base import Store, TransferOwner, TransferVersion
from .documents import (
    publication_from_doc,
    publication_to_doc,
    status_from_doc,
    status_to_doc,
    submission_from_doc,
    submission_to_doc,
)

FORMAT = "taxii-hub-export/1"
MARKER = "transfer_in_progress"
LOCAL_META = frozenset({"schema_version", MARKER})  # describe the database itself, never copied
BATCH = 500
RECORD_STREAMS = ("meta", "organisations", "credentials", "statuses", "submissions", "publications", "audit",
                  "certificates", "allowlist", "correlation-exclusions", "correlation-overrides")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

Line = dict[str, Any]


class TransferFailed(HubError):
    """A copy did not verify, or its source is unusable."""


@dataclass
class Summary:
    """What was copied: per stream, the number of lines and their SHA-256."""

    hub_id: str
    scope: str
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)

    def versions(self) -> int:
        return sum(s["count"] for n, s in self.streams.items() if n.startswith("collections/"))


def stream_names(store: Store, collection_id: str | None) -> list[str]:
    ids = [collection_id] if collection_id is not None else store.transfer_collections()
    for cid in ids:
        if not _SAFE_ID.match(cid):
            raise TransferFailed(f"collection id {cid!r} cannot be used as a file name")
    names = [f"{kind}/{cid}.jsonl" for cid in ids for kind in ("collections", "owners")]
    records = [f"{r}.jsonl" for r in RECORD_STREAMS]
    return names if collection_id is not None else [*records[:3], *names, *records[3:]]


# -- reading a store -----------------------------------------------------------------------------------------


def read_stream(store: Store, name: str) -> Iterator[Line]:
    kind, _, rest = name.partition("/")
    cid = rest.removesuffix(".jsonl")
    if kind == "collections":
        after: int | None = None
        while batch := store.export_versions(cid, after, BATCH):
            yield from (_version_line(v) for v in batch)
            after = batch[-1].date_added_us
    elif kind == "owners":
        last: tuple[str, str] | None = None
        while owners := store.export_owners(cid, last, BATCH):
            yield from ({"partition": o.partition, "id": o.id, "org_id": o.org_id} for o in owners)
            last = (owners[-1].partition, owners[-1].id)
    else:
        yield from _RECORD_READERS[name.removesuffix(".jsonl")](store)


def _meta(store: Store) -> Iterator[Line]:
    for key, value in sorted(store.export_meta().items()):
        if key not in LOCAL_META:
            yield {"key": key, "value": value}


def _organisations(store: Store) -> Iterator[Line]:
    for org in store.list_organisations():
        line: Line = {"id": org.id, "name": org.name, "group": org.group, "roles": list(org.roles),
                      "created": org.created, "password_hash": store.get_password(org.id)}
        # only when set: an export made before the register existed then verifies against its copy
        line.update({k: list(v) for k, v in (("aliases", org.aliases), ("domains", org.domains)) if v})
        yield line


def _credentials(store: Store) -> Iterator[Line]:
    for cred, digest in store.export_credentials():
        yield {"id": cred.id, "org_id": cred.org_id, "label": cred.label, "created": cred.created,
               "revoked": cred.revoked, "secret_sha256": digest}


def _statuses(store: Store) -> Iterator[Line]:
    after: str | None = None
    while batch := store.export_statuses(after, BATCH):
        yield from (status_to_doc(s) for s in batch)
        after = batch[-1].id


def _submissions(store: Store) -> Iterator[Line]:
    for sub in store.list_submissions():
        content = store.get_submission_content(sub.id)
        if content is None:
            raise TransferFailed(f"submission {sub.id} has no stored content")
        yield {"submission": submission_to_doc(sub), "raw": _b64(content.raw), "records": _b64(content.records),
               "draft": _b64(content.draft)}


def _publications(store: Store) -> Iterator[Line]:
    for pub in store.list_publications():
        found = store.get_publication(pub.id)
        if found is not None:
            yield {"publication": publication_to_doc(found[0]), "bundle": _b64(found[1])}


def _audit(store: Store) -> Iterator[Line]:
    after: str | None = None
    while batch := store.export_audit(after, BATCH):
        yield from ({"id": e.id, "at_us": e.at_us, "actor": e.actor, "action": e.action, "target": e.target,
                     "details": e.details} for e in batch)
        after = batch[-1].id


_RECORD_READERS: dict[str, Callable[[Store], Iterator[Line]]] = {
    "meta": _meta, "organisations": _organisations, "credentials": _credentials, "statuses": _statuses,
    "submissions": _submissions, "publications": _publications, "audit": _audit,
    "certificates": lambda store: (dataclasses.asdict(c) for c in store.list_certificates()),
    "allowlist": lambda store: (dataclasses.asdict(a) for a in store.list_allowed()),
    "correlation-exclusions": lambda store: (dataclasses.asdict(e) for e in store.list_exclusions()),
    "correlation-overrides": lambda store: (dataclasses.asdict(o) for o in store.list_overrides()),
}


# -- writing a store -----------------------------------------------------------------------------------------


def write_stream(store: Store, name: str, lines: Iterable[Line]) -> None:
    kind, _, rest = name.partition("/")
    cid = rest.removesuffix(".jsonl")
    for batch in _batches(lines):
        if kind == "collections":
            store.import_versions(cid, [_line_version(line) for line in batch])
        elif kind == "owners":
            store.import_owners(cid, [TransferOwner(ln["partition"], ln["id"], ln["org_id"]) for ln in batch])
        elif name == "audit.jsonl":
            store.import_audit([AuditEntry(**line) for line in batch])
        else:
            for line in batch:
                _RECORD_WRITERS[name.removesuffix(".jsonl")](store, line)


def _write_organisation(store: Store, ln: Line) -> None:
    org = Organisation(ln["id"], ln["name"], ln["group"], tuple(ln["roles"]), ln["created"],
                       tuple(ln.get("aliases", ())), tuple(ln.get("domains", ())))
    store.import_organisation(org, ln["password_hash"])


def _write_submission(store: Store, ln: Line) -> None:
    content = SubmissionContent(_unb64(ln["raw"]), _unb64(ln["records"]), _unb64(ln["draft"]))
    store.import_submission(submission_from_doc(ln["submission"]), content)


def _write_allowed(store: Store, ln: Line) -> None:
    store.add_allowed(AllowedValue(**ln))  # an entry already there (a resumed copy) is kept as it is


_RECORD_WRITERS: dict[str, Callable[[Store, Line], None]] = {
    "meta": lambda s, ln: s.import_meta(ln["key"], ln["value"]),
    "organisations": _write_organisation,
    "credentials": lambda s, ln: s.import_credential(
        Credential(ln["id"], ln["org_id"], ln["label"], ln["created"], ln["revoked"]), ln["secret_sha256"]),
    "statuses": lambda s, ln: s.save_status(status_from_doc(ln)),
    "submissions": _write_submission,
    "publications": lambda s, ln: s.save_publication(publication_from_doc(ln["publication"]), _unb64(ln["bundle"])),
    "certificates": lambda s, ln: s.import_certificate(ClientCertificate(**ln)),
    "allowlist": _write_allowed,
    "correlation-exclusions": lambda s, ln: s.add_exclusion(Exclusion(**ln)),  # by id: a resumed copy rewrites
    "correlation-overrides": lambda s, ln: s.add_override(Override(
        **{**ln, "side_a": tuple(ln["side_a"]), "side_b": tuple(ln["side_b"])})),
}


# -- copies --------------------------------------------------------------------------------------------------


OnStream = Callable[[str, int, int], None]  # (stream name, its index, how many streams): progress for the CLI


def _quiet(name: str, index: int, total: int) -> None:
    pass


def hub_id(store: Store) -> str:
    return store.get_or_create_meta("hub_id", str(uuid.uuid4()))


def copy_store(source: Store, target: Store, *, collection_id: str | None = None, force: bool = False,
               on_stream: OnStream = _quiet) -> Summary:
    """Copy a hub (or one collection) from one store to another and verify it; see the module docstring."""
    summary = Summary(hub_id(source), _scope(collection_id))
    names = stream_names(source, collection_id)
    _claim_target(target, summary, collection_id, force)
    for n, name in enumerate(names):
        on_stream(name, n, len(names))
        stats: dict[str, Any] = {}
        write_stream(target, name, (line for line, _ in _counted(read_stream(source, name), stats)))
        summary.streams[name] = stats
    _verify(target, summary)
    return summary


def export_directory(source: Store, directory: Path, *, collection_id: str | None = None,
                     force: bool = False, on_stream: OnStream = _quiet) -> Summary:
    if (directory / "manifest.json").exists():
        if not force:
            raise Conflict(f"{directory} already holds an export; choose another directory or use --force")
        (directory / "manifest.json").unlink()  # written again last: a half-done export never looks complete
    summary = Summary(hub_id(source), _scope(collection_id))
    names = stream_names(source, collection_id)
    for n, name in enumerate(names):
        on_stream(name, n, len(names))
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        stats: dict[str, Any] = {}
        with path.open("wb") as fh:
            fh.writelines(data for _, data in _counted(read_stream(source, name), stats))
        summary.streams[name] = stats
    manifest = {"format": FORMAT, "hub_id": summary.hub_id, "scope": summary.scope, "streams": summary.streams}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")  # streams in import order
    return summary


def import_directory(directory: Path, target: Store, *, force: bool = False, on_stream: OnStream = _quiet) -> Summary:
    summary = read_manifest(directory)
    for name, expected in summary.streams.items():  # the files first: never import a damaged export
        if _tally(_read_file(directory / name)) != expected:
            raise TransferFailed(f"{directory / name}: does not match the manifest (damaged or edited)")
    collection_id = None if summary.scope == "hub" else summary.scope.removeprefix("collection:")
    _claim_target(target, summary, collection_id, force)
    for n, name in enumerate(summary.streams):
        on_stream(name, n, len(summary.streams))
        write_stream(target, name, _read_file(directory / name))
    _verify(target, summary)
    return summary


def read_manifest(directory: Path) -> Summary:
    path = directory / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadRequest(f"{path}: no manifest (not an export, or an export that did not finish)") from None
    except (OSError, ValueError) as exc:
        raise BadRequest(f"{path}: unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadRequest(f"{path}: not a {FORMAT} manifest")
    for name in manifest["streams"]:
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BadRequest(f"{path}: stream name {name!r} leaves the export directory")
    return Summary(manifest["hub_id"], manifest["scope"], manifest["streams"])


def _scope(collection_id: str | None) -> str:
    return "hub" if collection_id is None else f"collection:{collection_id}"


def _claim_target(target: Store, summary: Summary, collection_id: str | None, force: bool) -> None:
    """Refuse a non-empty target (unless resuming this very copy, or forced); then mark the copy under way."""
    marker = f"{summary.hub_id} {summary.scope}"
    resuming = target.export_meta().get(MARKER) == marker
    if not resuming and not _is_empty(target, collection_id):
        if not force:
            where = "the target hub" if collection_id is None else f"collection {collection_id} in the target"
            raise Conflict(f"{where} is not empty; use --force to replace its contents")
        if collection_id is not None:
            raise Conflict("--force replaces a whole hub; to restore one collection, import it into a hub where "
                           "that collection is empty")
    if not resuming and collection_id is None:
        target.erase_everything()  # also drops what an empty hub may hold in meta (its own paging key)
    target.import_meta(MARKER, marker)


def _is_empty(store: Store, collection_id: str | None) -> bool:
    if collection_id is not None:
        return not store.export_versions(collection_id, None, 1) and not store.export_owners(collection_id, None, 1)
    return not (store.transfer_collections() or store.list_organisations() or store.export_credentials()
                or store.export_statuses(None, 1) or store.list_submissions() or store.list_publications()
                or store.export_audit(None, 1) or store.list_certificates() or store.list_allowed()
                or store.list_exclusions() or store.list_overrides())


def _verify(target: Store, summary: Summary) -> None:
    for name, expected in summary.streams.items():
        got = _tally(read_stream(target, name))
        if got != expected:
            raise TransferFailed(
                f"verification failed for {name}: source {expected['count']} records (sha256 "
                f"{expected['sha256'][:12]}…), target {got['count']} (sha256 {got['sha256'][:12]}…). Was the "
                "hub written to during the copy? Stop it and run the same command again to resume."
            )
    target.import_meta(MARKER, "")


def _counted(lines: Iterable[Line], stats: dict[str, Any]) -> Iterator[tuple[Line, bytes]]:
    """Each line with its canonical bytes; once exhausted, `stats` holds the count and SHA-256."""
    digest = hashlib.sha256()
    count = 0
    for line in lines:
        data = orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n"
        digest.update(data)
        count += 1
        yield line, data
    stats.update(count=count, sha256=digest.hexdigest())


def _tally(lines: Iterable[Line]) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for _ in _counted(lines, stats):
        pass
    return stats


def _read_file(path: Path) -> Iterator[Line]:
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                try:
                    yield orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise BadRequest(f"{path}:{number}: not JSON: {exc}") from exc
    except FileNotFoundError:
        raise BadRequest(f"{path}: missing from the export") from None


def _batches(lines: Iterable[Line]) -> Iterator[list[Line]]:
    batch: list[Line] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _version_line(v: TransferVersion) -> Line:
    return {"date_added": v.date_added_us, "partition": v.partition, "added_by": v.added_by, "id": v.id,
            "type": v.type, "version": v.version, "version_us": v.version_us, "spec_version": v.spec_version,
            "raw": v.raw.decode("utf-8")}


def _line_version(ln: Line) -> TransferVersion:
    return TransferVersion(ln["date_added"], ln["partition"], ln["added_by"], ln["id"], ln["type"], ln["version"],
                           ln["version_us"], ln["spec_version"], ln["raw"].encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
