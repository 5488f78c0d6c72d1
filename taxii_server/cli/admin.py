"""Administrative commands: `init`, `org …`, `key …`, `collection list`.

They act as the local operator (administrator) through the same services HTTP uses.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from ..accounts import OPERATOR, Accounts
from ..catalog import Catalog
from ..demo import DEMO_ORGS
from ..errors import Conflict
from ..hostnames import display_domain
from ..hub.reevaluation import Reevaluation
from ..model import ROLES, Credential, Organisation
from ..register import RegisterChange
from ..settings import SEARCH_PATHS, Settings, locate_config
from ..tls import ensure_development_tls
from . import CliContext, announce, one_line_errors, scaffold


def _emit(data: Any, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else human)


def _org_dict(org: Organisation) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "group": org.group, "roles": list(org.roles), "created": org.created,
            "domains": list(org.domains), "aliases": list(org.aliases), "identity_id": org.identity_id}


def _register_lines(org: Organisation) -> list[str]:
    shown = [f"{d} ({display_domain(d)})" if display_domain(d) != d else d for d in org.domains]
    return [f"  identity {org.identity_id}", f"  mail domains: {', '.join(shown) or '-'}",
            f"  aliases: {', '.join(org.aliases) or '-'}"]


def _key_dict(cred: Credential) -> dict[str, Any]:
    return asdict(cred)


@click.command()
@click.option("--demo", is_flag=True, help="Add the demo organisations, their API keys and show how to poll.")
@click.option("--samples", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="With --demo: submit these sample incident records and publish the campaign they form.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@one_line_errors
def init(obj: CliContext, demo: bool, samples: Path | None, as_json: bool) -> None:
    """Set up a hub: where no configuration exists yet, a commented config/hub.toml and example collections;
    then the data directory, the database, the paging key and a development TLS certificate."""
    _scaffold(obj)
    settings = obj.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = obj.store()
    tls = ensure_development_tls(settings.tls_cert.parent)
    result: dict[str, Any] = {"config": str(settings.config_file), "data_dir": str(settings.data_dir),
                              "storage": settings.storage.url, "ca_cert": str(tls.ca_cert)}
    port = settings.server.bind.rpartition(":")[2]
    if demo:
        result["organisations"] = _demo(settings, Accounts(store))
        result["console_url"] = f"https://localhost:{port}/console/"
        if samples is not None:
            from ..app import build_services
            from ..demo import seed

            seeded = seed(build_services(settings, store, on_published=obj.on_published).hub, samples)
            result["demo"] = {"reports_submitted": seeded.submitted, "already_there": seeded.already_there,
                              "publication": seeded.publication, "published_now": seeded.published_now}
    store.close()
    if as_json:
        _emit(result, True, "")
        return
    click.echo(f"hub initialised: configuration {settings.config_description}")
    click.echo(f"  data in {settings.data_dir}, storage {settings.storage.url}")
    click.echo(f"development CA (trust it in clients): {tls.ca_cert}")
    for org in result.get("organisations", []):
        click.echo(f"  {org['id']:<15} {org['group']:<15} {','.join(org['roles']):<15} key {org['key']}")
    if "demo" in result:
        click.echo(_demo_summary(result["demo"]))
    if demo:
        click.echo("poll as a member (user name = organisation id, password = its key), for example:")
        member_key = next(o["key"] for o in result["organisations"] if o["id"] == "kita-heavy")
        # -g: curl would otherwise read the brackets of match[type] as a URL glob ("bad range in URL").
        click.echo(f"  curl -g --cacert {tls.ca_cert} -u kita-heavy:{member_key} "
                   f"'https://localhost:{port}{_feed_path(settings)}objects/?match[type]=campaign'")
        click.echo("products (OpenCTI, MISP, Sentinel, ...) take a collection by its id URL, as above; the console's "
                   f"page https://localhost:{port}/console/connect lists them")
        click.echo(f"web console: {result['console_url']} — sign in with an organisation id and its key from the "
                   "list above:")
        click.echo("  a member: kita-heavy; an analyst: hub-analyst (a second analyst approves as hub-approver)")


def _feed_path(settings: Settings) -> str:
    """The member feed's URL path by its id (products built on taxii2-client refuse an alias URL)."""
    catalog = Catalog.load(settings.collections_dir, settings.api_roots)
    feed = next((c for c in catalog.all() if c.alias == "member-feed"), None)
    return f"/{feed.api_root}/collections/{feed.id}/" if feed else "/hub/collections/member-feed/"


def _scaffold(obj: CliContext) -> None:
    """Write the starter configuration when none is found (a named but missing file stays an error), and the
    example collections when the configured collections directory does not exist."""
    found, _ = locate_config(obj.config)
    if found is None:
        scaffold.write_config(SEARCH_PATHS[0])
        announce(None, f"wrote {SEARCH_PATHS[0]} (every setting with its default, explained)")
    settings = obj.settings()
    if not settings.collections_dir.exists():
        count = scaffold.write_collections(settings.collections_dir)
        announce(settings, f"wrote {count} example collections in {settings.collections_dir}/")


def _demo_summary(demo: dict[str, Any]) -> str:
    """What `init --demo --samples` did; a second run says the samples and the publication were already there."""
    submitted, already = demo["reports_submitted"], demo["already_there"]
    if submitted and already:
        reports = f"{submitted} sample reports submitted ({already} sample files were already there)"
    elif submitted:
        reports = f"{submitted} sample reports submitted"
    elif already:
        reports = f"the sample reports were already submitted ({already} files)"
    else:
        reports = "no sample reports found"
    if demo["publication"] is None:
        return f"demo: {reports}; no campaign candidate to publish"
    verb = "is" if demo["published_now"] else "was already"
    return f"demo: {reports}; the five-member campaign {verb} publication {demo['publication']} in the member feed"


def _demo(settings: Settings, accounts: Accounts) -> list[dict[str, Any]]:
    """Create the demo organisations and a key each; the keys are kept in <data_dir>/demo-keys.json (0600)
    so that `make run` can show them again — a convenience for the demo only."""
    keys_file = settings.data_dir / "demo-keys.json"
    known: dict[str, str] = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    out = []
    for d in DEMO_ORGS:
        try:
            accounts.add_organisation(OPERATOR, d.id, d.name, d.group, d.roles, aliases=d.aliases, domains=d.domains)
        except Conflict:  # there from an earlier run (perhaps of an older hub): its register is completed
            accounts.change_register(OPERATOR, d.id, RegisterChange(add_domains=d.domains, add_aliases=d.aliases))
        if d.id not in known:
            known[d.id] = accounts.create_key(OPERATOR, d.id, "demo").secret
        out.append({"id": d.id, "name": d.name, "group": d.group, "roles": list(d.roles), "key": known[d.id]})
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        json.dump(known, fh, indent=2)
    return out


@click.group()
def org() -> None:
    """Manage member organisations."""


@org.command("add")
@click.argument("org_id")
@click.option("--name", required=True, help="Display name (never published).")
@click.option("--group", required=True, help="Sector group, e.g. heavy-industry, electric-power, gas.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), help="Repeatable; default member.")
@click.option("--domain", "domains", multiple=True, metavar="DOMAIN",
              help="A mail domain of the organisation (covers its subdomains); repeatable.")
@click.option("--alias", "aliases", multiple=True, metavar="NAME",
              help="Another name the organisation goes by (short form, other script); repeatable.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def org_add(obj: CliContext, org_id: str, name: str, group: str, roles: tuple[str, ...], domains: tuple[str, ...],
            aliases: tuple[str, ...], as_json: bool) -> None:
    """Add an organisation."""
    created = _accounts(obj).add_organisation(
        OPERATOR, org_id, name, group, roles or ("member",), aliases=aliases, domains=domains)
    _emit(_org_dict(created), as_json, f"added organisation {created.id} ({created.group}, {','.join(created.roles)})")


@org.command("set")
@click.argument("org_id")
@click.option("--domain", "add_domains", multiple=True, metavar="DOMAIN", help="Add a mail domain; repeatable.")
@click.option("--remove-domain", "remove_domains", multiple=True, metavar="DOMAIN",
              help="Remove a mail domain; repeatable.")
@click.option("--clear-domains", is_flag=True, help="Remove every mail domain first (then --domain adds).")
@click.option("--alias", "add_aliases", multiple=True, metavar="NAME", help="Add an alias; repeatable.")
@click.option("--remove-alias", "remove_aliases", multiple=True, metavar="NAME", help="Remove an alias; repeatable.")
@click.option("--clear-aliases", is_flag=True, help="Remove every alias first (then --alias adds).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def org_set(obj: CliContext, org_id: str, add_domains: tuple[str, ...], remove_domains: tuple[str, ...],
            clear_domains: bool, add_aliases: tuple[str, ...], remove_aliases: tuple[str, ...], clear_aliases: bool,
            as_json: bool) -> None:
    """Change an organisation's register of mail domains and aliases (applied in the order clear, remove, add)."""
    change = RegisterChange(add_domains, remove_domains, clear_domains, add_aliases, remove_aliases, clear_aliases)
    changed = _accounts(obj).change_register(OPERATOR, org_id, change)
    _emit(_org_dict(changed), as_json, "\n".join([f"{changed.id}: register updated", *_register_lines(changed)[1:]]))


def _accounts(obj: CliContext) -> Accounts:
    """The accounts, telling correlation of register changes (the sender addresses at a changed mail domain)."""
    store = obj.store()
    return Accounts(store, on_register_change=Reevaluation(store).register_changed)


@org.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def org_list(obj: CliContext, as_json: bool) -> None:
    """List organisations."""
    orgs = Accounts(obj.store()).organisations(OPERATOR)
    lines = [f"{o.id:<20} {o.group:<16} {','.join(o.roles):<16} {o.name}" for o in orgs]
    _emit([_org_dict(o) for o in orgs], as_json, "\n".join(lines) or "no organisations")


@org.command("show")
@click.argument("org_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def org_show(obj: CliContext, org_id: str, as_json: bool) -> None:
    """Show one organisation: its register (identity id, mail domains, aliases) and API keys (never secrets)."""
    accounts = Accounts(obj.store())
    found = accounts.organisation(OPERATOR, org_id)
    keys = accounts.keys(OPERATOR, org_id)
    data = {**_org_dict(found), "keys": [_key_dict(k) for k in keys]}
    human = [f"{found.id}: {found.name}", f"  group {found.group}, roles {', '.join(found.roles)}",
             *_register_lines(found)]
    human += [f"  key {k.id} {k.label!r} created {k.created}" + (f" REVOKED {k.revoked}" if k.revoked else "")
              for k in keys]
    _emit(data, as_json, "\n".join(human))


@org.command("set-password")
@click.argument("org_id")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
@one_line_errors
def org_set_password(obj: CliContext, org_id: str, password_stdin: bool) -> None:
    """Set the organisation's password (HTTP Basic for clients that cannot use an API key)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    Accounts(obj.store()).set_password(OPERATOR, org_id, password)
    click.echo(f"password set for {org_id}")


@click.group()
def key() -> None:
    """Manage API keys."""


@key.command("create")
@click.argument("org_id")
@click.option("--label", default="", help="What the key is for, e.g. 'SIEM poller'.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def key_create(obj: CliContext, org_id: str, label: str, as_json: bool) -> None:
    """Create an API key; it is shown once and stored only as a hash."""
    new = Accounts(obj.store()).create_key(OPERATOR, org_id, label)
    data = {**_key_dict(new.credential), "key": new.secret}
    _emit(data, as_json, f"{new.secret}\n(key id {new.credential.id}; shown once, store it now)")


@key.command("list")
@click.argument("org_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def key_list(obj: CliContext, org_id: str | None, as_json: bool) -> None:
    """List API keys (ids and labels, never secrets)."""
    keys = Accounts(obj.store()).keys(OPERATOR, org_id)
    lines = [f"{k.id:<22} {k.org_id:<16} {k.created} {'REVOKED ' + k.revoked if k.revoked else 'active':<10} "
             f"{k.label}" for k in keys]
    _emit([_key_dict(k) for k in keys], as_json, "\n".join(lines) or "no keys")


@key.command("revoke")
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def key_revoke(obj: CliContext, key_id: str, as_json: bool) -> None:
    """Revoke an API key; requests with it are refused from now on."""
    revoked = Accounts(obj.store()).revoke_key(OPERATOR, key_id)
    _emit(_key_dict(revoked), as_json, f"revoked {revoked.id} of {revoked.org_id}")


@click.group()
def collection() -> None:
    """Inspect the collections declared in collections/*.toml."""


@collection.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@one_line_errors
def collection_list(obj: CliContext, as_json: bool) -> None:
    """List every declared collection with its access rules."""
    settings = obj.settings()
    catalog = Catalog.load(settings.collections_dir, settings.api_roots)
    rows = [asdict(c) for c in catalog.all()]
    lines = [f"/{c.api_root}/collections/{c.id}/  {c.alias or '-':<20} read={','.join(c.read) or '-'} "
             f"write={','.join(c.write) or '-'} visibility={c.visibility} max_tlp={c.max_tlp or '-'}  {c.title}"
             for c in catalog.all()]
    _emit(rows, as_json, "\n".join(lines) or f"no collections in {settings.collections_dir}")


def register(group: click.Group) -> None:
    for command in (init, org, key, collection):
        group.add_command(command)


__all__ = ["register"]
