"""The correlation index, its queue, the materialised candidates and the analysts' exclusions, splits and merges
on MongoDB (CorrelationStore in correlation.py). A mixin of MongoStore; every method runs inside `guard`.

Documents and indexes:
- `submission_digests` {_id: organisation + NUL + SHA-256, sub}: the unique key that makes a report sent
  twice (also by two racing posts) one submission.
- `corr_postings` {k, v, s, o, f, l, live}: (k, v, s) unique — a value's postings in submission order, read
  with a limit; (s) — a submission's own.
- `corr_queue` {_id: seq from `counters`, job, at}. `corr_lease` {_id: "correlation", owner, until}: taken
  with one find_one_and_update, so only one worker runs a job at a time; a crashed holder's lease expires.
- `corr_candidates` {_id, first, last, members, doc, evidence: ["kind\\x00value"…]}: (last, _id) for the
  first page; multikey (members) and (evidence) for "the candidate of this report" and "the candidates
  listing this value".
- `corr_exclusions`, `corr_overrides` {…, members} (multikey members).

Without multi-document transactions a submission is written as digest, content, postings, submission and
then its job: a crash before the job leaves a submission the correlation step has not taken in until
`taxii-hub campaigns rebuild`, never a job for a submission that does not exist.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import orjson
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..errors import StorageUnavailable
from ..model import (
    CorrelationJob,
    Exclusion,
    Override,
    Posting,
    StoredCandidate,
    Submission,
    SubmissionContent,
)
from .documents import submission_from_doc, submission_to_doc
from .mongo_arrivals import MongoArrivals, with_position
from .mongo_connection import Doc

CORRELATION_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("corr_postings", (("k", ASCENDING), ("v", ASCENDING), ("s", ASCENDING)), True),
    ("corr_postings", (("s", ASCENDING),), False),
    ("corr_candidates", (("last", DESCENDING), ("_id", ASCENDING)), False),
    ("corr_candidates", (("members", ASCENDING),), False),
    ("corr_candidates", (("evidence", ASCENDING),), False),
    ("corr_overrides", (("members", ASCENDING),), False),
)
_LEASE = "correlation"


class MongoCorrelation(MongoArrivals):
    # -- submissions and the index ---------------------------------------------------------------------------

    def add_submission_once(
        self, submission: Submission, content: SubmissionContent, postings: Sequence[Posting], now_us: int
    ) -> Submission | None:
        key = f"{submission.org_id}\x00{submission.content_sha256}"
        with self.guard("add a submission"):
            digests = self._coll("submission_digests")
            try:
                digests.insert_one({"_id": key, "sub": submission.id})
            except DuplicateKeyError:
                found = digests.find_one({"_id": key})
                earlier = self._coll("submissions").find_one({"_id": found["sub"]}) if found else None
                if earlier is not None:
                    return submission_from_doc(earlier["doc"])
                digests.replace_one({"_id": key}, {"_id": key, "sub": submission.id}, upsert=True)  # a crash's leftover
            self._coll("submission_contents").replace_one(
                {"_id": submission.id},
                {"_id": submission.id, "raw": content.raw, "records": content.records, "draft": content.draft},
                upsert=True)
            self._replace_postings(submission.id, [dataclasses.replace(p, live=False) for p in postings])
            submissions = self._coll("submissions")
            doc = {"_id": submission.id, "org": submission.org_id, "at": submission.received_at_us,
                   "doc": submission_to_doc(submission)}
            self._arrive(lambda n: submissions.insert_one(with_position(doc, n)),
                         lambda n: submissions.update_one({"_id": submission.id}, {"$set": {"n": n}}))
            self._enqueue([f"s:{submission.id}"], now_us)
        return None

    def submission_by_digest(self, org_id: str, content_sha256: str) -> Submission | None:
        with self.guard("read a submission"):
            found = self._coll("submission_digests").find_one({"_id": f"{org_id}\x00{content_sha256}"})
            doc = self._coll("submissions").find_one({"_id": found["sub"]}) if found else None
        return submission_from_doc(doc["doc"]) if doc else None

    def submissions_page(self, after_id: str | None, limit: int) -> list[Submission]:
        with self.guard("list submissions"):
            docs = self._coll("submissions").find({"_id": {"$gt": after_id or ""}}).sort("_id", ASCENDING).limit(limit)
            return [submission_from_doc(d["doc"]) for d in docs]

    def postings(self, kind: str, value: str, limit: int) -> list[Posting]:
        with self.guard("read the correlation index"):
            docs = self._coll("corr_postings").find({"k": kind, "v": value, "live": True}) \
                .sort("s", ASCENDING).limit(limit)
            return [_posting(d) for d in docs]

    def correlation_idle(self) -> None:
        """Nothing to tidy on MongoDB."""

    def count_postings(self, kind: str, value: str, limit: int) -> int:
        with self.guard("read the correlation index"):
            return int(self._coll("corr_postings").count_documents({"k": kind, "v": value, "live": True},
                                                                   limit=limit))

    def postings_of(self, submission_ids: Sequence[str]) -> list[Posting]:
        with self.guard("read the correlation index"):
            docs = self._coll("corr_postings").find({"s": {"$in": sorted(set(submission_ids))}})
            return sorted((_posting(d) for d in docs), key=lambda p: (p.submission_id, p.kind, p.value))

    def set_postings(self, submission_id: str, postings: Sequence[Posting]) -> None:
        with self.guard("write the correlation index"):
            self._replace_postings(submission_id, postings)

    def _replace_postings(self, submission_id: str, postings: Sequence[Posting]) -> None:
        coll = self._coll("corr_postings")
        coll.delete_many({"s": submission_id})
        if postings:
            coll.insert_many([_posting_doc(p) for p in postings])

    def index_values(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str, int]]:
        query: Doc = {"live": True}
        if after is not None:
            query["$or"] = [{"k": {"$gt": after[0]}}, {"k": after[0], "v": {"$gt": after[1]}}]
        out: list[tuple[str, str, int]] = []
        with self.guard("read the correlation index"):
            cursor = self._coll("corr_postings").find(query, {"k": 1, "v": 1, "_id": 0}) \
                .sort([("k", ASCENDING), ("v", ASCENDING), ("s", ASCENDING)])
            for d in cursor:
                if out and (out[-1][0], out[-1][1]) == (d["k"], d["v"]):
                    out[-1] = (d["k"], d["v"], out[-1][2] + 1)
                elif len(out) == limit:
                    break
                else:
                    out.append((str(d["k"]), str(d["v"]), 1))
        return out

    def values_matching(self, kind: str, glob: str, limit: int) -> list[str]:
        with self.guard("read the correlation index"):
            found = self._coll("corr_postings").distinct("v", {"k": kind, "live": True, "v": {"$regex": _regex(glob)}})
        return sorted(str(v) for v in found)[:limit]

    # -- the queue and the lease ---------------------------------------------------------------------------

    def enqueue_correlation(self, jobs: Sequence[str], now_us: int) -> None:
        with self.guard("queue correlation work"):
            self._enqueue(jobs, now_us)

    def _enqueue(self, jobs: Sequence[str], now_us: int) -> None:
        for job in jobs:
            doc = self._coll("counters").find_one_and_update(
                {"_id": "corr_queue"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER)
            if doc is None:
                raise StorageUnavailable("the correlation queue counter could not be read; retry")
            self._coll("corr_queue").insert_one({"_id": int(doc["n"]), "job": job, "at": now_us})

    def lease_correlation(self, owner: str, now_us: int, until_us: int) -> bool:
        with self.guard("take the correlation lease"):
            try:
                self._coll("corr_lease").find_one_and_update(
                    {"_id": _LEASE, "$or": [{"owner": owner}, {"until": {"$lt": now_us}}]},
                    {"$set": {"owner": owner, "until": until_us}}, upsert=True)
            except DuplicateKeyError:  # held by another worker: the upsert found no document it may take
                return False
        return True

    def release_correlation(self, owner: str) -> None:
        with self.guard("release the correlation lease"):
            self._coll("corr_lease").delete_one({"_id": _LEASE, "owner": owner})

    def next_correlation_job(self) -> CorrelationJob | None:
        with self.guard("read the correlation queue"):
            doc = self._coll("corr_queue").find_one({}, sort=[("_id", ASCENDING)])
        return CorrelationJob(int(doc["_id"]), str(doc["job"]), int(doc["at"])) if doc else None

    def finish_correlation_job(self, seq: int) -> None:
        with self.guard("finish correlation work"):
            self._coll("corr_queue").delete_one({"_id": seq})

    def correlation_backlog(self) -> tuple[int, int | None]:
        with self.guard("read the correlation queue"):
            queue = self._coll("corr_queue")
            count = queue.count_documents({})
            oldest = queue.find_one({}, sort=[("_id", ASCENDING)])
        return count, (int(oldest["at"]) if oldest else None)

    # -- candidates ----------------------------------------------------------------------------------------

    def replace_candidates(self, remove: Sequence[str], add: Sequence[StoredCandidate]) -> None:
        with self.guard("write campaign candidates"):
            coll = self._coll("corr_candidates")
            if remove:
                coll.delete_many({"_id": {"$in": list(remove)}})
            for c in add:
                coll.replace_one({"_id": c.id}, {
                    "_id": c.id, "first": c.first_us, "last": c.last_us, "members": list(c.members), "doc": c.doc,
                    "evidence": [f"{k}\x00{v}" for k, v in c.evidence]}, upsert=True)

    def clear_candidates(self) -> None:
        with self.guard("write campaign candidates"):
            self._coll("corr_candidates").delete_many({})

    def candidates_of(self, submission_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(submission_ids)
        found: dict[str, str] = {}
        with self.guard("read campaign candidates"):
            for d in self._coll("corr_candidates").find({"members": {"$in": sorted(wanted)}}, {"members": 1}):
                found.update((sid, str(d["_id"])) for sid in d["members"] if sid in wanted)
        return found

    def candidates_with_value(self, kind: str, value: str) -> list[str]:
        with self.guard("read campaign candidates"):
            docs = self._coll("corr_candidates").find({"evidence": f"{kind}\x00{value}"}, {"_id": 1})
            return sorted(str(d["_id"]) for d in docs)

    def get_candidate(self, candidate_id: str) -> StoredCandidate | None:
        with self.guard("read campaign candidates"):
            doc = self._coll("corr_candidates").find_one({"_id": candidate_id})
        return _candidate(doc) if doc else None

    def list_candidates(self, after: tuple[int, str] | None, limit: int) -> list[StoredCandidate]:
        query: Doc = {}
        if after is not None:
            query = {"$or": [{"last": {"$lt": after[0]}}, {"last": after[0], "_id": {"$gt": after[1]}}]}
        with self.guard("read campaign candidates"):
            docs = self._coll("corr_candidates").find(query).sort([("last", DESCENDING), ("_id", ASCENDING)]) \
                .limit(limit)
            return [_candidate(d) for d in docs]

    def count_candidates(self) -> int:
        with self.guard("read campaign candidates"):
            return int(self._coll("corr_candidates").count_documents({}))

    # -- exclusions, splits and merges -----------------------------------------------------------------------

    def add_exclusion(self, exclusion: Exclusion) -> None:
        with self.guard("write a correlation exclusion"):
            self._coll("corr_exclusions").replace_one(
                {"_id": exclusion.id}, {"_id": exclusion.id, "at": exclusion.at_us,
                                        "doc": dataclasses.asdict(exclusion)}, upsert=True)

    def remove_exclusion(self, exclusion_id: str) -> Exclusion | None:
        with self.guard("remove a correlation exclusion"):
            doc = self._coll("corr_exclusions").find_one_and_delete({"_id": exclusion_id})
        return Exclusion(**doc["doc"]) if doc else None

    def list_exclusions(self) -> list[Exclusion]:
        with self.guard("read correlation exclusions"):
            docs = self._coll("corr_exclusions").find().sort([("at", ASCENDING), ("_id", ASCENDING)])
            return [Exclusion(**d["doc"]) for d in docs]

    def add_override(self, override: Override) -> None:
        with self.guard("write a split or merge"):
            self._coll("corr_overrides").replace_one({"_id": override.id}, {
                "_id": override.id, "at": override.at_us, "doc": orjson.dumps(override),
                "members": sorted({*override.side_a, *override.side_b})}, upsert=True)

    def overrides_of(self, submission_ids: Sequence[str]) -> list[Override]:
        with self.guard("read splits and merges"):
            docs = self._coll("corr_overrides").find({"members": {"$in": sorted(set(submission_ids))}}) \
                .sort([("at", ASCENDING), ("_id", ASCENDING)])
            return [_override(bytes(d["doc"])) for d in docs]

    def list_overrides(self) -> list[Override]:
        with self.guard("read splits and merges"):
            docs = self._coll("corr_overrides").find().sort([("at", ASCENDING), ("_id", ASCENDING)])
            return [_override(bytes(d["doc"])) for d in docs]


def _posting_doc(p: Posting) -> Doc:
    return {"k": p.kind, "v": p.value, "s": p.submission_id, "o": p.org_id, "f": p.first_us, "l": p.last_us,
            "live": p.live}


def _posting(d: Doc) -> Posting:
    return Posting(str(d["k"]), str(d["v"]), str(d["s"]), str(d["o"]), int(d["f"]), int(d["l"]), bool(d["live"]))


def _candidate(d: Doc) -> StoredCandidate:
    evidence = tuple((e.split("\x00", 1)[0], e.split("\x00", 1)[1]) for e in d["evidence"])
    return StoredCandidate(str(d["_id"]), int(d["first"]), int(d["last"]), tuple(d["members"]), bytes(d["doc"]),
                           evidence)


def _override(doc: bytes) -> Override:
    values = orjson.loads(doc)
    values["side_a"], values["side_b"] = tuple(values["side_a"]), tuple(values["side_b"])
    return Override(**values)


def _regex(glob: str) -> str:
    """A glob (`*`, `?`, `[…]`, as SQLite's GLOB reads it) as an anchored regular expression."""
    out, n = ["^"], 0
    while n < len(glob):
        c = glob[n]
        end = glob.find("]", n + 2) if c == "[" else -1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and end != -1:
            body = glob[n + 1:end]
            out.append("[" + ("^" + re.escape(body[1:]) if body.startswith("^") else re.escape(body)) + "]")
            n = end
        else:
            out.append(re.escape(c))
        n += 1
    return "".join(out) + "$"
