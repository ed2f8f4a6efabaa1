"""Load shapes as arrival schedules: when the k-th upload of a run is due.

A shape is a rate curve r(t) (files/s) over a run of `duration_s` seconds. Its cumulative count
N(t) says how many files are due by t; file k (0-based) is due at N^-1(k). Uploads are scheduled
by that clock (an open model), not by how fast earlier uploads returned, so a slow engine shows up
as a missed rate instead of a quietly lower one.

- `Daily`: 8,000 files a day on a day-shaped curve (a night floor plus a Gaussian afternoon peak)
  whose peak hour holds about 1,000 files, compressed by `time_scale` (144 plays a day in 600 s).
- `Burst`: `multiplier` x the average production rate (8000/86400 files/s), a linear ramp up,
  then a hold for `hold_s`.
- `ClosedLoop`: as fast as the client can go for `duration_s` (the raw PUT ceiling).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.core.errors import SimError

PRODUCTION_FILES_PER_DAY = 8000
PEAK_HOUR_FILES = 1000
DAY_S = 86400.0
PRODUCTION_FILES_PER_S = PRODUCTION_FILES_PER_DAY / DAY_S
PEAK_HOUR = 14.5  # the middle of the busiest hour (14:00-15:00 UTC)
PEAK_WIDTH_H = 2.5  # sigma of the afternoon peak, hours


class Shape:
    """Common schedule arithmetic; subclasses give rate() and cumulative()."""

    name = "shape"
    duration_s: float = 0.0

    def rate(self, t: float) -> float:  # files/s at run time t
        raise NotImplementedError

    def cumulative(self, t: float) -> float:  # files due by run time t
        raise NotImplementedError

    @property
    def total_files(self) -> int:
        """How many uploads the run schedules (file k is due before duration_s for k < total)."""
        return max(0, math.ceil(self.cumulative(self.duration_s) - 1e-9))

    @property
    def window(self) -> tuple[float, float]:
        """The part of the run whose achieved rate is judged against `target_files_per_s`."""
        return (0.0, self.duration_s)

    @property
    def peak_window(self) -> tuple[float, float]:
        """The busiest stretch of the run (the daily profile's peak hour), reported beside the window."""
        return self.window

    def mean_rate(self, lo: float, hi: float) -> float:
        return (self.cumulative(hi) - self.cumulative(lo)) / (hi - lo) if hi > lo else 0.0

    @property
    def target_files_per_s(self) -> float:
        return self.mean_rate(*self.window)

    @property
    def peak_files_per_s(self) -> float:
        steps = 2000
        return max(self.rate(self.duration_s * i / steps) for i in range(steps + 1))

    def due(self, k: int) -> float:
        """Run time at which upload k is due (inverse of cumulative, by bisection)."""
        if k <= 0:
            return 0.0
        lo, hi = 0.0, self.duration_s
        if self.cumulative(hi) < k:
            return math.inf
        for _ in range(64):
            mid = (lo + hi) / 2
            if self.cumulative(mid) < k:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-6:
                break
        return hi

    def describe(self) -> dict:
        return {
            "profile": self.name,
            "duration_s": round(self.duration_s, 3),
            "total_files": self.total_files,
            "target_files_per_s": round(self.target_files_per_s, 3),
            "peak_files_per_s": round(self.peak_files_per_s, 3),
            "window_s": [round(x, 3) for x in self.window],
            "peak_window_s": [round(x, 3) for x in self.peak_window],
            "peak_window_target_files_per_s": round(self.mean_rate(*self.peak_window), 3),
        }


@dataclass
class Daily(Shape):
    """A production day, compressed: N(h) = base*h + A*Gauss integral around the peak hour."""

    time_scale: float = 144.0
    files_per_day: int = PRODUCTION_FILES_PER_DAY
    peak_hour_files: int = PEAK_HOUR_FILES
    peak_hour: float = PEAK_HOUR
    width_h: float = PEAK_WIDTH_H
    name = "daily"

    def __post_init__(self):
        if self.time_scale <= 0:
            raise SimError("--time-scale must be positive")
        if not 0 < self.peak_hour_files <= self.files_per_day:
            raise SimError("the peak hour must hold between 1 file and the whole day")
        g = self._gauss_area(0.0, 24.0)
        h = self._gauss_area(self.peak_hour - 0.5, self.peak_hour + 0.5)
        # Two linear equations: the day integrates to files_per_day, the peak hour to peak_hour_files.
        self.base_per_h = (self.files_per_day * h - self.peak_hour_files * g) / (24 * h - g)
        self.amp_per_h = (self.peak_hour_files - self.base_per_h) / h
        if self.base_per_h < 0:
            raise SimError("a peak hour that large cannot fit this curve (the night rate would be negative)")
        self.duration_s = DAY_S / self.time_scale

    def _gauss_area(self, a: float, b: float) -> float:
        s = self.width_h * math.sqrt(2)
        return self.width_h * math.sqrt(math.pi / 2) * (
            math.erf((b - self.peak_hour) / s) - math.erf((a - self.peak_hour) / s)
        )

    @property
    def peak_window(self) -> tuple[float, float]:
        start = (self.peak_hour - 0.5) * 3600.0 / self.time_scale
        return (start, start + 3600.0 / self.time_scale)

    def _hours(self, t: float) -> float:
        return min(max(t, 0.0), self.duration_s) * self.time_scale / 3600.0

    def files_per_hour(self, hour: float) -> float:
        """The curve in production time: files per hour at `hour` (0-24)."""
        return self.base_per_h + self.amp_per_h * math.exp(-((hour - self.peak_hour) ** 2) / (2 * self.width_h**2))

    def files_in_hour(self, hour: int) -> float:
        return self.base_per_h + self.amp_per_h * self._gauss_area(hour, hour + 1)

    def rate(self, t: float) -> float:
        if t < 0 or t > self.duration_s:
            return 0.0
        return self.files_per_hour(self._hours(t)) * self.time_scale / 3600.0

    def cumulative(self, t: float) -> float:
        h = self._hours(t)
        return self.base_per_h * h + self.amp_per_h * self._gauss_area(0.0, h)

    def describe(self) -> dict:
        hours = [self.files_in_hour(i) for i in range(24)]
        return {**super().describe(), "time_scale": self.time_scale, "files_per_day": self.files_per_day,
                "peak_hour_files": round(max(hours), 1), "night_hour_files": round(min(hours), 1)}


@dataclass
class Burst(Shape):
    """multiplier x production's average rate: a linear ramp, then a hold (the judged window)."""

    multiplier: float = 600.0
    hold_s: float = 60.0
    ramp_s: float = 10.0
    name = "burst"

    def __post_init__(self):
        if self.multiplier <= 0:
            raise SimError("--multiplier must be positive")
        if self.hold_s <= 0:
            raise SimError("--duration must be positive")
        if self.ramp_s < 0:
            raise SimError("--ramp must not be negative")
        self.peak = self.multiplier * PRODUCTION_FILES_PER_S
        self.duration_s = self.ramp_s + self.hold_s

    @property
    def window(self) -> tuple[float, float]:
        return (self.ramp_s, self.duration_s)

    def rate(self, t: float) -> float:
        if t < 0 or t > self.duration_s:
            return 0.0
        if t < self.ramp_s:
            return self.peak * t / self.ramp_s
        return self.peak

    def cumulative(self, t: float) -> float:
        t = min(max(t, 0.0), self.duration_s)
        if t <= self.ramp_s:
            return self.peak * t * t / (2 * self.ramp_s) if self.ramp_s else 0.0
        return self.peak * self.ramp_s / 2 + self.peak * (t - self.ramp_s)

    def due(self, k: int) -> float:
        if k <= 0:
            return 0.0
        ramp_files = self.peak * self.ramp_s / 2
        if k <= ramp_files:
            return math.sqrt(2 * k * self.ramp_s / self.peak)
        t = self.ramp_s + (k - ramp_files) / self.peak
        return t if t <= self.duration_s + 1e-9 else math.inf

    def describe(self) -> dict:
        return {**super().describe(), "multiplier": self.multiplier, "ramp_s": self.ramp_s, "hold_s": self.hold_s}


@dataclass
class ClosedLoop(Shape):
    """No schedule: every upload is due at once and the users go as fast as they can."""

    duration_s: float = 10.0
    cap: int = 10_000_000
    name = "ceiling"

    def rate(self, t: float) -> float:
        return math.inf if 0 <= t <= self.duration_s else 0.0

    def cumulative(self, t: float) -> float:
        return float(self.cap) if t >= 0 else 0.0

    @property
    def total_files(self) -> int:
        return self.cap

    def mean_rate(self, lo: float, hi: float) -> float:
        return 0.0  # no target: the achieved rate is the measurement

    @property
    def peak_files_per_s(self) -> float:
        return 0.0

    def due(self, k: int) -> float:
        return 0.0


PROFILES = ("daily", "burst", "ceiling")


def make(profile: str, time_scale: float = 144.0, multiplier: float = 600.0, duration_s: float | None = None,
         ramp_s: float | None = None) -> Shape:
    """Build a shape from the CLI's options (`duration_s` is the burst's hold or the ceiling's run)."""
    if profile == "daily":
        return Daily(time_scale=time_scale)
    if profile == "burst":
        hold = 60.0 if duration_s is None else duration_s
        return Burst(multiplier=multiplier, hold_s=hold, ramp_s=default_ramp(hold) if ramp_s is None else ramp_s)
    if profile == "ceiling":
        return ClosedLoop(duration_s=10.0 if duration_s is None else duration_s)
    raise SimError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


def default_ramp(hold_s: float) -> float:
    """A ramp a sixth of the hold, between 1 and 10 s: long enough to be a ramp, short enough to
    keep a short run mostly hold."""
    return min(10.0, max(1.0, hold_s / 6))
