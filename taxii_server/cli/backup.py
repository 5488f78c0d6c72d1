"""`taxii-hub export`, `import` and `migrate`: backups and moves between backends (storage/transfer.py does
the work; this module parses arguments and reports). Stop the hub, or at least its writers, while copying:
a copy that changes under way does not verify and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..settings import Settings
from ..storage import Store, open_store
from ..storage.transfer import OnStream, Summary, copy_store, export_directory, import_directory
from . import CliContext, one_line_errors
from .progress import Step, progress


def _open(url: str) -> Store:
    store = open_store(url)
    try:
        store.initialise()
    except BaseException:
        store.close()  # e.g. an unreachable MongoDB: release the client before reporting
        raise
    return store


def _streams(step: Step) -> OnStream:
    return lambda name, index, total: step(name, total)


def _correlate(settings: Settings, store: Store, summary: Summary) -> int | None:
    """After a whole hub was copied in: index every report and recompute the campaign candidates (an export
    carries the reports, never the correlation index, its queue or the candidates derived from them)."""
    if summary.scope != "hub":
        return None
    from ..app import correlation_policy
    from ..hub.correlator import Correlator

    correlator = Correlator(store, correlation_policy(settings), warning_lists=settings.hub.correlation_warning_lists)
    return correlator.rebuild(reindex=True)


def _report(verb: str, summary: Summary, where: str, as_json: bool, candidates: int | None = None) -> None:
    if as_json:
        data: dict[str, Any] = {"hub_id": summary.hub_id, "scope": summary.scope, "where": where,
                                "versions": summary.versions(), "streams": summary.streams}
        if candidates is not None:
            data["campaign_candidates"] = candidates
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    collections = sum(1 for name in summary.streams if name.startswith("collections/"))
    records = {n.removesuffix(".jsonl"): s["count"] for n, s in summary.streams.items() if "/" not in n}
    shown = ", ".join(f"{n} {c}" for n, c in records.items())
    click.echo(f"{verb} {summary.versions()} object versions in {collections} collections"
               + (f" and {shown}" if shown else "") + f" ({where}); counts and checksums verified"
               + (f"; reports indexed, {candidates} campaign candidates" if candidates is not None else ""))


@click.command("export")
@click.option("--collection", "collection_id", default=None, help="Only this collection (id).")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write (created if needed).")
@click.option("--force", is_flag=True, help="Overwrite an earlier export in that directory.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def export_cmd(obj: CliContext, collection_id: str | None, output: Path, force: bool, as_json: bool) -> None:
    """Write the hub's object versions (JSON Lines, one file per collection) and its records to a directory."""
    store = obj.store()
    try:
        with progress("export") as step:
            summary = export_directory(store, output, collection_id=collection_id, force=force,
                                       on_stream=_streams(step))
    finally:
        store.close()
    _report("exported", summary, str(output), as_json)


@click.command("import")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Erase a non-empty hub first and replace it with the export.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def import_cmd(obj: CliContext, directory: Path, force: bool, as_json: bool) -> None:
    """Restore an export exactly (same ids, versions and date_added order) into the configured storage."""
    settings = obj.settings()
    store = obj.store()
    try:
        with progress("import") as step:
            summary = import_directory(directory, store, force=force, on_stream=_streams(step))
        candidates = _correlate(settings, store, summary)
    finally:
        store.close()
    _report("imported", summary, settings.storage.url, as_json, candidates)


@click.command("migrate")
@click.option("--to", "target_url", required=True, help="Storage URL to copy to (sqlite:///… or mongodb://…).")
@click.option("--force", is_flag=True, help="Erase a non-empty target first.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def migrate_cmd(obj: CliContext, target_url: str, force: bool, as_json: bool) -> None:
    """Copy the whole hub from the configured storage to another backend, then verify it.

    Run it again after an interruption to resume. Point storage.url at the target afterwards."""
    settings = obj.settings()
    source_url = settings.storage.url
    if target_url == source_url:
        raise click.UsageError("--to names the storage the hub already uses")
    source = obj.store()
    try:
        target = _open(target_url)
        try:
            with progress("migrate") as step:
                summary = copy_store(source, target, force=force, on_stream=_streams(step))
            candidates = _correlate(settings, target, summary)
        finally:
            target.close()
    finally:
        source.close()
    _report("migrated", summary, target_url, as_json, candidates)


def register(group: click.Group) -> None:
    for command in (export_cmd, import_cmd, migrate_cmd):
        group.add_command(command)


__all__ = ["register"]
