"""Analysts' corrections of correlation on the console: exclude an evidence value (or a pattern of values),
withdraw an exclusion, split a candidate, merge two.

Each form calls the same service as `taxii-hub campaigns exclude|include|split|merge` and /hub/v1, so every
change is audited and kept in the store, and the correlation step applies it (the page says so: nothing is
recomputed inside the request). A refused correction is shown on the page it came from; a candidate that no
longer exists is a 404. Members never reach these pages (`access.CONSOLE_PAGES`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ...errors import HubError, NotFound
from ...hub.correlation import EVIDENCE_KINDS
from ...model import Principal
from ..services import services
from . import guard, presenters
from .analyst import candidate_page
from .blueprint import bp

MAX_REASON = 1000


def _reason() -> str:
    return request.form.get("reason", "")[:MAX_REASON]


def _on_candidate(candidate_id: str, act: Callable[[Principal], object]) -> BaseResponse | str:
    """Run a correction posted on a candidate's page; back to that page, which says the change is queued."""
    caller = guard.require("candidates")
    try:
        act(caller)
    except HubError as exc:
        if isinstance(exc, NotFound):
            raise
        return candidate_page(caller, candidate_id, correction_problem=exc.message)
    return redirect(url_for("console.candidate", candidate_id=candidate_id, queued=1), 303)


@bp.post("/candidates/<candidate_id>/exclusion")
def exclude_value(candidate_id: str) -> BaseResponse | str:
    """Exclude one of the candidate's evidence values from linking reports."""
    kind, value = request.form.get("kind", ""), request.form.get("value", "")
    return _on_candidate(candidate_id, lambda caller: services().hub.campaigns.exclude(
        caller, kind, value, _reason()))


@bp.post("/candidates/<candidate_id>/split")
def split_candidate(candidate_id: str) -> BaseResponse | str:
    side = request.form.getlist("submissions")
    return _on_candidate(candidate_id, lambda caller: services().hub.campaigns.split(
        caller, candidate_id, side, _reason()))


@bp.post("/candidates/<candidate_id>/merge")
def merge_candidates(candidate_id: str) -> BaseResponse | str:
    other = request.form.get("with", "").strip()
    return _on_candidate(candidate_id, lambda caller: services().hub.campaigns.merge(
        caller, candidate_id, other, _reason()))


# -- the exclusions page ----------------------------------------------------------------------------------------

def _exclusions_page(caller: Principal, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    campaigns = services().hub.campaigns
    waiting, age = campaigns.lag(caller)
    form = {k: request.form.get(k, "") for k in ("kind", "value", "reason")} if problem else {}
    body = render_template(
        "console/exclusions.html", exclusions=campaigns.exclusions(caller), overrides=campaigns.overrides(caller),
        kinds=sorted(EVIDENCE_KINDS), labels=presenters.EVIDENCE_LABELS, when=presenters.when, problem=problem,
        form=form, waiting=waiting, lag_seconds=age, queued=request.args.get("queued") == "1")
    return body, status


@bp.get("/exclusions")
def exclusions() -> tuple[str, int]:
    return _exclusions_page(guard.require("candidates"))


@bp.post("/exclusions")
def add_exclusion() -> BaseResponse | tuple[str, int]:
    """Exclude a value, or with `pattern` every value matching a glob, of one evidence kind."""
    caller = guard.require("candidates")
    try:
        services().hub.campaigns.exclude(caller, request.form.get("kind", ""), request.form.get("value", ""),
                                         _reason(), pattern=request.form.get("pattern") == "1")
    except HubError as exc:
        return _exclusions_page(caller, exc.message, 422)
    return redirect(url_for("console.exclusions", queued=1), 303)


@bp.post("/exclusions/<exclusion_id>/removal")
def remove_exclusion(exclusion_id: str) -> BaseResponse:
    caller = guard.require("candidates")
    services().hub.campaigns.include(caller, exclusion_id, _reason())
    return redirect(url_for("console.exclusions", queued=1), 303)
