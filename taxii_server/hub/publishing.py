"""Vetting and publishing: analysts turn a campaign candidate or a single report into anonymised STIX in
TAXII collections.

Rules, all checked before anything is written:
- only analysts publish; to members publications are invisible;
- the publication is at least as restrictive as the most restrictive report in it; AMBER+STRICT and RED
  reports are never fanned out to collections members can read; a collection's `max_tlp` is enforced;
- the caller must be allowed to write every target collection (enforced by `feeds`);
- the leak check (`leaks.findings`) must find nothing;
- with the two-person rule on, a second, different analyst approves before anything is written.
Objects are written through `Feeds.add_everywhere` as the publishing analyst, so their `date_added` is the
publication time and pollers using `added_after` receive them. A `PublicationListener`, injected through the
constructor (none by default), is told of every publication once it is written: an observer (tests check each
bundle with MISP's importer), never part of the write.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from converters import ConversionOptions, bundle_bytes

from .. import access, tlp
from ..errors import Conflict, Forbidden, NotFound, Unprocessable
from ..feeds import Feeds, Torn
from ..model import CollectionDef, Principal, Publication, Submission
from ..settings import HubSettings
from ..storage.base import WorkflowStore
from ..timestamps import now_us
from . import publication_bundle
from .audit import AuditLog, require
from .campaigns import Campaigns
from .correlation import CORRELATED_STATES
from .leaks import LeakCheck

log = logging.getLogger(__name__)

ON_REVOKED = ("refuse", "new-objects")
# Told of each publication after it was written, with its bundle's exact bytes.
PublicationListener = Callable[[Publication, bytes], None]


@dataclasses.dataclass(frozen=True)
class PublishRequest:
    name: str
    tlp: str
    collections: tuple[str, ...]
    description: str = ""
    candidate_id: str | None = None
    submission_ids: tuple[str, ...] = ()
    approver: Principal | None = None
    # what to do with objects revoked where the hub published them: revocation is final, so either refuse
    # the publication or publish them as new objects (new ids)
    on_revoked: str = "refuse"


_REVOKED_FINDING = ("revoked: revoked where the hub published it, and revocation is final; publish it as a new "
                    "object (on_revoked=new-objects) or leave the report out")


@dataclasses.dataclass(frozen=True)
class Preview:
    bundle: dict[str, Any]
    serialized: bytes
    findings: tuple[str, ...]
    collections: tuple[CollectionDef, ...]
    submissions: tuple[Submission, ...]
    revoked: tuple[str, ...] = ()  # objects of the publication that were revoked where the hub published them


class Publishing:
    def __init__(
        self,
        store: WorkflowStore,
        feeds: Feeds,
        campaigns: Campaigns,
        audit: AuditLog,
        options: Callable[[], ConversionOptions],
        policy: HubSettings,
        leak_check: LeakCheck,
        clock: Callable[[], int] = now_us,
        on_published: PublicationListener | None = None,
    ) -> None:
        self.leak_check = leak_check
        self.on_published = on_published
        self.store = store
        self.feeds = feeds
        self.campaigns = campaigns
        self.audit = audit
        self.options = options
        self.policy = policy
        self.clock = clock

    # -- reading -------------------------------------------------------------------------------------------

    def get(self, principal: Principal, publication_id: str) -> tuple[Publication, bytes]:
        require(principal, "publications", "publication")
        found = self.store.get_publication(publication_id)
        if found is None:
            raise NotFound("no such publication")
        return found

    def publications(self, principal: Principal) -> list[Publication]:
        require(principal, "publications", "publication")
        return self.store.list_publications()

    # -- publishing ----------------------------------------------------------------------------------------

    def preview(self, principal: Principal, request: PublishRequest, publication_id: str = "preview") -> Preview:
        """The exact bundle a publication would carry and the leak check's verdict; nothing is written."""
        require(principal, "publications", "publication")
        if not request.name.strip():
            raise Unprocessable("a publication needs a name")
        if request.on_revoked not in ON_REVOKED:
            raise Unprocessable(f"on_revoked must be one of {', '.join(ON_REVOKED)}")
        submissions = self._submissions(principal, request)
        level = self._level(request.tlp, submissions)
        collections = tuple(self._target(principal, ref, level, submissions) for ref in request.collections)
        if not collections:
            raise Unprocessable("name at least one collection to publish to")
        orgs = {o.id: o for o in self.store.list_organisations()}
        drafts = self._drafts(submissions)
        protected = self.leak_check.register() | self.leak_check.reports(submissions)
        first = min(s.first_seen_us or s.received_at_us for s in submissions)
        last = max(s.last_seen_us or s.first_seen_us or s.received_at_us for s in submissions)
        spec = publication_bundle.PublicationSpec(
            publication_id=publication_id,
            name=request.name.strip(),
            description=request.description.strip(),
            tlp=level,
            published_at=_datetime(self.clock()),
            campaign=request.candidate_id is not None,
            reporter_groups={s.org_id: orgs[s.org_id].group if s.org_id in orgs else "unknown" for s in submissions},
            first_seen=_datetime(first),
            last_seen=_datetime(last),
            min_group_count=self.policy.min_group_count,
            min_group_size=self.policy.min_group_size,
            group_sizes=self.leak_check.group_sizes(),
            member_drafts=frozenset(n for n, s in enumerate(submissions) if s.media_type == "application/stix+json"),
            valid_days={"ip": self.policy.valid_days_ip, "compromised-site": self.policy.valid_days_compromised_site,
                        "domain": self.policy.valid_days_domain, "url": self.policy.valid_days_url,
                        "email": self.policy.valid_days_email},
        )
        bundle = publication_bundle.build(drafts, spec, self.options())
        known, revoked = self._holdings(principal, bundle, collections)
        if known:
            spec = dataclasses.replace(spec, known_created=known)
        if revoked and request.on_revoked == "new-objects":
            spec = dataclasses.replace(spec, reissue=frozenset(revoked))
        if known or (revoked and request.on_revoked == "new-objects"):
            bundle = publication_bundle.build(drafts, spec, self.options())
        serialized = bundle_bytes(bundle)
        found = self.leak_check.check_publication(bundle, protected)
        if revoked and request.on_revoked != "new-objects":
            found += [f"{oid}: {_REVOKED_FINDING}" for oid in revoked]
        return Preview(bundle, serialized, tuple(found), collections, submissions, tuple(revoked))

    def publish(self, principal: Principal, request: PublishRequest) -> Publication:
        publication_id = str(uuid.uuid4())
        preview = self.preview(principal, request, publication_id)
        if preview.findings:
            self.audit.record(principal, "refuse-publication", publication_id, {"findings": list(preview.findings)})
            leaks = [f for f in preview.findings if not f.endswith(_REVOKED_FINDING)]
            why = "by the leak check" if leaks else "because it holds objects revoked where the hub published them"
            raise Unprocessable(f"publication refused {why}; nothing was written",
                                details={"findings": list(preview.findings)})
        approver = request.approver
        if approver is not None:
            self._check_approver(approver, principal.org_id)
        publication = Publication(
            id=publication_id, name=request.name.strip(), description=request.description.strip(),
            tlp=tlp.parse_level(request.tlp), collections=tuple(c.id for c in preview.collections),
            submissions=tuple(s.id for s in preview.submissions), candidate_id=request.candidate_id,
            actor=principal.org_id, approver=None, state="pending-approval", created_us=self.clock(),
        )
        if self.policy.two_person_rule and approver is None:
            self.store.save_publication(publication, preview.serialized)
            self.audit.record(principal, "request-publication", publication.id, {"name": publication.name})
            return publication
        return self._write(publication, preview.serialized, principal, approver)

    def approve(self, principal: Principal, publication_id: str) -> Publication:
        publication, serialized = self.get(principal, publication_id)
        if publication.state != "pending-approval":
            raise Conflict(f"publication {publication_id} is already {publication.state}")
        self._check_approver(principal, publication.actor)
        for sid in publication.submissions:  # a report dismissed while the request waited stays unpublished
            s = self.store.get_submission(sid)
            if s is None or s.state not in CORRELATED_STATES:
                raise Conflict(f"submission {sid} is {s.state if s else 'gone'} since the publication was "
                               f"requested; request the publication again")
        actor = self._principal(publication.actor)
        _, revoked = self._holdings(actor, orjson.loads(serialized), ())
        if revoked:  # revoked while the request waited: revocation is final
            raise Conflict(f"{len(revoked)} object(s) of this publication were revoked since it was requested; "
                           f"request the publication again")
        return self._write(publication, serialized, actor, principal)

    def _write(
        self, publication: Publication, serialized: bytes, writer: Principal, approver: Principal | None
    ) -> Publication:
        """Every object into every target collection, the publication, its reports' states and the audit entry:
        all of it or nothing (`Feeds.add_everywhere`). A per-object failure anywhere refuses the publication."""
        bundle = orjson.loads(serialized)
        envelope = orjson.dumps({"objects": bundle["objects"]})
        published = dataclasses.replace(
            publication, state="published", approver=approver.org_id if approver else None,
            published_us=self.clock(), object_ids=tuple(o["id"] for o in bundle["objects"]),
        )

        def records() -> None:
            self.store.save_publication(published, serialized)
            for sid in published.submissions:
                s = self.store.get_submission(sid)
                if s is not None:
                    self.store.update_submission(dataclasses.replace(
                        s, state="published", publications=(*s.publications, published.id)))
            self.audit.record(writer, "publish", published.id, {
                "name": published.name, "tlp": published.tlp, "collections": list(published.collections),
                "submissions": list(published.submissions), "approved_by": published.approver,
                "objects": len(published.object_ids),
            })

        targets = [self.feeds.writable(writer, cid) for cid in publication.collections]
        try:
            self.feeds.add_everywhere(writer, targets, envelope, then=records)
        except Torn as torn:
            self.audit.record(writer, "refuse-publication", publication.id, {"failures": list(torn.failures)})
            raise Conflict(f"publication refused: {torn.message}", details={"failures": list(torn.failures)}) \
                from None
        if self.on_published is not None:
            try:
                self.on_published(published, serialized)
            except Exception:  # the publication is written: an observer's failure must not report it as failed
                log.exception("the publication listener failed on %s", published.id)
        return published

    # -- the rules -----------------------------------------------------------------------------------------

    def _submissions(self, principal: Principal, request: PublishRequest) -> tuple[Submission, ...]:
        if request.candidate_id and request.submission_ids:
            raise Unprocessable("publish either a campaign candidate or submissions, not both")
        ids: Sequence[str] = (self.campaigns.get(principal, request.candidate_id).submissions
                              if request.candidate_id else request.submission_ids)
        if not ids:
            raise Unprocessable("name a campaign candidate or at least one submission")
        found = []
        for sid in ids:
            s = self.store.get_submission(sid)
            if s is None:
                raise NotFound(f"no submission {sid!r}")
            if s.state not in CORRELATED_STATES:
                raise Unprocessable(f"submission {sid} is {s.state}; only converted reports can be published")
            found.append(s)
        return tuple(found)

    @staticmethod
    def _level(requested: str, submissions: Sequence[Submission]) -> str:
        try:
            level = tlp.parse_level(requested)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from exc
        strictest = max((s.tlp for s in submissions), key=tlp.RANK.__getitem__)
        if tlp.RANK[level] < tlp.RANK[strictest]:
            raise Unprocessable(f"TLP:{level.upper()} is less restrictive than a report in it "
                                f"(TLP:{strictest.upper()}); the hub may raise a level, never lower it")
        return level

    def _target(
        self, principal: Principal, ref: str, level: str, submissions: Sequence[Submission]
    ) -> CollectionDef:
        c = self.feeds.writable(principal, ref)
        if tlp.exceeds(level, c.max_tlp):
            raise Unprocessable(f"collection {c.alias or c.id} takes at most TLP:{(c.max_tlp or '').upper()}")
        restricted = [s.id for s in submissions if s.tlp in ("amber+strict", "red")]
        refusal = access.publish_target_refusal(c, bool(restricted))
        if refusal:
            reports = f" (report(s) {', '.join(restricted)})" if restricted else ""
            raise Unprocessable(f"collection {c.alias or c.id} {refusal}{reports}")
        return c

    def _drafts(self, submissions: Sequence[Submission]) -> list[dict[str, Any]]:
        drafts: list[dict[str, Any]] = []
        for s in submissions:
            content = self.store.get_submission_content(s.id)
            if content is None:
                raise NotFound(f"no content for submission {s.id!r}")
            drafts.append(orjson.loads(content.draft))
        return drafts

    def _holdings(
        self, principal: Principal, bundle: dict[str, Any], targets: Sequence[CollectionDef]
    ) -> tuple[dict[str, str], list[str]]:
        """`created` of the objects a target collection already holds (a new version must keep it), and the
        objects revoked in any collection the analyst can write (revocation is final)."""
        wanted = {c.id for c in targets}
        known: dict[str, str] = {}
        revoked: list[str] = []
        for obj in bundle["objects"]:
            if "created" not in obj or obj["type"] == "marking-definition":
                continue
            for collection, stored in self.feeds.holdings(principal, obj["id"]):
                current = orjson.loads(stored.raw)
                if current.get("revoked") is True:
                    if obj["id"] not in revoked:
                        revoked.append(obj["id"])
                elif (collection.id in wanted and obj["type"] not in publication_bundle.LONG_LIVED
                      and obj["type"] != "identity" and isinstance(current.get("created"), str)):
                    known[obj["id"]] = min(current["created"], known.get(obj["id"], current["created"]))
        return known, revoked

    def _check_approver(self, approver: Principal, actor_org: str) -> None:
        refusal = access.approval_refusal(approver, actor_org)
        if refusal:
            raise Forbidden(refusal)

    def _principal(self, org_id: str) -> Principal:
        org = self.store.get_organisation(org_id)
        if org is None:
            raise NotFound(f"no organisation {org_id!r}")
        return org.principal()


def _datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)
