"""Group and total counts that cannot single out a member. The attack: "heavy-industry group: reported by 2
member organisations" in a two-member group tells each member that the other was hit; in a three-member
group, a member that did not report learns that both others did. Now a figure is published only when, for
every member, every other member's "reported / did not report" stays undecidable (hub/figures.py): proved
here by a property test over small registers — every member, every reporting pattern, every other member —
against the bundles the publication builder really makes, and shown on the hub with two- and three-member
groups."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters import ConversionOptions
from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.hub import figures, publication_bundle
from tests.support.hubflow import DemoHub, attachment, drained, principal, record

ANALYST = principal("hub-analyst")
OPTIONS = ConversionOptions(id_key="counts")
GROUPS = ("heavy-industry", "gas", "chemical")
WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def _published_counts(groups: Sequence[str], reporters: frozenset[int], rule: figures.Rule) -> tuple[Any, ...]:
    """What a member reads in the publication about who reported: every sighting's place and count."""
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    spec = publication_bundle.PublicationSpec(
        publication_id="p", name="Campaign", description="", tlp="amber", published_at=WHEN, campaign=True,
        reporter_groups={f"m{i}": groups[i] for i in sorted(reporters)}, first_seen=WHEN, last_seen=WHEN,
        min_group_count=rule.min_group_count, valid_days={}, group_sizes=sizes, min_group_size=rule.min_group_size)
    bundle = publication_bundle.build([], spec, OPTIONS)
    return tuple(sorted((tuple(o["where_sighted_refs"]), o["count"], o["description"])
                        for o in bundle["objects"] if o["type"] == "sighting"))


def _undecided(groups: Sequence[str], rule: figures.Rule) -> list[tuple[frozenset[int], int, int]]:
    """(reporters, member, other member) where the member could tell whether the other reported."""
    n = len(groups)
    worlds = [frozenset(c) for k in range(1, n + 1) for c in itertools.combinations(range(n), k)]
    seen = {w: _published_counts(groups, w, rule) for w in worlds}
    decided = []
    for world in worlds:
        same = [w for w in worlds if seen[w] == seen[world]]
        for member in range(n):
            knows = [w for w in same if (member in w) == (member in world)]
            for other in range(n):
                if other != member and len({other in w for w in knows}) < 2:
                    decided.append((world, member, other))
    return decided


@settings(max_examples=40, deadline=None)
@given(
    groups=st.lists(st.sampled_from(GROUPS), min_size=3, max_size=7),
    min_group_size=st.integers(min_value=2, max_value=6),
    min_group_count=st.integers(min_value=1, max_value=3),
)
def test_no_member_can_tell_whether_another_member_reported(
    groups: list[str], min_group_size: int, min_group_count: int
) -> None:
    """For every register of 3 to 7 members in up to three groups, every set of reporters, every member and
    every other member: some set of reporters consistent with the publication and with what the member knows
    (its own report, the register) has the other member reporting, and some has it not reporting. (With two
    members, a publication exists only because someone reported: no count can hide that.)"""
    assert _undecided(groups, figures.Rule(min_group_size, min_group_count)) == []


@pytest.mark.parametrize(("groups", "reported"), [
    (["gas", "gas", "chemical"], {0, 1}),  # two-member group: "2 reported" tells every member both were hit
    (["gas", "gas", "gas"], {0, 1}),  # three-member group: the third learns both others were hit
    (["gas", "gas", "gas", "gas", "gas"], {0}),  # one of five: the reporter learns no one else reported
])
def test_the_counting_rule_of_earlier_releases_singled_members_out(groups: list[str], reported: set[int]) -> None:
    """The old rule (a group figure from `min_group_count` = 2 reporters, the rest folded into one total)
    fails the property this module proves for the new rule: the test that guards it is not vacuous."""
    def old(groups: Sequence[str], world: frozenset[int]) -> tuple[Any, ...]:
        per: dict[str, int] = {}
        for i in world:
            per[groups[i]] = per.get(groups[i], 0) + 1
        shown = sorted((g, c) for g, c in per.items() if c >= 2)
        return (tuple(shown), sum(c for g, c in per.items() if c < 2))

    n = len(groups)
    worlds = [frozenset(c) for k in range(1, n + 1) for c in itertools.combinations(range(n), k)]
    world = frozenset(reported)
    member = 0 if len(reported) == 1 else n - 1
    knows = [w for w in worlds if old(groups, w) == old(groups, world) and (member in w) == (member in world)]
    assert any(len({o in w for w in knows}) < 2 for o in range(n) if o != member)
    assert _undecided(groups, figures.Rule()) == []


# -- on the hub ----------------------------------------------------------------------------------------------

def _campaign(hub: DemoHub, orgs: Sequence[str]) -> dict[str, Any]:
    """`orgs` report the same attachment; the candidate published; the published bundle."""
    for n, org in enumerate(orgs):
        rec = record(org, f"WAVE-2024-{n:04d}", sender="hr@evil.example", subject="年末調整",
                     sent_at=f"2024-05-0{n + 1}T10:00:00+09:00", attachment=attachment("wave"),
                     victim=f"staff{n}@{org}.example")
        assert hub.submit_record(org, rec).status_code == 202
    (candidate,) = drained(hub).services.campaigns.suggest(ANALYST)
    response = hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Wave", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.data
    bundle: dict[str, Any] = hub.api("GET", f"/publications/{response.json['id']}", "hub-analyst").json["bundle"]
    return bundle


def _members(hub: DemoHub, group: str, count: int) -> list[str]:
    accounts = Accounts(hub.store)
    ids = [f"{group}-{n}" for n in range(count)]
    for org in ids:
        accounts.add_organisation(OPERATOR, org, f"Member {org}", group, ("member",))
        hub.keys[org] = accounts.create_key(OPERATOR, org, "test").secret
    return ids


def _counts(bundle: dict[str, Any]) -> dict[str, int]:
    by_id = {o["id"]: o for o in bundle["objects"]}
    return {by_id[o["where_sighted_refs"][0]]["name"]: o["count"] for o in bundle["objects"]
            if o["type"] == "sighting"}


def test_a_two_member_group_where_both_reported_shows_no_group_count(demo_hub: DemoHub) -> None:
    members = ["kita-heavy", *_members(demo_hub, "heavy-industry", 1)]
    # the group is too small to have a figure of its own: it is pooled with the other small groups (six
    # members, two reported), which says nothing about any one of them
    assert _counts(_campaign(demo_hub, members)) == {"Anonymised member organisations": 2}


def test_a_three_member_group_where_two_reported_shows_no_group_count(demo_hub: DemoHub) -> None:
    members = ["kita-heavy", *_members(demo_hub, "heavy-industry", 2)]
    assert _counts(_campaign(demo_hub, members[:2])) == {"Anonymised member organisations": 2}


def test_all_but_one_member_of_the_pool_reporting_shows_no_count(demo_hub: DemoHub) -> None:
    members = ["kita-heavy", *_members(demo_hub, "heavy-industry", 1)]
    # six of the seven members (the partner organisation is a member too, and did not report)
    everyone = [*members, "higashi-gas", "nishi-chem", "chuo-oil", "minami-power"]
    assert _counts(_campaign(demo_hub, everyone)) == {}


def test_a_five_member_group_where_two_reported_shows_its_count(demo_hub: DemoHub) -> None:
    members = ["kita-heavy", *_members(demo_hub, "heavy-industry", 4)]
    assert _counts(_campaign(demo_hub, members[:2])) == {
        "Anonymised member organisations (heavy-industry group)": 2}


def test_a_total_is_published_only_when_it_hides_every_member(demo_hub: DemoHub) -> None:
    # five demo members, one per group (all groups small, so all pooled): 2 of 5 reported is publishable
    assert _counts(_campaign(demo_hub, ["kita-heavy", "higashi-gas"])) == {"Anonymised member organisations": 2}
