"""Correlation on the command line: the background worker, and the analysts' corrections and recomputation.

`taxii-hub worker` runs the correlation step (a queue in the store, shared by every worker and by the threads
`serve` starts); `campaigns exclude|include|exclusions|split|merge` correct it (audited, acting `--as` an
analyst organisation); `campaigns rebuild` recomputes every candidate and gives exactly what the incremental
step gives.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from ..hub.correlation import EVIDENCE_KINDS
from ..hub.correlation_worker import CorrelationWorker
from . import CliContext, one_line_errors
from .hub import AS_OPTION, JSON_OPTION, _principal, _services, campaigns


@click.command()
@click.option("--once", is_flag=True, help="Run every queued job, then exit (cron, tests, after an import).")
@click.pass_obj
@one_line_errors
def worker(obj: CliContext, once: bool) -> None:
    """Run the correlation step: take reports into the campaign candidates, off every request path."""
    services = _services(obj)
    runner = CorrelationWorker(services.hub.campaigns.correlator)
    if once:
        ran, took = runner.drain_once()
        click.echo(f"{ran} correlation jobs in {took:.2f} s; {services.hub.campaigns.correlator.lag()[0]} waiting")
        return
    click.echo("correlation worker running (Ctrl-C stops it)", err=True)
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop.set()


@campaigns.command("exclude")
@click.argument("kind", type=click.Choice(sorted(EVIDENCE_KINDS)))
@click.argument("value")
@click.option("--reason", required=True, help="Why the value is excluded (kept in the audit trail).")
@click.option("--pattern", is_flag=True, help="VALUE is a glob pattern (`*`, `?`, `[…]`), e.g. '*.cdn.example'.")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def campaigns_exclude(obj: CliContext, kind: str, value: str, reason: str, pattern: bool, as_org: str | None,
                      as_json: bool) -> None:
    """Exclude an evidence value (or every value matching a pattern) from linking reports."""
    services = _services(obj)
    found = services.hub.campaigns.exclude(_principal(services, as_org, required=True), kind, value, reason,
                                           pattern)
    _echo({"id": found.id, "kind": kind, "value": value, "pattern": pattern, "reason": found.reason}, as_json,
          lambda: f"{found.id}: {kind} {'pattern ' if pattern else ''}{value!r} excluded; the correlation step "
                  "applies it (taxii-hub worker)")


@campaigns.command("include")
@click.argument("exclusion_id")
@click.option("--reason", required=True, help="Why the exclusion is withdrawn (kept in the audit trail).")
@AS_OPTION
@click.pass_obj
@one_line_errors
def campaigns_include(obj: CliContext, exclusion_id: str, reason: str, as_org: str | None) -> None:
    """Withdraw an exclusion."""
    services = _services(obj)
    found = services.hub.campaigns.include(_principal(services, as_org, required=True), exclusion_id, reason)
    click.echo(f"{found.id}: {found.kind} {found.value!r} links reports again")


@campaigns.command("exclusions")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def campaigns_exclusions(obj: CliContext, as_org: str | None, as_json: bool) -> None:
    """List the correlation exclusions, splits and merges."""
    services = _services(obj)
    principal = _principal(services, as_org, required=False)
    exclusions = services.hub.campaigns.exclusions(principal)
    overrides = services.hub.campaigns.overrides(principal)
    data = {"exclusions": [{"id": e.id, "kind": e.kind, "value": e.value, "pattern": e.pattern,
                            "reason": e.reason, "by": e.actor} for e in exclusions],
            "overrides": [{"id": o.id, "action": o.action, "side_a": list(o.side_a), "side_b": list(o.side_b),
                           "reason": o.reason, "by": o.actor} for o in overrides]}

    def human() -> str:
        lines = [f"{e['id']}  {e['kind']:<20} {e['value']}{' (pattern)' if e['pattern'] else ''}  {e['reason']}"
                 for e in data["exclusions"]]
        lines += [f"{o['id']}  {o['action']}: {len(o['side_a'])} | {len(o['side_b'])} reports  {o['reason']}"
                  for o in data["overrides"]]
        return "\n".join(lines) or "no exclusions, splits or merges"

    _echo(data, as_json, human)


@campaigns.command("split")
@click.argument("candidate_id")
@click.argument("submission_ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why these reports are not the same campaign (audited).")
@AS_OPTION
@click.pass_obj
@one_line_errors
def campaigns_split(obj: CliContext, candidate_id: str, submission_ids: tuple[str, ...], reason: str,
                    as_org: str | None) -> None:
    """Split the named reports off a candidate: no evidence links them directly to its other reports again."""
    services = _services(obj)
    made = services.hub.campaigns.split(_principal(services, as_org, required=True), candidate_id,
                                        list(submission_ids), reason)
    click.echo(f"{made.id}: {len(made.side_a)} reports split from {len(made.side_b)}")


@campaigns.command("merge")
@click.argument("first_id")
@click.argument("second_id")
@click.option("--reason", required=True, help="Why the two candidates are one campaign (audited).")
@AS_OPTION
@click.pass_obj
@one_line_errors
def campaigns_merge(obj: CliContext, first_id: str, second_id: str, reason: str, as_org: str | None) -> None:
    """Merge two candidates into one."""
    services = _services(obj)
    made = services.hub.campaigns.merge(_principal(services, as_org, required=True), first_id, second_id, reason)
    click.echo(f"{made.id}: {first_id} and {second_id} merged")


@campaigns.command("rebuild")
@click.option("--reindex", is_flag=True, help="Also rebuild the correlation index from the stored submissions.")
@click.pass_obj
@one_line_errors
def campaigns_rebuild(obj: CliContext, reindex: bool) -> None:
    """Recompute every campaign candidate from scratch (the same result as the incremental step)."""
    services = _services(obj)
    started = time.monotonic()
    made = services.hub.campaigns.correlator.rebuild(reindex=reindex)
    click.echo(f"{made} campaign candidates in {time.monotonic() - started:.1f} s")


def _echo(data: Any, as_json: bool, human: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else human())


def register(group: click.Group) -> None:
    group.add_command(worker)
