"""The one wall clock of the console, and a watch that notices when it jumps.

Timestamps in the record come from ``wall()``/``utcnow()``. Durations and deadlines that
must not move when somebody (or NTP) sets the clock use ``time.monotonic()``. ``JumpWatch``
compares the two: when the wall clock moves by more than the monotonic clock (plus a
tolerance), the clock was set, and the caller logs it, so a reader of the record knows
why times go backwards or skip ahead.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_wall = time.time  # replaced only by tests that set the clock


def wall() -> float:
    """Seconds since the epoch, UTC."""
    return _wall()


def now() -> datetime:
    return datetime.fromtimestamp(wall(), UTC)


def utcnow() -> str:
    """ISO 8601 with microseconds and a Z: the form every stored timestamp takes."""
    return now().isoformat(timespec="microseconds").replace("+00:00", "Z")


class JumpWatch:
    """Call ``check()`` now and then (each second, say): it returns how far the wall clock
    jumped since the last call (positive: forward), or None when it ran true."""

    def __init__(self, tolerance_s: float = 2.0) -> None:
        self.tolerance_s = tolerance_s
        self._wall, self._mono = wall(), time.monotonic()

    def check(self) -> float | None:
        w, m = wall(), time.monotonic()
        drift = (w - self._wall) - (m - self._mono)
        self._wall, self._mono = w, m
        return drift if abs(drift) > self.tolerance_s else None
