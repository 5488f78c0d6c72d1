"""Counts of reporting members that cannot single one out.

A member knows whether it reported itself and knows the register (who is in which group). A figure "c of
the n members of this group reported" then tells it something about each other member unless, from where it
stands, both outcomes stay possible for every other member of the group:
- a member that reported sees c - 1 of the other n - 1 reporting: it needs 1 <= c - 1 <= n - 2;
- a member that did not report sees c of the other n - 1: it needs 1 <= c <= n - 2.
So a figure is published only when 2 <= c <= n - 2 (and c at least `min_group_count`) and the group has at
least `min_group_size` members; otherwise it is omitted. Groups smaller than `min_group_size` are pooled
("member organisations") and the pool follows the same rule; when every group is small, the pool is the
all-members total. No other total is published: a total beside group figures would let a member subtract.
A property test (tests/hub/test_hub_counts.py) checks, for every member and every reporting pattern of small
registers, that every other member's "reported / did not report" stays undecidable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    min_group_size: int = 4
    min_group_count: int = 2

    def publishable(self, count: int, size: int) -> bool:
        return size >= self.min_group_size and max(2, self.min_group_count) <= count <= size - 2

    def describe(self) -> str:
        return (f"at least {max(2, self.min_group_count)} and at most the group's size minus 2 reported, in a "
                f"group of at least {self.min_group_size} members")


@dataclass(frozen=True)
class Figures:
    groups: tuple[tuple[str, int], ...]  # (group, reporting members) for each group published on its own
    pool: int | None  # reporting members of every other group together, or None when it is omitted


def figures(reporters: Mapping[str, int], sizes: Mapping[str, int], rule: Rule) -> Figures:
    """`reporters`: reporting members per group; `sizes`: members per group in the register.

    Which groups are pooled depends on the register only (groups smaller than `min_group_size`), never on
    who reported: a pool formed from the groups whose figure failed would tell the members of a failed
    group that its figure failed, and so what its count was. A group the register does not know counts
    in the pool with its reporters as its size; so does the group named "" (members without a sector)."""
    shown: list[tuple[str, int]] = []
    pool_count = pool_size = 0
    for group in sorted(set(reporters) | set(sizes)):
        count = reporters.get(group, 0)
        size = max(sizes.get(group, 0), count)
        if group and sizes.get(group, 0) >= rule.min_group_size:
            if count and rule.publishable(count, size):
                shown.append((group, count))
        else:
            pool_count += count
            pool_size += size
    pool = pool_count if pool_count and rule.publishable(pool_count, pool_size) else None
    return Figures(tuple(shown), pool)


def pool_size(sizes: Mapping[str, int], rule: Rule) -> int:
    """Members in the pooled groups ("member organisations")."""
    return sum(n for group, n in sizes.items() if not group or n < rule.min_group_size)
