"""Member pages: the home page, submitting reports (files or a form for one mail thread), my submissions with
their status timeline and what was published from them, my recent polls, and my API keys.

Every page acts as the signed-in organisation through the services; a submission of another organisation is
the services' 404. Analysts use the same submission pages and see more (the services decide what).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson
from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from converters import formats

from ... import access
from ...errors import BadRequest, HubError
from ...hub.views import member_state
from ...model import Principal, Submission
from ...tlp import LEVELS as TLP_LEVELS
from ..services import services
from . import guard, presenters
from .blueprint import bp

# What the upload takes: every suffix of the converters' format registry (it also decides the format).
UPLOAD_SUFFIXES = formats.SUFFIXES
THREAD_MESSAGES = 3
ROLES = ("recon", "reply", "attack")
_LOCAL_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(:\d\d)?$")


def shown(caller: Principal, found: list[Submission]) -> list[Submission]:
    """The submissions with the state this caller may see: a member's own reports never show what correlation
    found (no oracle: other members' reports must not change a member's pages); an analyst sees `in-campaign`
    for a converted report that belongs to a campaign candidate."""
    if not access.may_use(caller, "candidates"):
        return [dataclasses.replace(s, state=member_state(s)) for s in found]
    linked = services().hub.campaigns.candidates_of(caller, [s.id for s in found])
    return [dataclasses.replace(s, state="in-campaign") if s.id in linked and member_state(s) == "converted"
            else dataclasses.replace(s, state=member_state(s)) for s in found]


@bp.get("/")
def home() -> str:
    caller = guard.principal()
    mine = shown(caller, services().hub.intake.submissions(caller))
    recent = sorted(mine, key=lambda s: s.received_at_us, reverse=True)[:5]
    return render_template("console/home.html", recent=recent, when=presenters.when,
                           count=len(mine), org_id=caller.org_id)


# -- submitting -----------------------------------------------------------------------------------------------

@bp.route("/submit", methods=["GET", "POST"])
def submit() -> str:
    caller = guard.principal()
    results: list[tuple[str, Submission | None, str]] = []
    if request.method == "POST":
        intake = services().hub.intake
        if request.form.get("kind") == "thread":
            body, filename = _thread_record(request.form, caller.org_id)
            results.append((filename, intake.submit(caller, body, "application/json", "console", filename), ""))
        else:
            files = [f for f in request.files.getlist("reports") if f.filename]
            if not files:
                raise BadRequest(gettext("Choose at least one .eml, .msg or .json file."))
            limit = services().limits.max_submission_bytes  # the same budget as POST /hub/v1/submissions
            for f in files:
                name = presenters.visible(f.filename, 200)
                data = f.read(limit + 1)
                if not (f.filename or "").lower().endswith(UPLOAD_SUFFIXES):
                    results.append((name, None, gettext("Only .eml, .msg and .json files can be submitted.")))
                elif len(data) > limit:
                    results.append((name, None, gettext("The file is larger than %(mb)s MB.",
                                                        mb=f"{limit / 2**20:g}")))
                else:
                    try:
                        results.append((name, intake.submit(caller, data, "application/octet-stream", "console",
                                                            f.filename or name), ""))
                    except HubError as exc:
                        results.append((name, None, exc.message))
    return render_template("console/submit.html", results=results, roles=ROLES, tlp_levels=TLP_LEVELS,
                           messages=range(1, THREAD_MESSAGES + 1))


def _time(text: str) -> str:
    """A sent time as typed: RFC 3339 as it is, or `YYYY-MM-DD HH:MM` taken as Japan time."""
    text = text.strip()
    m = _LOCAL_TIME.match(text)
    if m:
        return f"{m.group(1)}T{m.group(2)}{m.group(3) or ':00'}+09:00"
    return text


def _thread_record(form: Any, org_id: str) -> tuple[bytes, str]:
    """One incident-record/1 from the thread form; the converters validate it like any other record."""
    messages = []
    for n in range(1, THREAD_MESSAGES + 1):
        def field(name: str, n: int = n) -> str:
            return str(form.get(f"m{n}_{name}", "")).strip()

        if not field("sent_at") and not field("from"):
            continue
        message: dict[str, Any] = {
            "ref": f"#{n}", "role": field("role"), "sent_at": _time(field("sent_at")),
            "from": {"address": field("from"), **({"display_name": field("display_name")}
                                                   if field("display_name") else {})},
            "subject": field("subject"), "body": field("body"),
        }
        if field("to"):
            message["to"] = [{"address": field("to")}]
        urls = [u.strip() for u in field("urls").splitlines() if u.strip()]
        if urls:
            message["urls"] = urls
        if field("attachment"):
            message["attachments"] = [{"name": field("attachment"), "sha256": field("sha256").lower()}]
        messages.append(message)
    if not messages:
        raise BadRequest(gettext("Fill in at least one message: its sent time and sender."))
    ref = str(form.get("record_id", "")).strip() or "console-report"
    record = {
        "format": "incident-record/1", "id": ref, "reporter": org_id,
        "reported_at": messages[-1]["sent_at"], "tlp": str(form.get("tlp", "amber")), "lang": "ja",
        "title": str(form.get("title", "")).strip() or messages[0]["subject"], "messages": messages,
    }
    return orjson.dumps(record), f"{ref}.json"


# -- my submissions -------------------------------------------------------------------------------------------

@bp.get("/submissions")
def submissions() -> BaseResponse | str:
    caller = guard.principal()
    if access.may_use(caller, "triage"):
        return redirect(url_for("console.queue"), 303)
    found = sorted(shown(caller, services().hub.intake.submissions(caller)), key=lambda s: s.received_at_us,
                   reverse=True)
    return render_template("console/submissions.html", submissions=found, when=presenters.when)


@bp.get("/submissions/<submission_id>")
def submission(submission_id: str) -> str:
    caller = guard.principal()
    intake = services().hub.intake
    (found,) = shown(caller, [intake.get(caller, submission_id)])
    published = intake.published_from(caller, found.id)
    records = intake.records(caller, found.id)
    return render_template(
        "console/submission.html", s=found, steps=presenters.status_timeline(found, published),
        published=published, errors=presenters.plain_errors(found.errors),
        threads=[(r, presenters.thread(r)) for r in records], when=presenters.when, minutes=presenters.minutes,
        visible=presenters.visible, analyst=access.sees_everyones_submissions(caller),
        features=[(k, presenters.visible(v, 120)) for k, v in found.features if k != "victim-domain"],
    )


# -- my recent polls ------------------------------------------------------------------------------------------

@bp.get("/polls")
def polls() -> str:
    caller = guard.principal()
    history = services().hub.polls
    summary = history.summary(caller, caller.org_id)
    recent = history.polls(caller, caller.org_id, None, 20)
    catalog = services().feeds.catalog
    # Only the title of a collection the caller can see: a refused read never describes what was refused.
    titles = {(c.api_root, c.collection_id): (found.title if access.may_name_in_history(
        caller, found := catalog.find(c.api_root, c.collection_id)) and found else "—") for c in summary}
    return render_template("console/polls.html", summary=summary, recent=recent, titles=titles,
                           when=presenters.when, minutes=presenters.minutes)


# -- my API keys ----------------------------------------------------------------------------------------------

@bp.route("/keys", methods=["GET", "POST"])
def keys() -> str:
    caller = guard.principal()
    accounts = services().accounts
    created = None
    if request.method == "POST":
        label = request.form.get("label", "").strip()[:100]
        created = accounts.create_key(caller, caller.org_id, label)
    found = sorted(accounts.keys(caller, caller.org_id), key=lambda k: (k.revoked is not None, k.created),
                   reverse=False)
    return render_template("console/keys.html", keys=found, created=created, current=caller.credential_id)


@bp.post("/keys/<credential_id>/revocation")
def revoke_key(credential_id: str) -> BaseResponse:
    caller = guard.principal()
    services().accounts.revoke_key(caller, credential_id)
    return redirect(url_for("console.keys"), 303)
