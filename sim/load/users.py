"""How many Locust users a schedule needs, from the upload latency measured as it runs.

Uploads are scheduled by the clock (sim/load/pacing.py), so users only provide concurrency: by
Little's law a rate r with uploads taking L seconds keeps r * L users busy. Too few and slots
start late, and the harness, not the engine, misses the target. So the users start at what the
latency measured before the load says (at least a second's worth of the peak rate), and grow
while the run goes whenever the recent p95 latency says more are needed: r * p95 * HEADROOM plus
SPARE, never shrinking (stopping a user could cut an upload).

They stop growing at the cap: MAX_LATENCY_S of the peak rate. An engine that takes that long to
answer a PUT at the target rate is past its ceiling, and more users would only queue more
uploads inside it. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HEADROOM = 1.5
SPARE = 4
MIN_USERS = 8
MAX_LATENCY_S = 4.0
HARD_CAP = 1024
LOOKAHEAD_S = (0.0, 2.0, 5.0)  # the rate the next seconds will ask for: a ramp must not outrun the users


def needed(rate: float, latency_s: float) -> int:
    """Users that keep `rate` uploads/s going when each takes `latency_s` (p95), with headroom."""
    if rate <= 0 or latency_s <= 0:
        return 0
    return math.ceil(rate * latency_s * HEADROOM) + SPARE


def initial(peak_rate: float, latency_s: float | None) -> int:
    """Users to start with: the measured latency's worth of the peak rate, at least a second's."""
    return min(HARD_CAP, max(MIN_USERS, needed(peak_rate, max(1.0 / HEADROOM, latency_s or 0.0))))


def cap(peak_rate: float, start: int) -> int:
    return min(HARD_CAP, max(start, math.ceil(peak_rate * MAX_LATENCY_S) + SPARE))


@dataclass
class Sizer:
    """Grows the user count from the live latency; `changes` keeps every step for the report."""

    peak_rate: float
    latency_s: float | None = None
    fixed: int = 0  # --sim-users: exactly this many, never resized
    users: int = 0
    limit: int = 0
    changes: list[dict] = field(default_factory=list)

    def __post_init__(self):
        if self.fixed > 0:
            self.users = self.limit = self.fixed
        else:
            self.users = initial(self.peak_rate, self.latency_s)
            self.limit = cap(self.peak_rate, self.users)

    @property
    def at_cap(self) -> bool:
        return self.users >= self.limit

    def update(self, t: float, rate_ahead: float, p95_s: float | None) -> int:
        """The user count for run time t, given the rate due soon and the recent p95 latency."""
        if self.fixed > 0 or not p95_s:
            return self.users
        want = min(self.limit, needed(rate_ahead, p95_s))
        if want > self.users:
            self.users = want
            self.changes.append({"t": round(t, 1), "users": want, "p95_ms": round(p95_s * 1000, 1),
                                 "rate": round(rate_ahead, 3), "at_cap": self.at_cap})
        return self.users
