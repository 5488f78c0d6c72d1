"""Running the correlation step in the background: `taxii-hub worker`, or a daemon thread in each `serve`
worker process. Every runner takes jobs through the store's lease, so any number of them share one queue
without doing a job twice at once; one that dies mid-job leaves the job queued (SQLite rolls it back; on
MongoDB it runs again when the lease expires).

Must not: run inside a request, or stop on one failing job (the step logs and drops it; `campaigns
rebuild` recomputes everything).
"""

from __future__ import annotations

import logging
import threading
import time

from ..errors import HubError
from .correlator import Correlator

log = logging.getLogger("taxii_server.hub.correlation_worker")
IDLE_SECONDS = 0.5
BATCH = 16  # jobs per transaction: short enough that a member's submission waits at most a few ms for the lock


class CorrelationWorker:
    def __init__(self, correlator: Correlator, idle_seconds: float = IDLE_SECONDS, batch: int = BATCH) -> None:
        self.correlator = correlator
        self.idle_seconds = idle_seconds
        self.batch = batch
        self.stop = threading.Event()

    def run(self) -> None:
        """Take jobs until stopped; sleep a little whenever the queue is empty or another worker holds it."""
        worked = False
        while not self.stop.is_set():
            try:
                ran = self.correlator.step(self.batch)
                if not ran and worked:
                    self.correlator.idle()
            except HubError as exc:  # the store is unavailable for now: the jobs stay queued
                log.warning("correlation step: %s; retrying", exc.message)
                ran = 0
            worked = bool(ran)
            if not ran:
                self.stop.wait(self.idle_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="correlation-worker", daemon=True)
        thread.start()
        return thread

    def drain_once(self) -> tuple[int, float]:
        """Run every queued job now; how many ran and how long it took."""
        started = time.monotonic()
        ran = self.correlator.drain(batch=self.batch)
        return ran, time.monotonic() - started
