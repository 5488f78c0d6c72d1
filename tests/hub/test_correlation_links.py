"""The rebuild links a value's postings by one sweep (correlation.links) instead of comparing every pair: the
components must be exactly those of every pair `close` links, whatever the intervals (a report whose first
sighting is after its last included)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from taxii_server.hub.correlation import close, links
from taxii_server.model import Posting

WINDOW = 10


def _components(sids: list[str], pairs: list[tuple[str, str]]) -> set[frozenset[str]]:
    parent = {s: s for s in sids}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for s in sids:
        groups.setdefault(find(s), set()).add(s)
    return {frozenset(g) for g in groups.values()}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(-15, 25)), max_size=25))
def test_the_sweep_links_the_same_components_as_every_close_pair(spans: list[tuple[int, int]]) -> None:
    postings = [Posting("url", "u", f"s{n:02d}", "org", first, first + length, True)
                for n, (first, length) in enumerate(spans)]
    sids = [p.submission_id for p in postings]
    every_pair = [(a.submission_id, b.submission_id) for i, a in enumerate(postings) for b in postings[i + 1:]
                  if close(a, b, WINDOW)]
    found = links(postings, WINDOW)
    assert _components(sids, found) == _components(sids, every_pair)
    assert all(close(next(p for p in postings if p.submission_id == a),
                     next(p for p in postings if p.submission_id == b), WINDOW) for a, b in found)


def test_postings_further_apart_than_the_window_are_not_linked() -> None:
    postings = [Posting("url", "u", "a", "o", 0, 5, True), Posting("url", "u", "b", "o", 16, 20, True),
                Posting("url", "u", "c", "o", 15, 15, True)]
    assert links(postings, WINDOW) == [("a", "c"), ("c", "b")]
    assert links(postings[:2], WINDOW) == []
