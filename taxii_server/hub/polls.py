"""The poll history: every TAXII read a member makes (what it read, what it was served, how it was answered),
and per collection how far behind publication it is.

Owns recording reads (the web layer reports each one after answering it), rotating the history (at most
`poll_history_days` old and `poll_history_per_org` records per organisation, pruned every `prune_every`
records a process writes, so between prunes it may exceed the bound by that many per process), and who may
see which records: a member only its own, analysts everyone's. Another organisation's polls are, to a member,
exactly like polls that do not exist (an empty answer). Must not: know HTTP, or let a failure to record turn a
served read into an error.

Feed fetches (`/hub/v1/feeds/...`, polled by firewalls every few seconds) are not written one by one: each
process counts them in memory per (organisation, credential, collection, feed, status, reason) and writes one
record per group — `count` fetches from `first_at_us` to `at_us`, with what the last one served — at most every
`poll_feed_flush_seconds` (a background thread), when this process lists the history, and at its exit. What a
crash (or SIGKILL) of a process can lose is the feed fetches it answered in the last `poll_feed_flush_seconds`;
TAXII reads are written as they are answered.

Lag is the newest date_added in the part of the collection the member may read, minus the newest date_added
it has been served from Get Objects within the kept history (None when it has been served nothing there).
Objects withheld by a TLP ceiling are always 0: a collection's `max_tlp` is enforced when objects are written
(validation refuses them), so a reader is never served less than the collection holds.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .. import access
from ..catalog import Catalog
from ..errors import HubError
from ..feeds import PageResult
from ..model import PollRecord, Principal
from ..settings import LimitsSettings
from ..storage.base import AccountStore, PollStore
from ..timestamps import format_us, now_us

log = logging.getLogger(__name__)
DAY_US = 24 * 3600 * 1_000_000
MAX_LISTED = 1000
SUMMARY_WINDOW = 1000  # the summary is drawn from each organisation's most recent reads
MAX_REASON = 300  # characters of a refused read's reason that are kept
MAX_NAME = 200  # characters of a collection name as a client sent it


@dataclass(frozen=True)
class PollRead:
    """What the web layer reports about one TAXII read it answered."""

    api_root: str
    collection_id: str
    endpoint: str  # objects, manifest, object, versions
    status: int
    page: PageResult | None = None
    object_id: str = ""
    reason: str = ""  # for a refused read, what the reader was told (the error's description)
    # a feed fetch (no page): the entries it served and the newest date_added they reflect
    served: tuple[int, int | None] | None = None


@dataclass(frozen=True)
class CollectionPolls:
    """One organisation's reads of one collection, summarised."""

    org_id: str
    api_root: str
    collection_id: str
    polls: int
    errors: int
    last_success: PollRecord | None
    last_error: PollRecord | None
    newest_received_us: int | None
    newest_available_us: int | None
    withheld_by_tlp: int = 0

    @property
    def lag_us(self) -> int | None:
        if self.newest_available_us is None or self.newest_received_us is None:
            return None
        return max(0, self.newest_available_us - self.newest_received_us)


class _Counted:
    """Identical feed fetches counted since the last flush: the first one's record, the last one's figures."""

    __slots__ = ("at_us", "count", "first", "last_added_us", "objects")

    def __init__(self, first: PollRecord) -> None:
        self.first = first
        self.count = 1
        self.at_us, self.objects, self.last_added_us = first.at_us, first.objects, first.last_added_us

    def add(self, record: PollRecord) -> None:
        self.count += 1
        self.at_us, self.objects, self.last_added_us = record.at_us, record.objects, record.last_added_us

    def record(self) -> PollRecord:
        return dataclasses.replace(self.first, at_us=self.at_us, objects=self.objects, versions=self.objects,
                                   last_added_us=self.last_added_us, count=self.count, first_at_us=self.first.at_us)


class PollStoreWithAccounts(PollStore, AccountStore, Protocol):
    """What the poll history needs from the store."""


class PollHistory:
    def __init__(self, store: PollStoreWithAccounts, catalog: Catalog, limits: LimitsSettings, *,
                 clock: Callable[[], int] = now_us, prune_every: int = 64) -> None:
        self.store = store
        self.catalog = catalog
        self.keep_per_org = limits.poll_history_per_org
        self.keep_us = limits.poll_history_days * DAY_US
        self.clock = clock
        self.prune_every = prune_every
        self._recorded = 0
        self.flush_every_s = limits.poll_feed_flush_seconds
        self._pending: dict[tuple[object, ...], _Counted] = {}  # feed fetches not written yet
        self._pending_lock = threading.Lock()
        self._flusher_pid = 0  # the process whose background thread flushes (a forked worker starts its own)
        self._exit_hook = False
        self._closed = threading.Event()

    def record(self, principal: Principal, read: PollRead) -> None:
        """Keep one read; a store failure is logged, never raised (the read itself was answered). A feed
        fetch is counted and written with the next flush (module docstring)."""
        items = read.page.items if read.page is not None else ()
        entries, newest = read.served if read.served is not None else (len({i.id for i in items}), None)
        now = self.clock()
        if not access.may_name_in_history(principal, self.catalog.find(read.api_root, read.collection_id)):
            # A refused read of a collection the reader cannot see (or that does not exist) is kept without
            # naming what was asked for: the history never describes what the reader may not know about.
            read = dataclasses.replace(read, api_root="", collection_id="", object_id="")
        record = PollRecord(
            id=str(uuid.uuid4()), at_us=now, org_id=principal.org_id, credential_id=principal.credential_id,
            api_root=read.api_root, collection_id=self._collection_id(principal, read), endpoint=read.endpoint,
            status=read.status, reason=read.reason[:MAX_REASON] if read.status >= 400 else "",
            objects=entries, versions=len(items) if read.served is None else entries,
            first_added_us=items[0].date_added_us if items else None,
            last_added_us=items[-1].date_added_us if items else newest,
            more=bool(read.page and read.page.more), object_id=read.object_id,
        )
        if read.served is not None and self.flush_every_s > 0:
            self._count_fetch(record)
        else:
            self._write(record)

    def _write(self, record: PollRecord) -> None:
        try:
            self.store.add_poll(record)
            self._recorded += 1
            if self._recorded % self.prune_every == 0:
                self.store.prune_polls(record.org_id, self.keep_per_org, self.clock() - self.keep_us)
        except HubError as exc:
            log.warning("a read could not be recorded in the poll history (%s): org=%s collection=%s endpoint=%s "
                        "status=%s versions=%d count=%d", exc.message, record.org_id, record.collection_id,
                        record.endpoint, record.status, record.versions, record.count)

    def _count_fetch(self, record: PollRecord) -> None:
        key = (record.org_id, record.credential_id, record.api_root, record.collection_id, record.endpoint,
               record.status, record.reason)
        with self._pending_lock:
            counted = self._pending.get(key)
            if counted is None:
                self._pending[key] = _Counted(record)
            else:
                counted.add(record)
            if self._flusher_pid != os.getpid():  # none running in this process (or it was forked)
                self._flusher_pid = os.getpid()
                threading.Thread(target=self._flush_loop, name="poll-history-flush", daemon=True).start()
                if not self._exit_hook:
                    # gunicorn's workers leave through SystemExit, so this runs on a graceful stop
                    atexit.register(self._flush_at_exit)
                    self._exit_hook = True

    def _flush_loop(self) -> None:
        """Writes the counted fetches every `flush_every_s`; ends once nothing more was counted (the next
        fetch starts it again), so an idle process keeps no thread."""
        while not self._closed.wait(self.flush_every_s):
            self.flush()
            with self._pending_lock:
                if not self._pending:
                    self._flusher_pid = 0
                    return

    def flush(self) -> int:
        """Write the feed fetches counted so far (one record per group); how many records were written."""
        with self._pending_lock:
            pending, self._pending = list(self._pending.values()), {}
        for counted in pending:
            self._write(counted.record())
        return len(pending)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:  # the store may be gone already; the answers were sent, only the count is lost
            log.exception("the feed fetches counted since the last flush could not be written at exit")

    def close(self) -> None:
        """Stop the background flush and write what is counted (tests; a worker relies on atexit)."""
        self._closed.set()
        self.flush()

    def _collection_id(self, principal: Principal, read: PollRead) -> str:
        """One row per collection whatever name the client used: an alias becomes the id, but only of a
        collection the reader may see (otherwise the name it used stays, and nothing is learnt from it)."""
        found = self.catalog.find(read.api_root, read.collection_id)
        if found is None or not access.is_visible(principal, found):
            return read.collection_id[:MAX_NAME]
        return found.id

    def polls(self, principal: Principal, org_id: str | None = None, since_us: int | None = None,
              limit: int = MAX_LISTED) -> list[PollRecord]:
        """Newest first. A member sees only its own: naming another organisation gives an empty list."""
        wanted = self._org_filter(principal, org_id)
        if wanted == "":
            return []
        self.flush()  # this process's counted feed fetches first; other processes' within flush_every_s
        return self.store.list_polls(wanted, since_us, min(max(limit, 1), MAX_LISTED))

    def summary(self, principal: Principal, org_id: str | None = None) -> list[CollectionPolls]:
        """Per organisation and collection read (from its latest SUMMARY_WINDOW reads): counts, last success
        and error, lag behind publication."""
        wanted = self._org_filter(principal, org_id)
        if wanted == "":
            return []
        self.flush()
        orgs = [wanted] if wanted is not None else [o.id for o in self.store.list_organisations()]
        groups: dict[tuple[str, str, str], list[PollRecord]] = {}
        for org in orgs:
            for r in self.store.list_polls(org, None, SUMMARY_WINDOW):
                groups.setdefault((r.org_id, r.api_root, r.collection_id), []).append(r)
        return [self._summarise(key, records) for key, records in sorted(groups.items())]

    def _org_filter(self, principal: Principal, org_id: str | None) -> str | None:
        """The organisation to list (None: all, analysts only); "" when the caller may see nothing asked for."""
        wanted = org_id if access.may_read_polls_of(principal, None) else (org_id or principal.org_id)
        return wanted if access.may_read_polls_of(principal, wanted) else ""

    def _summarise(self, key: tuple[str, str, str], records: list[PollRecord]) -> CollectionPolls:
        org_id, api_root, collection_id = key
        ok = [r for r in records if r.status < 400]
        failed = [r for r in records if r.status >= 400]
        polls, errors = sum(r.count for r in records), sum(r.count for r in failed)
        received = [r.last_added_us for r in ok if (r.endpoint == "objects" or r.endpoint.startswith("feed:"))
                    and r.last_added_us is not None]
        return CollectionPolls(
            org_id=org_id, api_root=api_root, collection_id=collection_id, polls=polls, errors=errors,
            last_success=ok[0] if ok else None, last_error=failed[0] if failed else None,
            newest_received_us=max(received) if received else None,
            newest_available_us=self._newest_available(org_id, api_root, collection_id),
        )

    def _newest_available(self, org_id: str, api_root: str, collection_id: str) -> int | None:
        """The newest date_added the organisation may read in the collection; None when it may not read it."""
        collection = self.catalog.find(api_root, collection_id)
        org = self.store.get_organisation(org_id)
        if collection is None or org is None:
            return None
        reader = org.principal()
        if not access.can_read(reader, collection):
            return None
        return self.store.newest_date_added(access.object_scope(reader, collection))


# -- views, shared by the hub API and the command line ----------------------------------------------------------

def _us(value: int | None) -> str | None:
    return format_us(value) if value is not None else None


def poll_view(r: PollRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "at": format_us(r.at_us), "organisation": r.org_id, "credential": r.credential_id, "api_root": r.api_root,
        "collection": r.collection_id, "endpoint": r.endpoint, "status": r.status, "objects": r.objects,
        "versions": r.versions, "date_added_first": _us(r.first_added_us), "date_added_last": _us(r.last_added_us),
        "more": r.more,
    }
    if r.object_id:
        view["object"] = r.object_id
    if r.reason:
        view["reason"] = r.reason
    view["count"] = r.count  # > 1: that many feed fetches, the first at first_at, the last at `at`
    if r.first_at_us is not None:
        view["first_at"] = _us(r.first_at_us)
    return view


def collection_polls_view(c: CollectionPolls) -> dict[str, Any]:
    lag = c.lag_us
    return {
        "organisation": c.org_id, "api_root": c.api_root, "collection": c.collection_id, "polls": c.polls,
        "errors": c.errors, "last_success": poll_view(c.last_success) if c.last_success else None,
        "last_error": poll_view(c.last_error) if c.last_error else None,
        "newest_received": _us(c.newest_received_us), "newest_available": _us(c.newest_available_us),
        "lag_seconds": round(lag / 1_000_000, 3) if lag is not None else None,
        "withheld_by_tlp": c.withheld_by_tlp,
    }
