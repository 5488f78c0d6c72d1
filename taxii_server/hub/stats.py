"""The figures a hub puts in its yearly activity report, computed from submissions and publications.

Reports received and published, reporting organisations and groups, campaigns, attachment file types,
the share of free-mail senders, C2 locations by country, reports per month. Analysts only.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..model import Principal, Publication, Submission
from ..storage.base import WorkflowStore
from ..timestamps import format_us
from .audit import require


@dataclass(frozen=True)
class Statistics:
    since: str | None
    until: str | None
    reports_received: int
    reports_by_state: Mapping[str, int]
    reporting_organisations: int
    reporting_groups: Mapping[str, int]
    publications: int
    campaigns_published: int
    attachment_types: Mapping[str, int]
    free_mail_sender_share: float | None
    c2_countries: Mapping[str, int]
    reports_per_month: Mapping[str, int] = field(default_factory=dict)


def compute(
    submissions: Sequence[Submission], publications: Sequence[Publication], groups: Mapping[str, str],
    since_us: int | None = None, until_us: int | None = None,
) -> Statistics:
    def within(us: int | None) -> bool:
        return us is not None and (since_us is None or us >= since_us) and (until_us is None or us < until_us)

    chosen = [s for s in submissions if within(s.received_at_us)]
    published = [p for p in publications if p.state == "published" and within(p.published_us)]
    features = Counter(f for s in chosen for f in set(s.features))
    freemail = {v: n for (k, v), n in features.items() if k == "sender-freemail"}
    senders = sum(freemail.values())
    orgs = {s.org_id for s in chosen}
    return Statistics(
        since=format_us(since_us) if since_us is not None else None,
        until=format_us(until_us) if until_us is not None else None,
        reports_received=len(chosen),
        reports_by_state=dict(sorted(Counter(s.state for s in chosen).items())),
        reporting_organisations=len(orgs),
        reporting_groups=dict(sorted(Counter(groups.get(o, "unknown") for o in orgs).items())),
        publications=len(published),
        campaigns_published=sum(1 for p in published if p.candidate_id),
        attachment_types=_of_kind(features, "attachment-kind"),
        free_mail_sender_share=round(freemail.get("yes", 0) / senders, 3) if senders else None,
        c2_countries=_of_kind(features, "c2-country"),
        reports_per_month=dict(sorted(Counter(
            time.strftime("%Y-%m", time.gmtime(s.received_at_us // 1_000_000)) for s in chosen).items())),
    )


def _of_kind(features: Counter[tuple[str, str]], kind: str) -> dict[str, int]:
    """Reports per value: a report counts once per value it carries."""
    return dict(sorted(((v, n) for (k, v), n in features.items() if k == kind), key=lambda x: (-x[1], x[0])))


class Stats:
    def __init__(self, store: WorkflowStore) -> None:
        self.store = store

    def compute(self, principal: Principal, since_us: int | None = None, until_us: int | None = None) -> Statistics:
        require(principal, "statistics", "statistics")
        groups = {o.id: o.group for o in self.store.list_organisations()}
        found = self.store.list_submissions()
        linked = self.store.candidates_of([s.id for s in found if s.state in ("converted", "in-campaign")])
        # `in-campaign` is derived for analysts from the candidates the correlation step keeps
        shown = [dataclasses.replace(s, state="in-campaign" if s.id in linked else "converted")
                 if s.state in ("converted", "in-campaign") else s for s in found]
        return compute(shown, self.store.list_publications(), groups, since_us, until_us)
