"""The watcher's clock: the wall clock (live), or a replayed day's clock running `speed` times faster.

Both wait on a stop event, so SIGTERM ends any wait at once. A replayed clock with speed 0 jumps straight
to the next instant asked for (tests, catch-up measurements); with speed > 0 one real second is `speed`
seconds of the replayed day (600: ten minutes a second).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MAX_SLEEP_SECONDS = 1.0  # a long wait is cut in slices, so a clock change or stop is seen quickly


class WallClock:
    replayed = False

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def wait_until(self, at: datetime, stop: threading.Event) -> bool:
        """Sleep until `at`; False when stopped first."""
        while not stop.is_set():
            left = (at - datetime.now(UTC)).total_seconds()
            if left <= 0:
                return True
            stop.wait(min(left, MAX_SLEEP_SECONDS))
        return False


@dataclass
class ReplayClock:
    start: datetime
    speed: float = 600.0
    replayed = True
    _t0: float = field(default_factory=time.monotonic)
    _jumped: datetime | None = None

    def now(self) -> datetime:
        if self.speed == 0:
            return self._jumped or self.start
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def wait_until(self, at: datetime, stop: threading.Event) -> bool:
        if self.speed == 0:
            self._jumped = max(self._jumped or self.start, at)
            return not stop.is_set()
        while not stop.is_set():
            left = (at - self.now()).total_seconds() / self.speed
            if left <= 0:
                return True
            stop.wait(min(left, MAX_SLEEP_SECONDS))
        return False
