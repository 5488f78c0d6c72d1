"""The demo hub: five member organisations in five sector groups, two hub analysts, an administrator and
one partner outside the groups, matching the collections shipped in `collections/` and the sample reports;
and the demo content — the sample reports submitted and the five-member campaign published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from .errors import NotFound
from .hub.publishing import PublishRequest
from .hub.services import HubServices
from .model import Organisation
from .storage.base import OrganisationDirectory


@dataclass(frozen=True)
class DemoOrg:
    id: str
    name: str
    group: str
    roles: tuple[str, ...] = ("member",)
    domains: tuple[str, ...] = ()  # the mail domains the sample reports' recipients use
    aliases: tuple[str, ...] = ()


DEMO_ORGS = (
    DemoOrg("kita-heavy", "Kita Heavy Industries (demo)", "heavy-industry", domains=("kita-heavy.example",),
            aliases=("Kita Heavy", "KitaHeavy", "北重工業")),
    DemoOrg("higashi-gas", "Higashi Gas (demo)", "gas", domains=("higashi-gas.example",),
            aliases=("Higashi Gas", "東ガス")),
    DemoOrg("nishi-chem", "Nishi Chemical (demo)", "chemical", domains=("nishi-chem.example",),
            aliases=("Nishi Chem", "Nishi Chemical", "西化学")),
    DemoOrg("chuo-oil", "Chuo Oil (demo)", "petroleum", domains=("chuo-oil.example",),
            aliases=("Chuo Oil", "中央石油")),
    DemoOrg("minami-power", "Minami Electric Power (demo)", "electric-power", domains=("minami-power.example",),
            aliases=("Minami Power", "Minami Electric", "南電力")),
    DemoOrg("hub-analyst", "Hub analyst desk (demo)", "hub", ("analyst",)),
    DemoOrg("hub-approver", "Hub second analyst (demo)", "hub", ("analyst",)),
    DemoOrg("hub-admin", "Hub administration (demo)", "hub", ("admin", "analyst")),
    DemoOrg("partner-vendor", "Partner vendor outside the sector groups (demo)", "partner",
            domains=("partner-vendor.example",), aliases=("Partner Vendor",)),
)


def seed(services: HubServices, samples: Path) -> DemoResult:
    """Submit the sample incident records as their reporting organisations, then publish the largest
    campaign candidate to the member feed as `hub-analyst`, approved by `hub-approver`. Idempotent: a
    report already submitted is not submitted again, and a candidate already published is not republished."""
    store = services.intake.store
    submitted = already = 0
    for path in sorted(samples.glob("*.json")):
        data = path.read_bytes()
        documents = orjson.loads(data)
        first = documents[0] if isinstance(documents, list) else documents
        org = store.get_organisation(str(first.get("reporter", "")))
        if org is None:
            continue
        before = len(store.list_submissions(org.id))
        services.intake.submit(org.principal(), data, "application/json", "cli", path.name)
        added = len(store.list_submissions(org.id)) - before
        submitted += added
        already += added == 0
    analyst = _org(store, "hub-analyst").principal()
    services.campaigns.drain()  # the demo wants its campaign now, not when a worker gets to it
    candidates = services.campaigns.suggest(analyst)
    if not candidates:
        return DemoResult(submitted, already, None)
    largest = max(candidates, key=lambda c: (len(c.organisations), c.id))
    for earlier in store.list_publications():
        if earlier.candidate_id == largest.id:
            return DemoResult(submitted, already, earlier.id, published_now=False)
    request = PublishRequest(
        name="技術資料送付の件 campaign (demo)",
        description=("One attacker wrote to five member organisations in two weeks: a harmless inquiry, then "
                     "within minutes of the reply a password-protected RAR whose payload calls home to the same "
                     "C2 server."),
        tlp="amber",
        collections=("member-feed",),
        candidate_id=largest.id,
        approver=_org(store, "hub-approver").principal(),
    )
    return DemoResult(submitted, already, services.publishing.publish(analyst, request).id)


@dataclass(frozen=True)
class DemoResult:
    submitted: int  # reports submitted by this run
    already_there: int  # sample files whose reports an earlier run submitted
    publication: str | None
    published_now: bool = True


def _org(store: OrganisationDirectory, org_id: str) -> Organisation:
    org = store.get_organisation(org_id)
    if org is None:
        raise NotFound(f"demo organisation {org_id!r} is missing; run `taxii-hub init --demo`")
    return org
