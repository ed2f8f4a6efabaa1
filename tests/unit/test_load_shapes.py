"""The load shapes' rates over time: the day's totals and peak hour, the burst's ramp and hold."""

import math

import pytest

from sim.core.errors import SimError
from sim.load import shapes


def test_daily_plays_8000_files_with_a_peak_hour_of_about_1000():
    d = shapes.Daily(time_scale=144)
    assert d.duration_s == pytest.approx(600)
    assert d.total_files == 8000
    assert d.cumulative(d.duration_s) == pytest.approx(8000)
    hours = [d.files_in_hour(h) for h in range(24)]
    assert sum(hours) == pytest.approx(8000)
    assert max(hours) == pytest.approx(1000, rel=0.01)
    assert hours.index(max(hours)) == 14
    assert min(hours) > 50  # a night floor, not silence
    assert d.target_files_per_s == pytest.approx(8000 / 600)
    # the peak hour is 25 s of the compressed day and holds 1000 files: 40 files/s
    lo, hi = d.peak_window
    assert hi - lo == pytest.approx(25)
    assert d.mean_rate(lo, hi) == pytest.approx(40, rel=0.01)
    assert d.peak_files_per_s == pytest.approx(40, rel=0.02)


def test_daily_rate_is_the_derivative_of_the_cumulative_count():
    d = shapes.Daily(time_scale=144)
    for t in (10.0, 200.0, 362.5, 590.0):
        h = 1e-3
        assert (d.cumulative(t + h) - d.cumulative(t - h)) / (2 * h) == pytest.approx(d.rate(t), rel=1e-4)
    assert d.rate(-1) == d.rate(601) == 0


def test_daily_time_scale_compresses_the_same_day():
    slow, fast = shapes.Daily(time_scale=24), shapes.Daily(time_scale=288)
    assert slow.total_files == fast.total_files == 8000
    assert fast.duration_s == pytest.approx(300)
    assert fast.target_files_per_s == pytest.approx(12 * slow.target_files_per_s)


def test_daily_rejects_impossible_curves():
    with pytest.raises(SimError):
        shapes.Daily(time_scale=0)
    with pytest.raises(SimError):
        shapes.Daily(peak_hour_files=9000)


def test_burst_600x_is_55_6_files_per_s_after_a_ramp():
    b = shapes.Burst(multiplier=600, hold_s=60, ramp_s=10)
    assert b.target_files_per_s == pytest.approx(600 * 8000 / 86400)
    assert b.target_files_per_s == pytest.approx(55.56, abs=0.01)
    assert b.window == (10, 70)
    assert b.rate(5) == pytest.approx(b.target_files_per_s / 2)
    assert b.rate(30) == pytest.approx(b.target_files_per_s)
    assert b.rate(71) == 0
    assert b.total_files == math.ceil(55.5556 * 5 + 55.5556 * 60 - 1e-6)


def test_burst_due_times_invert_the_cumulative_count():
    b = shapes.Burst(multiplier=300, hold_s=20, ramp_s=4)
    for k in (1, 10, 55, 56, 200, b.total_files - 1):
        t = b.due(k)
        assert b.cumulative(t) == pytest.approx(k, abs=1e-6)
    assert b.due(0) == 0
    assert b.due(b.total_files) == math.inf
    times = [b.due(k) for k in range(b.total_files)]
    assert times == sorted(times)


def test_generic_due_by_bisection_matches_the_daily_curve():
    d = shapes.Daily(time_scale=144)
    for k in (1, 500, 4000, 7999):
        assert d.cumulative(d.due(k)) == pytest.approx(k, abs=1e-3)
    assert d.due(8000) == math.inf


def test_make_builds_each_profile_and_rejects_unknown_ones():
    assert shapes.make("daily", time_scale=288).duration_s == pytest.approx(300)
    burst = shapes.make("burst", multiplier=100, duration_s=30)
    assert burst.ramp_s == shapes.default_ramp(30) == 5
    assert shapes.make("burst", duration_s=6, ramp_s=0).window == (0, 6)
    assert shapes.make("ceiling", duration_s=5).due(10**6) == 0
    with pytest.raises(SimError):
        shapes.make("weekly")
    with pytest.raises(SimError):
        shapes.make("burst", multiplier=0)
