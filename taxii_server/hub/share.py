"""One organisation's share of a worker's threads for converting reports.

Converting a report is the most expensive thing a request can ask for. However many reports one organisation
sends at once, at most `slots` of a worker process's threads convert its reports; its next one is refused
with 429 and Retry-After, so the other organisations' requests always find a thread. The count is per process
(threads are per process), so across workers an organisation holds at most the same share of all threads.

Must not: know HTTP; keep anything beyond the in-flight counts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import TooManyRequests


def slots_for(threads: int, share_percent: int) -> int:
    """The threads one organisation may hold: its share, rounded down, at least one, and never all of
    several (so one thread always stays for the others)."""
    slots = math.floor(threads * share_percent / 100)
    return max(1, min(slots, threads - 1) if threads > 1 else 1)


class WorkerShare:
    def __init__(self, slots: int, retry_after: int = 5) -> None:
        self.slots = slots
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}

    @contextmanager
    def hold(self, org_id: str) -> Iterator[None]:
        with self._lock:
            busy = self._busy.get(org_id, 0)
            if busy >= self.slots:
                raise TooManyRequests(
                    f"your organisation already has {busy} report(s) converting on this worker (the most one "
                    "organisation may have at once); send this one again when they are done",
                    retry_after=self.retry_after)
            self._busy[org_id] = busy + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._busy[org_id] - 1
                if left:
                    self._busy[org_id] = left
                else:
                    del self._busy[org_id]


UNSHARED = WorkerShare(1 << 30)
