"""Submissions, candidates and publications as plain JSON-ready dicts, for the REST API and the command line.

What a caller may know is decided here for the submission view: a member sees where its own report stands
and what was published from it, never who else reported nor whether anyone did (no correlation oracle);
analysts also see the reporter, the evidence and the candidate.
"""

from __future__ import annotations

from typing import Any

from .. import access
from ..model import Exclusion, Override, Principal, Publication, Submission
from ..timestamps import format_us
from .correlation import Candidate


def member_state(s: Submission) -> str:
    """received → converted/rejected → published/dismissed: nothing a member sees of its own report depends on
    other organisations' reports (a database written before correlation moved off the request path may still
    hold `in-campaign`, which a member sees as `converted`)."""
    return "converted" if s.state == "in-campaign" else s.state


def submission_view(s: Submission, principal: Principal, publications: list[Publication],
                    candidate_id: str | None = None) -> dict[str, Any]:
    """What a caller may know of a submission: a member sees where its own report stands and what was
    published from it, never who else reported nor whether anyone did; analysts also see the reporter, the
    evidence and the campaign candidate the report belongs to (`in-campaign`)."""
    status = member_state(s)
    if access.may_use(principal, "candidates") and candidate_id is not None and status == "converted":
        status = "in-campaign"
    view: dict[str, Any] = {
        "id": s.id, "status": status, "received_at": format_us(s.received_at_us), "tlp": s.tlp,
        "media_type": s.media_type, "record_ids": list(s.record_ids),
    }
    if s.errors:
        view["errors"] = list(s.errors)
    if publications:
        view["publications"] = [
            {"id": p.id, "name": p.name, "tlp": p.tlp, "published_at": format_us(p.published_us or p.created_us),
             "objects": list(p.object_ids)}
            for p in publications
        ]
    if access.sees_everyones_submissions(principal):
        if candidate_id is not None:
            view["candidate"] = candidate_id
        view.update(organisation=s.org_id, source=s.source,
                    features=[{"kind": k, "value": v} for k, v in s.features if k != "victim-domain"])
        if s.first_seen_us is not None:
            view["first_seen"] = format_us(s.first_seen_us)
            view["last_seen"] = format_us(s.last_seen_us or s.first_seen_us)
    return view


def candidate_view(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.id, "submissions": list(c.submissions), "organisations": list(c.organisations),
        "groups": list(c.groups), "first_seen": format_us(c.first_seen_us), "last_seen": format_us(c.last_seen_us),
        "evidence": [{"kind": e.kind, "value": e.value, "state": e.state, "submissions": list(e.submissions)}
                     for e in c.evidence],
    }


def exclusion_view(e: Exclusion) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "value": e.value, "pattern": e.pattern, "reason": e.reason,
            "by": e.actor, "at": format_us(e.at_us)}


def override_view(o: Override) -> dict[str, Any]:
    return {"id": o.id, "action": o.action, "side_a": list(o.side_a), "side_b": list(o.side_b),
            "reason": o.reason, "by": o.actor, "at": format_us(o.at_us)}


def publication_view(p: Publication) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": p.id, "name": p.name, "description": p.description, "tlp": p.tlp, "status": p.state,
        "collections": list(p.collections), "submissions": list(p.submissions), "candidate": p.candidate_id,
        "requested_by": p.actor, "approved_by": p.approver, "created": format_us(p.created_us),
        "objects": list(p.object_ids),
    }
    if p.published_us is not None:
        view["published_at"] = format_us(p.published_us)
    return view
