"""The sharing workflow on the command line: submit reports, suggest and publish campaigns, publish single
reports, approve, dismiss, revoke, statistics and the audit trail.

Commands that change something act as an organisation named with `--as ORG` and go through the same
services and access rules as HTTP; read-only analyst commands may omit `--as` and act as the local operator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson

from converters import ConversionError, formats

from ..accounts import OPERATOR
from ..errors import HubError
from ..model import Principal
from ..timestamps import parse_us
from . import CliContext, one_line_errors
from .progress import Step, progress

AS_OPTION = click.option("--as", "as_org", metavar="ORG", help="Act as this organisation.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _services(obj: CliContext) -> Any:
    from ..app import build_services

    return build_services(obj.settings(), obj.store(), on_published=obj.on_published)


def _principal(services: Any, as_org: str | None, *, required: bool) -> Principal:
    if as_org is None:
        if required:
            raise click.UsageError("--as ORG is required: this command acts as an organisation")
        return OPERATOR
    principal: Principal = services.accounts.acting_as(as_org)
    return principal


def _emit(data: Any, as_json: bool, human: Callable[[], str]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else human())


def _timestamp(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    text = value if "T" in value else value + "T00:00:00Z"
    try:
        return parse_us(text, allow_offset=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from exc


def media_type_of(path: Path, data: bytes) -> str:
    """The report's media type from the converters' format registry; octet-stream when it recognises nothing
    (the hub then keeps it as a rejected submission with the reason)."""
    try:
        return formats.detect(data, path.name).media_type
    except ConversionError:
        return "application/octet-stream"


# -- submissions --------------------------------------------------------------------------------------------

@click.command()
@click.argument("files", nargs=-1, required=True)
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def submit(obj: CliContext, files: tuple[str, ...], as_org: str | None, as_json: bool) -> None:
    """Submit reports (.eml, .msg, incident-record JSON, STIX bundles; files, directories or globs) as ORG."""
    from .convert import expand_inputs

    services = _services(obj)
    principal = _principal(services, as_org, required=True)
    results: list[dict[str, Any]] = []
    items = list(expand_inputs(files, formats.SUFFIXES))
    with progress("submit", len(items)) as step:
        failed = _submit_all(services, principal, items, results, step if len(items) > 1 else _silent)
    _emit(results, as_json, lambda: "\n".join(f"{r['id']}  {r['status']:<12} {', '.join(r['record_ids'])}"
                                              for r in results))
    if failed:
        raise click.exceptions.Exit(1)


def _silent(name: str, total: int | None = None) -> None:
    pass


def _submit_all(services: Any, principal: Principal, items: list[tuple[str, Path | None]],
                results: list[dict[str, Any]], step: Step) -> bool:
    """Submit each file, reporting problems one line each on stderr; whether any failed."""
    from ..hub.views import submission_view

    failed = False
    for name, path in items:
        step(name)
        if path is None:
            click.echo(f"taxii-hub: {name}: no such file", err=True)
            failed = True
            continue
        try:
            data = path.read_bytes()
            s = services.hub.intake.submit(principal, data, media_type_of(path, data), "cli", name)
        except HubError as exc:
            click.echo(f"taxii-hub: {exc.message}", err=True)
            failed = True
            continue
        except OSError as exc:
            click.echo(f"taxii-hub: {name}: {exc.strerror or exc}", err=True)
            failed = True
            continue
        results.append(submission_view(s, principal, []))
        if s.errors:
            failed = True
            for error in s.errors:
                click.echo(f"taxii-hub: {error}", err=True)
    return failed


@click.group()
def submissions() -> None:
    """List and inspect submissions."""


@submissions.command("list")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def submissions_list(obj: CliContext, as_org: str | None, as_json: bool) -> None:
    """Your organisation's submissions (all of them for analysts)."""
    from ..hub.views import submission_view

    services = _services(obj)
    principal = _principal(services, as_org, required=False)
    intake = services.hub.intake
    views = [submission_view(s, principal, intake.published_from(principal, s.id))
             for s in intake.submissions(principal)]
    _emit(views, as_json, lambda: "\n".join(
        f"{v['id']}  {v['status']:<12} {v.get('organisation', ''):<14} {', '.join(v['record_ids'])}"
        for v in views) or "no submissions")


@submissions.command("show")
@click.argument("submission_id")
@AS_OPTION
@click.pass_obj
@one_line_errors
def submissions_show(obj: CliContext, submission_id: str, as_org: str | None) -> None:
    """One submission as JSON: its status, errors and what was published from it."""
    from ..hub.views import submission_view

    services = _services(obj)
    principal = _principal(services, as_org, required=False)
    s = services.hub.intake.get(principal, submission_id)
    _emit(submission_view(s, principal, services.hub.intake.published_from(principal, s.id)), True, str)


@click.command()
@click.argument("submission_id")
@click.option("--reason", default="", help="Why the report is dismissed (kept in the audit trail).")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def dismiss(obj: CliContext, submission_id: str, reason: str, as_org: str | None, as_json: bool) -> None:
    """Dismiss a report as not worth publishing (analysts)."""
    from ..hub.views import submission_view

    services = _services(obj)
    principal = _principal(services, as_org, required=True)
    s = services.hub.intake.dismiss(principal, submission_id, reason)
    _emit(submission_view(s, principal, []), as_json, lambda: f"{s.id} dismissed")


# -- campaigns and publications -----------------------------------------------------------------------------

@click.group()
def campaigns() -> None:
    """Campaign candidates: reports from several members linked by shared evidence."""


@campaigns.command("suggest")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def campaigns_suggest(obj: CliContext, as_org: str | None, as_json: bool) -> None:
    """List campaign candidates with the evidence that links their reports."""
    from ..hub.views import candidate_view

    services = _services(obj)
    principal = _principal(services, as_org, required=False)
    services.hub.campaigns.lag(principal)  # members are refused before anything runs
    services.hub.campaigns.drain()  # what the correlation worker has not taken in yet, now
    found = services.hub.campaigns.suggest(principal)
    views = [candidate_view(c) for c in found]

    def human() -> str:
        lines = []
        for v in views:
            lines.append(f"{v['id']}  {len(v['submissions'])} reports from {len(v['organisations'])} organisations "
                         f"in {len(v['groups'])} groups, {v['first_seen'][:10]} – {v['last_seen'][:10]}")
            lines += [f"    {e['kind']:<22} {e['value']}  ({len(e['submissions'])} reports, {e['state']})"
                      for e in v["evidence"]]
        return "\n".join(lines) or "no campaign candidates"

    _emit(views, as_json, human)


def _publish_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed((
        click.option("--name", required=True, help="Name of the campaign or report."),
        click.option("--description", default="", help="What the analysts concluded."),
        click.option("--tlp", required=True, help="TLP 2.0 level: clear, green, amber, amber+strict, red."),
        click.option("--to", "collections", multiple=True, required=True,
                     help="Target collection id or alias (repeatable)."),
        click.option("--approved-by", "approver", metavar="ANALYST", default=None,
                     help="A second analyst who approves (two-person rule)."),
        click.option("--preview", is_flag=True, help="Print the exact bundle and the leak check; write nothing."),
        click.option("--on-revoked", "on_revoked", type=click.Choice(["refuse", "new-objects"]), default="refuse",
                     show_default=True, help="Objects revoked earlier: refuse, or publish them as new objects."),
        AS_OPTION,
        JSON_OPTION,
    )):
        func = option(func)
    return func


def _publish(obj: CliContext, as_org: str | None, approver: str | None, preview: bool, as_json: bool,
             **request: Any) -> None:
    from ..hub.publishing import PublishRequest
    from ..hub.views import publication_view

    services = _services(obj)
    principal = _principal(services, as_org, required=True)
    req = PublishRequest(approver=_principal(services, approver, required=True) if approver else None, **request)
    if preview:
        p = services.hub.publishing.preview(principal, req)
        click.echo(json.dumps({"findings": list(p.findings), "revoked": list(p.revoked), "bundle": p.bundle},
                              ensure_ascii=False, indent=2))
        if p.findings:
            raise click.exceptions.Exit(1)
        return
    publication = services.hub.publishing.publish(principal, req)
    _emit(publication_view(publication), as_json, lambda: (
        f"{publication.id} {publication.state}: {len(publication.object_ids)} objects to "
        f"{', '.join(publication.collections)}" if publication.state == "published"
        else f"{publication.id} waits for a second analyst: taxii-hub publications approve {publication.id} "
             f"--as ANALYST"))


@campaigns.command("publish")
@click.argument("candidate_id")
@_publish_options
@click.pass_obj
@one_line_errors
def campaigns_publish(obj: CliContext, candidate_id: str, name: str, description: str, tlp: str,
                      collections: tuple[str, ...], approver: str | None, preview: bool, on_revoked: str,
                      as_org: str | None, as_json: bool) -> None:
    """Publish a campaign candidate, anonymised, to collections."""
    _publish(obj, as_org, approver, preview, as_json, name=name, description=description, tlp=tlp,
             collections=collections, candidate_id=candidate_id, on_revoked=on_revoked)


@click.command()
@click.argument("submission_ids", nargs=-1, required=True)
@_publish_options
@click.pass_obj
@one_line_errors
def publish(obj: CliContext, submission_ids: tuple[str, ...], name: str, description: str, tlp: str,
            collections: tuple[str, ...], approver: str | None, preview: bool, on_revoked: str, as_org: str | None,
            as_json: bool) -> None:
    """Publish single reports (not a campaign), anonymised, to collections."""
    _publish(obj, as_org, approver, preview, as_json, name=name, description=description, tlp=tlp,
             collections=collections, submission_ids=submission_ids, on_revoked=on_revoked)


@click.group()
def publications() -> None:
    """Publications: list, show, approve."""


@publications.command("list")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def publications_list(obj: CliContext, as_org: str | None, as_json: bool) -> None:
    """Every publication, pending or published."""
    from ..hub.views import publication_view

    services = _services(obj)
    views = [publication_view(p) for p in services.hub.publishing.publications(
        _principal(services, as_org, required=False))]
    _emit(views, as_json, lambda: "\n".join(
        f"{v['id']}  {v['status']:<17} {v['tlp']:<12} {v['name']}" for v in views) or "no publications")


@publications.command("show")
@click.argument("publication_id")
@AS_OPTION
@click.pass_obj
@one_line_errors
def publications_show(obj: CliContext, publication_id: str, as_org: str | None) -> None:
    """One publication as JSON: its status, approvals and the STIX bundle it wrote (or will write)."""

    from ..hub.views import publication_view

    services = _services(obj)
    p, bundle = services.hub.publishing.get(_principal(services, as_org, required=False), publication_id)
    _emit({**publication_view(p), "bundle": orjson.loads(bundle)}, True, str)


@publications.command("approve")
@click.argument("publication_id")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def publications_approve(obj: CliContext, publication_id: str, as_org: str | None, as_json: bool) -> None:
    """Approve a pending publication as a second analyst; it is written at once."""
    from ..hub.views import publication_view

    services = _services(obj)
    p = services.hub.publishing.approve(_principal(services, as_org, required=True), publication_id)
    _emit(publication_view(p), as_json, lambda: f"{p.id} published: {len(p.object_ids)} objects")


@click.command()
@click.argument("stix_id")
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def revoke(obj: CliContext, stix_id: str, reason: str, as_org: str | None, as_json: bool) -> None:
    """Revoke a published object in every collection that holds it."""
    services = _services(obj)
    touched = services.hub.revocation.revoke(_principal(services, as_org, required=True), stix_id, reason)
    _emit({"id": stix_id, "revoked_in": touched}, as_json, lambda: f"{stix_id} revoked in {', '.join(touched)}")


# -- statistics and audit -----------------------------------------------------------------------------------

@click.command()
@click.option("--since", default=None, help="From this date (YYYY-MM-DD or RFC 3339).")
@click.option("--until", default=None, help="Up to this date, exclusive.")
@click.option("--charts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the charts as SVG files into this directory.")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def stats(obj: CliContext, since: str | None, until: str | None, charts: Path | None, as_org: str | None,
          as_json: bool) -> None:
    """The hub's activity figures (analysts)."""
    services = _services(obj)
    figures = services.hub.stats.compute(_principal(services, as_org, required=False),
                                         _timestamp("--since", since), _timestamp("--until", until))
    data = dict(figures.__dict__)
    if charts is not None:
        from ..hub.charts import render

        data["charts"] = [str(p) for p in render(figures, charts)]
    _emit(data, as_json, lambda: "\n".join(f"{k}: {v}" for k, v in data.items()))


@click.command()
@click.option("--since", default=None, help="From this date (YYYY-MM-DD or RFC 3339).")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def audit(obj: CliContext, since: str | None, as_org: str | None, as_json: bool) -> None:
    """The audit trail: who submitted, published, approved, dismissed and revoked what, and when."""
    from ..timestamps import format_us

    services = _services(obj)
    entries = services.hub.audit.entries(_principal(services, as_org, required=False), _timestamp("--since", since))
    rows = [{"at": format_us(e.at_us), "actor": e.actor, "action": e.action, "target": e.target,
             "details": json.loads(e.details) if e.details else {}} for e in entries]
    _emit(rows, as_json, lambda: "\n".join(
        f"{r['at']}  {r['actor']:<14} {r['action']:<18} {r['target']}" for r in rows) or "no entries")


@click.command()
@click.option("--org", default=None, metavar="ORG", help="Only this organisation's reads.")
@click.option("--since", default=None, help="Recent reads from this date (YYYY-MM-DD or RFC 3339).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Recent reads listed.")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def polls(obj: CliContext, org: str | None, since: str | None, limit: int, as_org: str | None, as_json: bool) -> None:
    """Poll history: per organisation and collection the last success and error and the lag behind
    publication, then the most recent TAXII reads (analysts see every organisation; a member only its own)."""
    from ..hub.polls import collection_polls_view, poll_view

    services = _services(obj)
    principal = _principal(services, as_org, required=False)
    history = services.hub.polls
    data = {"collections": [collection_polls_view(c) for c in history.summary(principal, org)],
            "polls": [poll_view(r) for r in history.polls(principal, org, _timestamp("--since", since), limit)]}

    def human() -> str:
        lines = [f"{c['organisation']:<14} {c['api_root']}/{c['collection']}  {c['polls']} reads, "
                 f"{c['errors']} errors, last success {(c['last_success'] or {}).get('at', 'never')}, lag "
                 f"{'unknown' if c['lag_seconds'] is None else str(c['lag_seconds']) + ' s'}"
                 for c in data["collections"]]
        lines += [f"{r['at']}  {r['organisation']:<14} {r['status']} {r['endpoint']:<9} {r['collection']}  "
                  f"{r['objects']} objects"
                  + (f", {r['count']} fetches since {r['first_at']}" if r["count"] > 1 else "")
                  for r in data["polls"]]
        return "\n".join(lines) or "no polls"

    _emit(data, as_json, human)


def register(group: click.Group) -> None:
    for command in (submit, submissions, dismiss, campaigns, publish, publications, revoke, stats, audit, polls):
        group.add_command(command)
