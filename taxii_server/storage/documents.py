"""The document shapes every backend stores status resources, submissions and publications as (SQLite keeps
them as JSON, MongoDB as documents, the bulk transfer as JSON lines): one place, so the backends agree."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..model import Publication, Status, StatusDetail, Submission


def status_to_doc(status: Status) -> dict[str, Any]:
    def details(items: tuple[StatusDetail, ...]) -> list[list[str | None]]:
        return [[d.id, d.version, d.message] for d in items]

    return {
        "id": status.id,
        "api_root": status.api_root,
        "collection_id": status.collection_id,
        "org_id": status.org_id,
        "ts": status.request_timestamp_us,
        "s": details(status.successes),
        "f": details(status.failures),
        "p": details(status.pendings),
    }


def status_from_doc(doc: dict[str, Any]) -> Status:
    def details(items: list[list[str | None]]) -> tuple[StatusDetail, ...]:
        return tuple(StatusDetail(str(i), str(v), m) for i, v, m in items)

    return Status(
        id=doc["id"],
        api_root=doc["api_root"],
        collection_id=doc["collection_id"],
        org_id=doc["org_id"],
        request_timestamp_us=doc["ts"],
        successes=details(doc["s"]),
        failures=details(doc["f"]),
        pendings=details(doc["p"]),
    )


def submission_to_doc(submission: Submission) -> dict[str, Any]:
    doc = dataclasses.asdict(submission)
    doc["features"] = [list(f) for f in submission.features]
    return doc


def submission_from_doc(doc: dict[str, Any]) -> Submission:
    values = dict(doc)
    for key in ("errors", "record_ids", "publications"):
        values[key] = tuple(values[key])
    values["features"] = tuple((str(k), str(v)) for k, v in values["features"])
    return Submission(**values)


def publication_to_doc(publication: Publication) -> dict[str, Any]:
    return dataclasses.asdict(publication)


def publication_from_doc(doc: dict[str, Any]) -> Publication:
    values = dict(doc)
    for key in ("collections", "submissions", "object_ids"):
        values[key] = tuple(values[key])
    return Publication(**values)
