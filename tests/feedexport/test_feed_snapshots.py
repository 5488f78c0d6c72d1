"""Snapshots: a scope's clock instants are read once per content version (threads and processes wait for one
reading), and the window around `now` is drawn from them without reading the scope again."""

from __future__ import annotations

import threading
from pathlib import Path

from taxii_server.feedexport.current import Changes, changes_at
from taxii_server.feedexport.snapshots import Snapshots
from taxii_server.model import ObjectFilter, ObjectScope, Page, StoredVersion

SCOPE = ObjectScope("c0ffee00-0000-4000-8000-000000000001")
DAY = 24 * 3600 * 1_000_000


def test_the_window_is_the_last_instant_at_or_before_now_and_the_first_after() -> None:
    assert changes_at([], 5) == Changes(None, None)
    assert changes_at([10, 20, 30], 5) == Changes(None, 10)
    assert changes_at([10, 20, 30], 20) == Changes(20, 30)
    assert changes_at([10, 20, 30], 31) == Changes(30, None)


class CountingStore:
    """Indicators valid for one day each, starting a day apart; counts how often the scope is read."""

    def __init__(self, count: int) -> None:
        self.reads = 0
        self.lock = threading.Lock()
        self.items = [StoredVersion(
            id=f"indicator--{n:08d}-0000-4000-8000-000000000000", type="indicator",
            version="2021-01-01T00:00:00.000Z", date_added_us=n + 1, spec_version="2.1",
            media_type="application/stix+json;version=2.1",
            raw=(b'{"type":"indicator","id":"indicator--%08d-0000-4000-8000-000000000000",'
                 b'"valid_from":"2021-01-%02dT00:00:00Z","valid_until":"2021-01-%02dT00:00:00Z"}' % (n, n + 1, n + 2)),
        ) for n in range(count)]

    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        with self.lock:
            if after_us is None:
                self.reads += 1
        rest = [i for i in self.items if after_us is None or i.date_added_us > after_us]
        return Page(tuple(rest[:limit]), len(rest) > limit)


def test_concurrent_requests_read_the_scope_once_and_later_windows_need_no_reading(tmp_path: Path) -> None:
    store = CountingStore(5)
    now = [1_609_459_200_000_000 + DAY + DAY // 2]  # 2021-01-02T12:00Z
    snaps = Snapshots(tmp_path, store, lambda: now[0])
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(snaps.generation(SCOPE, "tag:1", "", None)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.reads == 1 and len({g.key for g in found}) == 1  # type: ignore[attr-defined]
    before = found[0]
    now[0] += 2 * DAY  # past the next start/expiry: another window, from the instants kept on disk
    later = Snapshots(tmp_path, store, lambda: now[0]).generation(SCOPE, "tag:1", "", None)  # another worker
    assert store.reads == 1 and later.key != before.key  # type: ignore[attr-defined]
    assert later.newest_change_us == 1_609_459_200_000_000 + 3 * DAY
    snaps.generation(SCOPE, "tag:2", "", None)  # new content: read again
    assert store.reads == 2
