"""The TAXII filter semantics are written twice: in SQL (`sqlite_objects._predicate`, run by SQLiteStore.query)
and in Python (`mongo._kept`, run by MongoStore.query over the candidates' sibling versions). These property
tests generate collections and filters and require both to keep exactly the same versions — and both backends,
end to end, to page through the same result.

The reference for `_kept` is what MongoStore does with it: the plain filters (partition, added_after, ids,
types, spec versions) select the candidates and their siblings, `_kept` decides per candidate.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mongomock
import orjson
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from taxii_server.model import ObjectFilter, ObjectScope
from taxii_server.storage.base import Store, TransferVersion
from taxii_server.storage.mongo import MongoStore, _kept
from taxii_server.storage.sqlite import SQLiteStore
from taxii_server.timestamps import format_us

COLL = "c0ffee00-0000-4000-8000-00000000c011"
IDS = tuple(f"{t}--{uuid.UUID(int=n + 1, version=4)}" for n, t in enumerate(("indicator", "indicator", "malware")))
DAY = 86_400_000_000
BASE = 1_609_459_200_000_000  # 2021-01-01


@dataclass(frozen=True)
class Row:
    part: str
    id: str
    version_us: int
    spec: str
    date_added: int

    @property
    def type(self) -> str:
        return self.id.split("--")[0]

    def doc(self) -> dict[str, Any]:
        """The fields `_kept` reads, as MongoStore stores them."""
        return {"p": self.part, "i": self.id, "vu": self.version_us, "s": self.spec, "d": self.date_added}


@st.composite
def collections(draw: st.DrawFn) -> tuple[bool, list[Row]]:
    partitioned = draw(st.booleans())
    parts = ("org-a", "org-b") if partitioned else ("",)
    keys = draw(st.lists(st.tuples(st.sampled_from(parts), st.sampled_from(IDS), st.integers(1, 4),
                                   st.sampled_from(("2.0", "2.1"))),
                         min_size=1, max_size=12, unique_by=lambda k: k[:3]))
    order = draw(st.permutations(range(len(keys))))
    rows = [Row(p, i, BASE + v * DAY, s, BASE + 10 * DAY + n) for (p, i, v, s), n in zip(keys, order, strict=True)]
    return partitioned, rows


@st.composite
def requests(draw: st.DrawFn, partitioned: bool, rows: list[Row]) -> tuple[ObjectScope, ObjectFilter]:
    owner = draw(st.sampled_from((None, "org-a"))) if partitioned else None
    added = sorted(r.date_added for r in rows)
    flt = ObjectFilter(
        added_after_us=draw(st.none() | st.sampled_from(added)),
        ids=tuple(draw(st.lists(st.sampled_from(IDS), unique=True, max_size=2))),
        types=tuple(draw(st.lists(st.sampled_from(("indicator", "malware")), unique=True, max_size=1))),
        version_keywords=frozenset(draw(st.sets(st.sampled_from(("first", "last", "all")), max_size=2))),
        version_instants=tuple(BASE + v * DAY for v in draw(st.sets(st.integers(1, 5), max_size=2))),
        spec_versions=tuple(draw(st.lists(st.sampled_from(("2.0", "2.1")), unique=True, max_size=2))),
    )
    return ObjectScope(COLL, partitioned=partitioned, owner=owner), flt


def plain(row: Row, scope: ObjectScope, flt: ObjectFilter) -> bool:
    """The filters other than the version keywords (mongo._plain as a predicate on one row)."""
    return ((scope.owner is None or row.part == scope.owner)
            and (flt.added_after_us is None or row.date_added > flt.added_after_us)
            and (not flt.ids or row.id in flt.ids)
            and (not flt.types or row.type in flt.types)
            and (not flt.spec_versions or row.spec in flt.spec_versions))


def kept_by_python(rows: list[Row], scope: ObjectScope, flt: ObjectFilter) -> list[int]:
    candidates = [r for r in rows if plain(r, scope, flt)]
    siblings = [[o.doc() for o in candidates if (o.part, o.id) == (r.part, r.id)] for r in candidates]
    return sorted(r.date_added for r, sib in zip(candidates, siblings, strict=True) if _kept(r.doc(), sib, flt))


def filled(store: Store, rows: list[Row]) -> Store:
    """`store` holding `rows` in COLL, and nothing else there."""
    store.erase_everything()
    store.import_versions(COLL, [
        TransferVersion(r.date_added, r.part, r.part or "org-a", r.id, r.type, format_us(r.version_us),
                        r.version_us, r.spec, orjson.dumps({"id": r.id, "modified": format_us(r.version_us)}))
        for r in sorted(rows, key=lambda r: r.date_added)
    ])
    return store


def kept_by(store: Store, scope: ObjectScope, flt: ObjectFilter, limit: int = 1000) -> list[int]:
    found: list[int] = []
    after: int | None = None
    while True:
        page = store.query(scope, flt, after, limit)
        found += [v.date_added_us for v in page.items]
        if not page.more:
            return found
        after = page.items[-1].date_added_us


@pytest.fixture(scope="module")
def sqlite() -> Iterator[Store]:
    """One database for every example (each starts by emptying it): creating one per example is slow."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "semantics.sqlite3")
        store.initialise()
        yield store
        store.close()


@pytest.fixture(scope="module")
def mongo() -> Store:
    client: Any = mongomock.MongoClient()
    store = MongoStore(lambda: client, "semantics")
    store.initialise()
    return store


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), collection=collections())
def test_the_sql_predicate_and_the_python_rule_keep_the_same_versions(
    sqlite: Store, data: st.DataObject, collection: tuple[bool, list[Row]]
) -> None:
    partitioned, rows = collection
    scope, flt = data.draw(requests(partitioned, rows))
    note(f"rows={rows!r}")
    assert kept_by(filled(sqlite, rows), scope, flt) == kept_by_python(rows, scope, flt)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), collection=collections(), limit=st.integers(1, 4))
def test_both_backends_page_through_the_same_versions(
    sqlite: Store, mongo: Store, data: st.DataObject, collection: tuple[bool, list[Row]], limit: int
) -> None:
    partitioned, rows = collection
    scope, flt = data.draw(requests(partitioned, rows))
    note(f"rows={rows!r}")
    assert kept_by(filled(sqlite, rows), scope, flt, limit) == kept_by(filled(mongo, rows), scope, flt, limit)
