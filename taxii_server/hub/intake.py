"""Intake: a member's report — `.eml`, Outlook `.msg`, incident-record/1 JSON (one, a list, JSON Lines) or a
STIX bundle, recognised by the converters' one format registry (`converters.formats`) — becomes a submission:
stored as received, converted to a hub-internal draft bundle, and indexed for the correlation step, which
runs later and elsewhere (a member's answer never waits for it or depends on it).

The reporter is always the authenticated organisation: a record naming another reporter is refused and
nothing is stored. A report that cannot be converted is kept as `rejected` with its errors, so nothing a
member sent is lost and the member can see why; that holds for a converter bug too (one line, never a 500).
A member sees only its own submissions; analysts see all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from converters import (
    DEFAULT_RECORD_LIMITS,
    Budget,
    BudgetExceeded,
    ConversionError,
    ConversionOptions,
    EmlLimitExceeded,
    Record,
    RecordLimitExceeded,
    RecordLimits,
    Summary,
    bundle_bytes,
    formats,
    load_records,
    merge_bundles,
    record_to_bundle,
    record_to_dict,
)
from converters.ids import KeyedIds

from .. import access, strict_json, tlp, validation
from ..errors import Conflict, Forbidden, HubError, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from ..model import CollectionDef, Principal, Publication, Submission, SubmissionContent
from ..storage.base import IntakeStore
from ..timestamps import now_us, parse_us
from . import features
from .allowlist import AllowList
from .audit import AuditLog, require
from .correlation import eligible, postings_for
from .share import UNSHARED, WorkerShare

# Reports are named by their media type, or (octet-stream from an upload) by file name and content.
MEDIA_TYPES = (*formats.MEDIA_TYPES, "application/octet-stream")
_log = logging.getLogger(__name__)
_STIX_INTAKE = CollectionDef(id="intake", api_root="", title="intake")


@dataclasses.dataclass(frozen=True)
class _Converted:
    records: list[Record]
    draft: dict[str, Any] | None
    tlp: str
    features: set[features.Feature]
    first_us: int | None
    last_us: int | None
    held_back: dict[str, int] = dataclasses.field(default_factory=dict)  # reason -> count (converters' Summary)


class Intake:
    def __init__(
        self,
        store: IntakeStore,
        options: ConversionOptions,
        audit: AuditLog,
        clock: Callable[[], int] = now_us,
        *,
        limits: RecordLimits = DEFAULT_RECORD_LIMITS,
        cpu_seconds: float = 20.0,
        share: WorkerShare = UNSHARED,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        readable_collections: Callable[[Principal], Iterable[str]] = lambda _principal: (),
    ) -> None:
        self.store = store
        self.readable_collections = readable_collections
        self.options = options
        self.audit = audit
        self.clock = clock
        self.limits = limits
        self.cpu_seconds = cpu_seconds
        self.share = share
        self.new_id = new_id

    def member_domains(self, org_id: str) -> frozenset[str]:
        """The reporting member's own mail domains, from the organisation register."""
        org = self.store.get_organisation(org_id)
        return frozenset(org.domains) if org is not None else frozenset()

    def conversion_options(self, reporter: str | None = None) -> ConversionOptions:
        """The configured options with the organisation register (sector groups, every member's mail domains,
        the reporter's own) and the hub's allow-list as it is now: none of them is ever an indicator."""
        organisations = self.store.list_organisations()
        groups = {o.id: o.group for o in organisations}
        domains = frozenset(d for o in organisations for d in o.domains)
        reporter_domains = frozenset(d for o in organisations if o.id == reporter for d in o.domains)
        allow_list = AllowList.load(self.store)

        def allowed(kind: str, value: str) -> str | None:
            entry = allow_list.matches(kind, value)
            return entry.reason or "allow-listed" if entry is not None else None

        return dataclasses.replace(self.options, sector_groups=groups, member_domains=domains,
                                   reporter_domains=reporter_domains, allowed=allowed if len(allow_list) else None)

    # -- submitting ----------------------------------------------------------------------------------------

    def submit(self, principal: Principal, body: bytes, media_type: str, source: str, filename: str) -> Submission:
        media_type = media_type.split(";")[0].strip().lower()
        if media_type not in MEDIA_TYPES:
            raise UnsupportedMediaType(f"a report must be one of {', '.join(MEDIA_TYPES)}, not {media_type!r}")
        digest = hashlib.sha256(body).hexdigest()
        earlier = self.store.submission_by_digest(principal.org_id, digest)
        if earlier is not None:
            return earlier  # the same report sent again: one submission, as before
        now = self.clock()
        with self.share.hold(principal.org_id):
            converted, errors = self._converted(principal, body, media_type, filename)
        submission = Submission(
            id=self.new_id(),
            org_id=principal.org_id,
            received_at_us=now,
            source=source,
            media_type=media_type,
            state="converted" if converted else "rejected",
            tlp=converted.tlp if converted else "amber",
            errors=errors,
            record_ids=tuple(r.id for r in converted.records) if converted else (),
            first_seen_us=converted.first_us if converted else None,
            last_seen_us=converted.last_us if converted else None,
            features=tuple(sorted(converted.features)) if converted else (),
            content_sha256=digest,
        )
        records = orjson.dumps([record_to_dict(r) for r in converted.records]) if converted else b"[]"
        draft = bundle_bytes(converted.draft) if converted and converted.draft else b"{}"
        # Indexed for correlation in the same transaction; correlated later by the correlation step, so
        # neither this answer nor its timing depends on what other members reported.
        postings = [dataclasses.replace(p, live=False) for p in postings_for(submission)] \
            if eligible(submission) else []
        earlier = self.store.add_submission_once(submission, SubmissionContent(body, records, draft), postings, now)
        if earlier is not None:
            return earlier  # the same report posted twice at once: the first one stands
        details: dict[str, Any] = {"source": source, "media_type": media_type, "state": submission.state}
        if converted and converted.held_back:
            details["held_back"] = converted.held_back  # what the conversion kept from indicators, and why
        self.audit.record(principal, "submit", submission.id, details)
        return submission

    def _converted(self, principal: Principal, body: bytes, media_type: str,
                   filename: str) -> tuple[_Converted | None, tuple[str, ...]]:
        """The conversion, or the errors a rejected submission keeps; refusals (nothing kept) raise."""
        try:
            return self._convert(principal, body, media_type, filename, Budget(self.cpu_seconds)), ()
        except (RecordLimitExceeded, EmlLimitExceeded) as exc:  # refused before any work, and not kept
            raise PayloadTooLarge(str(exc)) from exc
        except BudgetExceeded as exc:  # refused, not kept: sending it again would cost the same again
            raise Unprocessable(str(exc)) from exc
        except ConversionError as exc:
            return None, (str(exc),)
        except HubError as exc:
            if isinstance(exc, (Forbidden, PayloadTooLarge)):
                raise
            return None, (f"{filename}: {exc.message}",)
        except Exception as exc:  # noqa: BLE001 - a converter bug costs this report, never the request
            _log.exception("conversion of %s failed", filename)
            return None, (f"{filename}: (internal): the converter could not handle this report "
                          f"({type(exc).__name__}); it is kept for an analyst",)

    def from_taxii(self, principal: Principal, objects: Sequence[dict[str, Any]]) -> None:
        """Objects a member added to an inbox collection become a submission too (analysts' own inbox writes
        are hub work, not member reports, and stay out of correlation)."""
        if access.writes_as_hub(principal):
            return
        body = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)})
        self.submit(principal, body, "application/stix+json", "taxii", "taxii-inbox")

    def _convert(self, principal: Principal, body: bytes, media_type: str, filename: str,
                 budget: Budget) -> _Converted:
        fmt = formats.detect(body, filename, media_type)
        if fmt.name == "stix":
            return self._convert_stix(body, filename)
        records = formats.read_report(body, filename, fmt, record_limits=self.limits, budget=budget,
                                      member_domains=self.member_domains(principal.org_id))
        for record in records:
            if record.reporter not in (None, principal.org_id):
                raise Forbidden(f"{filename}: record {record.id}: reporter {record.reporter!r} is not your "
                                f"organisation; members report only for themselves")
        records = [dataclasses.replace(r, reporter=principal.org_id) for r in records]
        options = self.conversion_options(principal.org_id)
        bundles = []
        summary = Summary()
        for record in records:
            budget.check(filename)
            bundles.append(record_to_bundle(record, options, summary))
        budget.check(filename)
        draft = merge_bundles(bundles, options)
        found: set[features.Feature] = set()
        for r in records:
            found |= features.from_record(r, self.options.freemail_domains)
        times = [int(m.sent_at.timestamp() * 1_000_000) for r in records for m in r.messages]
        level = records[0].tlp
        for r in records[1:]:
            level = max(level, r.tlp, key=tlp.RANK.__getitem__)
        return _Converted(records, draft, level, found, min(times, default=None), max(times, default=None),
                          dict(sorted(summary.suppressed.items())))

    def _convert_stix(self, body: bytes, filename: str) -> _Converted:
        doc = strict_json.loads(body, self.limits.json)
        objects = doc.get("objects") if isinstance(doc, dict) else None
        if not isinstance(objects, list) or not objects:
            raise ConversionError(filename, "objects", "a STIX bundle with a non-empty 'objects' list is required")
        for n, obj in enumerate(objects):
            checked = validation.check(obj, _STIX_INTAKE)
            if isinstance(checked, validation.Rejected):
                raise ConversionError(filename, f"objects[{n}]", checked.message)
        levels = [tlp.highest_level(o) for o in objects]
        level = max((lv for lv in levels if lv), key=tlp.RANK.__getitem__, default="amber")
        times = []
        for o in objects:
            for key in ("first_seen", "valid_from", "created"):
                if isinstance(o.get(key), str):
                    times.append(parse_us(o[key]))
                    break
        draft = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": self._rekeyed(objects)}
        return _Converted([], draft, level, features.from_stix(objects), min(times, default=None),
                          max(times, default=None))

    def _rekeyed(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A member's own SDO/SRO ids could identify it elsewhere; the draft uses keyed hub ids instead (stable
        for the same member id, irreversible), with every reference rewritten. SCO ids are content-derived and
        marking ids are shared, so they stay."""
        ids = KeyedIds(self.options.id_key)
        mapping = {
            o["id"]: ids.sdo_id(o["type"], {"submitted": o["id"]})
            for o in objects if o["type"] not in validation.SCO_TYPES and o["type"] != "marking-definition"
        }

        def ref(value: Any) -> Any:
            return mapping.get(value, value) if isinstance(value, str) else value

        out = []
        for obj in objects:
            copy = {}
            for key, value in obj.items():
                if key == "id" or key.endswith("_ref"):
                    copy[key] = ref(value)
                elif key.endswith("_refs") and isinstance(value, list):
                    copy[key] = [ref(v) for v in value]
                else:
                    copy[key] = value
            out.append(copy)
        return out

    # -- reading and triage --------------------------------------------------------------------------------

    def get(self, principal: Principal, submission_id: str) -> Submission:
        found = self.store.get_submission(submission_id)
        if found is None or not access.may_read_submission(principal, found.org_id):
            raise NotFound("no such submission")
        return found

    def published_from(self, principal: Principal, submission_id: str) -> list[Publication]:
        """What was published from a report the caller may see, into collections the caller may read (an
        analyst: everything). A publication made only to collections a member cannot read is not shown to it:
        its name and objects (a campaign, a sighting) would tell the member that its report was correlated
        with others' and where the hub sent them."""
        found = [self.store.get_publication(pid) for pid in self.get(principal, submission_id).publications]
        publications = [p for p, _ in (f for f in found if f is not None)]
        if access.sees_everyones_submissions(principal):
            return publications
        readable = set(self.readable_collections(principal))
        return [p for p in publications if readable.intersection(p.collections)]

    def records(self, principal: Principal, submission_id: str) -> list[Record]:
        """The incident records a submission was converted to — its mail thread — for a caller who may see the
        submission (its reporter or an analyst); empty for STIX submissions and rejected reports."""
        found = self.get(principal, submission_id)
        content = self.store.get_submission_content(found.id)
        if content is None or content.records in (b"", b"[]"):
            return []
        return load_records(content.records, found.id)

    def submissions(self, principal: Principal) -> list[Submission]:
        return self.store.list_submissions(None if access.sees_everyones_submissions(principal) else principal.org_id)

    def dismiss(self, principal: Principal, submission_id: str, reason: str) -> Submission:
        require(principal, "triage", "submission")
        found = self.get(principal, submission_id)
        if found.state == "published":
            raise Conflict("a published submission cannot be dismissed; revoke what was published instead")
        dismissed = dataclasses.replace(found, state="dismissed")
        with self.store.atomic():
            self.store.update_submission(dismissed)
            self.store.enqueue_correlation([f"s:{submission_id}"], self.clock())
        self.audit.record(principal, "dismiss", submission_id, {"reason": reason})
        return dismissed
