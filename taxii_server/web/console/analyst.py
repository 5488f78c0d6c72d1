"""Analyst pages: the intake queue, campaign candidates with their evidence and threads, the publish form with
its preview and leak check, approvals, revocation, the audit trail and the statistics.

Members never see these pages: `access.CONSOLE_PAGES` and `guard.require` answer them the same 404 as a
page that does not exist, and every service called here checks the analyst role again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from ...errors import BadRequest, HubError, NotFound
from ...hub.correlation import Candidate
from ...hub.publishing import PublishRequest
from ...model import CollectionDef, Principal, Submission
from ...tlp import LEVELS as TLP_LEVELS
from ..services import services
from . import charts, guard, presenters
from .blueprint import bp
from .member import shown

QUEUE_STATES = ("received", "converted", "rejected", "in-campaign", "published", "dismissed")


@bp.get("/queue")
def queue() -> str:
    caller = guard.require("triage")
    found = shown(caller, services().hub.intake.submissions(caller))
    state, org, source = (request.args.get(k, "") for k in ("state", "org", "source"))
    orgs = sorted({s.org_id for s in found})
    sources = sorted({s.source for s in found})
    chosen = [s for s in found if (not state or s.state == state) and (not org or s.org_id == org)
              and (not source or s.source == source)]
    chosen.sort(key=lambda s: s.received_at_us, reverse=True)
    return render_template("console/queue.html", submissions=chosen, states=QUEUE_STATES, orgs=orgs,
                           sources=sources, state=state, org=org, source=source, when=presenters.when)


@bp.post("/submissions/<submission_id>/dismissal")
def dismiss(submission_id: str) -> BaseResponse:
    caller = guard.require("triage")
    services().hub.intake.dismiss(caller, submission_id, request.form.get("reason", "")[:1000])
    return redirect(url_for("console.submission", submission_id=submission_id), 303)


# -- campaign candidates --------------------------------------------------------------------------------------

@bp.get("/candidates")
def candidates() -> str:
    caller = guard.require("candidates")
    campaigns = services().hub.campaigns
    found, token = campaigns.page(caller, 50, request.args.get("next") or None)
    latencies = {c.id: presenters.latency_range(presenters.reply_latencies(_records(caller, c))) for c in found}
    waiting, age = campaigns.lag(caller)
    return render_template("console/candidates.html", candidates=found, latencies=latencies, when=presenters.when,
                           next_token=token, waiting=waiting, lag_seconds=age)


def _records(caller: Principal, c: Candidate) -> list[Any]:
    intake = services().hub.intake
    return [r for sid in c.submissions for r in intake.records(caller, sid)]


def _targets(caller: Principal) -> list[CollectionDef]:
    """The feeds an analyst can publish to (inboxes are for reports, never a publication's target)."""
    feeds = services().feeds
    found: list[CollectionDef] = []
    for root in feeds.catalog.api_roots:
        try:
            views = feeds.collections(caller, root)
        except NotFound:
            continue
        found += [v.definition for v in views if v.can_write and v.definition.visibility != "own"]
    return found


def candidate_page(caller: Principal, candidate_id: str, **extra: Any) -> str:
    """A candidate: its evidence (each value used, over-correlating or excluded, with a form to exclude it),
    its reports and their threads, the forms to split it or merge it with another, and the publish form."""
    hub = services().hub
    c = hub.campaigns.get(caller, candidate_id)
    others = [o for o in hub.campaigns.page(caller, 50)[0] if o.id != c.id]
    waiting, _ = hub.campaigns.lag(caller)
    submissions: list[Submission] = [hub.intake.get(caller, sid) for sid in c.submissions]
    groups = dict(hub.intake.conversion_options().sector_groups)
    threads = [(s, [(r, presenters.thread(r)) for r in hub.intake.records(caller, s.id)]) for s in submissions]
    latencies = presenters.reply_latencies(r for _, pairs in threads for r, _ in pairs)
    strictest = max((s.tlp for s in submissions), key=TLP_LEVELS.index, default="amber")
    targets = _targets(caller)
    form = extra.pop("form", None) or {"name": "", "description": "", "tlp": strictest,
                                        "collections": [t.id for t in targets if t.alias == "member-feed"]}
    return render_template(
        "console/candidate.html", c=c, submissions=submissions, threads=threads, groups=groups,
        evidence=presenters.evidence_rows(c, submissions, groups), latency=presenters.latency_range(latencies),
        latency_count=len(latencies), span=presenters.minutes((c.last_seen_us - c.first_seen_us) / 1_000_000),
        when=presenters.when, minutes=presenters.minutes, targets=targets, audience=presenters.audience,
        tlp_levels=TLP_LEVELS[TLP_LEVELS.index(strictest):], form=form,
        two_person_rule=hub.publishing.policy.two_person_rule, others=others, waiting=waiting,
        queued=request.args.get("queued") == "1", **extra,
    )


@bp.get("/candidates/<candidate_id>")
def candidate(candidate_id: str) -> str:
    return candidate_page(guard.require("candidates"), candidate_id)


def _publish_request(candidate_id: str) -> tuple[PublishRequest, dict[str, Any]]:
    name = request.form.get("name", "").strip()[:300]
    description = request.form.get("description", "").strip()[:5000]
    level = request.form.get("tlp", "")
    collections = request.form.getlist("collections")
    if not collections:
        raise BadRequest(gettext("Choose at least one collection to publish to."))
    on_revoked = request.form.get("on_revoked", "refuse")
    req = PublishRequest(name=name, tlp=level, collections=tuple(collections), description=description,
                         candidate_id=candidate_id, on_revoked=on_revoked)
    return req, {"name": name, "description": description, "tlp": level, "collections": collections,
                 "on_revoked": on_revoked}


def _on_candidate(
    candidate_id: str, act: Callable[[Principal, PublishRequest, dict[str, Any]], BaseResponse | str]
) -> BaseResponse | str:
    """Run a publishing step for the form posted on a candidate's page; a refusal is shown on that page with
    the form as filled in (a candidate that no longer exists stays a 404)."""
    caller = guard.require("publications")
    req, form = _publish_request(candidate_id)
    try:
        return act(caller, req, form)
    except HubError as exc:
        if isinstance(exc, NotFound):
            raise
        return candidate_page(caller, candidate_id, form=form, problem=exc.message)


@bp.post("/candidates/<candidate_id>/preview")
def preview(candidate_id: str) -> BaseResponse | str:
    def show(caller: Principal, req: PublishRequest, form: dict[str, Any]) -> str:
        shown = services().hub.publishing.preview(caller, req)
        bundle = orjson.dumps(shown.bundle, option=orjson.OPT_INDENT_2).decode()
        return candidate_page(caller, candidate_id, form=form, preview=shown, bundle_text=bundle,
                               object_count=len(shown.bundle.get("objects", [])))

    return _on_candidate(candidate_id, show)


@bp.post("/candidates/<candidate_id>/publication")
def publish(candidate_id: str) -> BaseResponse | str:
    def write(caller: Principal, req: PublishRequest, _form: dict[str, Any]) -> BaseResponse:
        done = services().hub.publishing.publish(caller, req)
        return redirect(url_for("console.publication", publication_id=done.id), 303)

    return _on_candidate(candidate_id, write)


# -- publications and approvals -------------------------------------------------------------------------------

@bp.get("/publications")
def publications() -> str:
    caller = guard.require("publications")
    found = sorted(services().hub.publishing.publications(caller), key=lambda p: p.created_us, reverse=True)
    return render_template("console/publications.html", publications=found, when=presenters.when)


@bp.get("/publications/<publication_id>")
def publication(publication_id: str) -> str:
    caller = guard.require("publications")
    found, bundle = services().hub.publishing.get(caller, publication_id)
    text = orjson.dumps(orjson.loads(bundle), option=orjson.OPT_INDENT_2).decode()
    return render_template("console/publication.html", p=found, bundle_text=text, when=presenters.when,
                           may_approve=found.state == "pending-approval" and found.actor != caller.org_id)


@bp.post("/publications/<publication_id>/approval")
def approve(publication_id: str) -> BaseResponse:
    caller = guard.require("approval")
    services().hub.publishing.approve(caller, publication_id)
    return redirect(url_for("console.publication", publication_id=publication_id), 303)


# -- revocation, audit, statistics ----------------------------------------------------------------------------

@bp.route("/revoke", methods=["GET", "POST"])
def revoke() -> str:
    caller = guard.require("revocation")
    done: list[str] = []
    object_id = request.args.get("id", "")
    if request.method == "POST":
        object_id = request.form.get("object_id", "").strip()[:200]
        if not object_id:
            raise BadRequest(gettext("Give the STIX id of the object to revoke."))
        done = services().hub.revocation.revoke(caller, object_id, request.form.get("reason", "")[:1000])
    return render_template("console/revoke.html", done=done, object_id=object_id)


@bp.get("/audit")
def audit() -> str:
    caller = guard.require("audit")
    entries = list(reversed(services().hub.audit.entries(caller)))[:500]
    return render_template("console/audit.html", entries=entries, when=presenters.when, visible=presenters.visible)


@bp.get("/stats")
def stats() -> str:
    caller = guard.require("statistics")
    s = services().hub.stats.compute(caller)
    share = s.free_mail_sender_share
    none = gettext("No data yet.")
    figures = [
        (gettext("Reports per month"), charts.bar_chart(gettext("Reports per month"), s.reports_per_month, none)),
        (gettext("Attachment types"), charts.bar_chart(gettext("Attachment types"), s.attachment_types, none)),
        (gettext("Senders at free-mail providers"), charts.bar_chart(
            gettext("Senders at free-mail providers"),
            {} if share is None else {gettext("free mail"): share, gettext("other"): round(1 - share, 3)},
            none, percent=True)),
        (gettext("C2 locations by country"), charts.bar_chart(gettext("C2 locations by country"), s.c2_countries,
                                                             none)),
    ]
    return render_template("console/stats.html", s=s, figures=figures)
