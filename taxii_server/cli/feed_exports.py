"""The feeds on the command line: `feeds list --as ORG` and `feeds get COLLECTION FORMAT --as ORG -o FILE`.

They act as the organisation named with `--as` through the same service, access rule and scope as the HTTP
feeds (`FeedExports`), so a command can never show an organisation more than its firewall would receive.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import IO

import click
import orjson

from ..feedexport.service import RESOURCES, FeedExports, FeedRequest
from ..model import Principal
from . import CliContext, one_line_errors
from .hub import AS_OPTION, JSON_OPTION, _emit, _principal, _services, _timestamp


@click.group()
def feeds() -> None:
    """Block-lists, CSV, a MISP feed and a STIX bundle per collection, for products that do not speak TAXII."""


@feeds.command("list")
@AS_OPTION
@JSON_OPTION
@click.pass_obj
@one_line_errors
def feeds_list(obj: CliContext, as_org: str | None, as_json: bool) -> None:
    """The feeds ORG may fetch: every feed of every collection it may read, with its URL."""
    services = _services(obj)
    listing = services.exports.listing(_principal(services, as_org, required=True))
    data = [{"collection": i.collection.id, "alias": i.collection.alias, "title": i.collection.title,
             "feeds": list(i.urls)} for i in listing]
    _emit(data, as_json, lambda: "\n".join(
        f"{i.collection.title} ({i.collection.alias or i.collection.id})\n" + "\n".join(f"  {u}" for u in i.urls)
        for i in listing) or "no collection to read")


@feeds.command("get")
@click.argument("collection")
@click.argument("resource", metavar="FORMAT")
@AS_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="File to write (for FORMAT misp: a directory, made if missing).")
@click.option("--format", "dialect", default="panos", show_default=True,
              type=click.Choice(["panos", "fortigate", "plain"]), help="List dialect (url.txt differs).")
@click.option("--wildcard", is_flag=True, help="domain.txt: add a '*.' line after each domain.")
@click.option("--since", default=None, help="indicators.csv: only what changed after this time (ISO 8601).")
@click.pass_obj
@one_line_errors
def feeds_get(obj: CliContext, collection: str, resource: str, as_org: str | None, output: Path, dialect: str,
              wildcard: bool, since: str | None) -> None:
    """Write one feed of COLLECTION as ORG sees it. FORMAT: ipv4.txt, ipv6.txt, domain.txt, url.txt,
    sha256.txt, sha1.txt, md5.txt, email.txt, indicators.csv, bundle.json, or misp (the whole MISP feed)."""
    services = _services(obj)
    principal = _principal(services, as_org, required=True)
    exports: FeedExports = services.exports
    if resource == "misp":
        output.mkdir(parents=True, exist_ok=True)
        manifest = _fetch(exports, principal, FeedRequest(collection, "misp/manifest.json"), output / "manifest.json")
        events = orjson.loads(manifest.read_bytes())
        for event_uuid in events:
            event = FeedRequest(collection, f"misp/{event_uuid}.json")
            _fetch(exports, principal, event, output / f"{event_uuid}.json")
        _fetch(exports, principal, FeedRequest(collection, "misp/hashes.csv"), output / "hashes.csv")
        click.echo(f"wrote the MISP feed ({len(events)} events) to {output}", err=True)
        return
    if resource not in RESOURCES:
        raise click.BadParameter(f"{resource!r} is not one of {', '.join(RESOURCES)}", param_hint="FORMAT")
    req = FeedRequest(collection, resource, dialect=dialect, wildcard=wildcard,
                      since_us=_timestamp("--since", since))
    _fetch(exports, principal, req, output)
    click.echo(f"wrote {resource} of {collection} to {output}", err=True)


def _fetch(exports: FeedExports, principal: Principal, req: FeedRequest, target: Path) -> Path:
    answer = exports.fetch(principal, req)
    body: IO[bytes] | None = answer.body
    if body is None:  # pragma: no cover - without validators a fetch always has a body
        raise click.ClickException("the hub gave no content")
    with body, target.open("wb") as out:
        shutil.copyfileobj(body, out, 1 << 20)
    return target


def register(group: click.Group) -> None:
    group.add_command(feeds)


__all__ = ["register"]
