"""Anonymised sector identities (stix-mapping §1.4.7).

The targeted party is never a member organisation but a `class` identity standing for a sector group, with
`sectors` from the STIX `industry-sector-ov` vocabulary. The hub's registry says which group a member is in
(`ConversionOptions.sector_groups`); this module only knows the groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SectorGroup:
    key: str
    label: str
    sectors: tuple[str, ...]


UNSPECIFIED = SectorGroup("unspecified", "member organisation", ())

SECTOR_GROUPS = {
    group.key: group
    for group in (
        SectorGroup("heavy-industry", "heavy-industry group", ("manufacturing", "aerospace", "defense")),
        SectorGroup("energy", "electricity and gas group", ("energy", "utilities")),
        SectorGroup("electric-power", "electric power group", ("energy", "utilities")),
        SectorGroup("gas", "gas group", ("energy", "utilities")),
        SectorGroup("chemical", "chemical group", ("chemical",)),
        SectorGroup("petroleum", "petroleum and resources group", ("energy", "mining")),
        SectorGroup("automotive", "automotive group", ("automotive",)),
        SectorGroup("transportation", "aviation, logistics and railway group", ("aerospace", "transportation")),
        SectorGroup("financial", "credit group", ("financial-services",)),
        SectorGroup("healthcare", "medical group", ("healthcare",)),
        UNSPECIFIED,
    )
}


def group_for(reporter: str | None, registry: Mapping[str, str] | None) -> SectorGroup:
    """The sector group of a reporting member; `UNSPECIFIED` when the registry does not know it."""
    if reporter is None or not registry:
        return UNSPECIFIED
    return SECTOR_GROUPS.get(registry.get(reporter, ""), UNSPECIFIED)
