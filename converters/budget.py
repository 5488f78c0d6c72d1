"""A CPU-time budget for one conversion: checked at the converters' loops (per record, message, MIME part),
so a report that would take too long is refused with a clear error instead of holding a worker.

The clock is the calling thread's CPU time (`time.thread_time`), so waiting for other threads costs nothing.
Conversion output never depends on the budget: a conversion either finishes within it, unchanged, or fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from converters.errors import ConversionError


class BudgetExceeded(ConversionError):
    """The conversion took more CPU time than its budget."""


class Budget:
    def __init__(self, cpu_seconds: float, clock: Callable[[], float] = time.thread_time) -> None:
        self.cpu_seconds = cpu_seconds
        self._clock = clock
        self._deadline = clock() + cpu_seconds

    def check(self, source: str) -> None:
        if self._clock() > self._deadline:
            raise BudgetExceeded(source, "conversion_cpu_seconds",
                                 f"converting this report took more than {self.cpu_seconds:g} s of CPU time; "
                                 "split it into smaller reports")


class _Unlimited(Budget):
    def __init__(self) -> None:
        super().__init__(float("inf"))

    def check(self, source: str) -> None:
        return None


UNLIMITED: Budget = _Unlimited()
