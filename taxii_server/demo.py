"""The demo hub: five member organisations in five sector groups, two hub analysts, an administrator and
one outside partner, matching the collections shipped in `collections/` and the sample reports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoOrg:
    id: str
    name: str
    group: str
    roles: tuple[str, ...] = ("member",)


DEMO_ORGS = (
    DemoOrg("kita-heavy", "Kita Heavy Industries (demo)", "heavy-industry"),
    DemoOrg("higashi-gas", "Higashi Gas (demo)", "gas"),
    DemoOrg("nishi-chem", "Nishi Chemical (demo)", "chemical"),
    DemoOrg("chuo-oil", "Chuo Oil (demo)", "petroleum"),
    DemoOrg("minami-power", "Minami Electric Power (demo)", "electric-power"),
    DemoOrg("hub-analyst", "Hub analyst desk (demo)", "hub", ("analyst",)),
    DemoOrg("hub-approver", "Hub second analyst (demo)", "hub", ("analyst",)),
    DemoOrg("hub-admin", "Hub administration (demo)", "hub", ("admin", "analyst")),
    DemoOrg("partner-vendor", "Partner vendor outside the sector groups (demo)", "partner"),
)
