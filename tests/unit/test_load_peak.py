"""The peak window's judgement (sim/load/peak.py) and its place in the load verdict."""

import pytest

from sim.load import peak, shapes


def test_the_daily_peak_that_fell_short_of_its_target_fails_naming_the_window_and_the_figure():
    # The fresh-clone daily run: 34.9 of 40 files/s in its peak hour (87%), the ceiling well above.
    v = peak.judge_peak((350.0, 375.0), 40.0, 34.9, 49.2)
    assert v["pass"] is False and v["limit"] == "target" and v["required_files_per_s"] == pytest.approx(38.0)
    assert "peak window (350-375 s of the run, 25 s)" in v["reason"] and "34.90 files/s" in v["reason"]
    assert "87% of its target 40.00" in v["reason"] and v["ratio"] == pytest.approx(0.8725)


def test_a_peak_at_95_percent_of_its_target_passes():
    v = peak.judge_peak((0, 25), 40.0, 38.0, 49.2)
    assert v["pass"] is True and v["reason"] is None and v["limit"] == "target"
    assert peak.judge_peak((0, 25), 40.0, 37.99, 49.2)["pass"] is False


def test_a_target_above_the_same_run_ceiling_is_held_to_the_ceiling_and_names_it():
    v = peak.judge_peak((10, 70), 55.6, 47.0, 49.2)
    assert v["pass"] is True and v["limit"] == "raw_put_ceiling" and v["limit_files_per_s"] == 49.2
    assert "raw PUT ceiling" in v["summary"]
    v = peak.judge_peak((10, 70), 55.6, 38.1, 49.2)
    assert v["pass"] is False and v["required_files_per_s"] == pytest.approx(0.95 * 49.2, abs=1e-3)
    assert "raw PUT ceiling measured in this run, 49.20 files/s" in v["reason"] and "(the limit)" in v["reason"]


def test_without_a_measured_ceiling_the_target_is_the_measure():
    for ceiling in (None, 0.0):
        v = peak.judge_peak((0, 25), 40.0, 30.0, ceiling)
        assert v["limit"] == "target" and v["pass"] is False


def test_the_daily_shape_has_a_peak_window_apart_from_its_window_and_the_burst_does_not():
    d, b = shapes.Daily(time_scale=144), shapes.make("burst", multiplier=600, duration_s=60)
    assert tuple(d.peak_window) != tuple(d.window)
    assert tuple(b.peak_window) == tuple(b.window)


def _phase(tmp_path, shape, in_window, in_peak):
    from types import SimpleNamespace

    from sim.load.measure import Uploads
    from sim.load.runner import Phase

    lo, hi = shape.window
    plo, phi = shape.peak_window
    up = Uploads(ok=in_window, in_window=in_window, window_s=hi - lo, in_peak=in_peak, peak_window_s=phi - plo,
                 first_start=0.0, last_end=hi)
    timeline = SimpleNamespace(max={"queue_depth": 0, "queue_visible": 0, "dlq_visible": 0, "pending": 0,
                                    "workflows_running": 0}, rows=0)
    users = {"start": 60, "max": 60, "limit": 200, "at_limit": False, "fixed": False, "peak_in_flight": 20}
    return Phase(shape, tmp_path, up, None, timeline, {}, 0.0, hi, hi + 1, users=users)


def test_the_load_verdict_fails_on_a_short_peak_even_when_the_average_holds(tmp_path):
    from sim.load.runner import LoadOptions, summarize

    d = shapes.Daily(time_scale=144)
    full = round(d.target_files_per_s * d.duration_s)
    plo, phi = d.peak_window
    short = _phase(tmp_path, d, full, int(0.87 * 40 * (phi - plo)))
    r = summarize(short, None, LoadOptions(profile="daily"), [], 0, {"files_per_s": 49.2})
    assert r["rate_ratio"] >= 0.95 and r["pass"] is False
    assert r["peak_window"]["pass"] is False and r["peak_window"]["limited_by"] == "harness"
    assert [x for x in r["reasons"] if x.startswith("the peak window (") and "of its target 40.00" in x]
    held = _phase(tmp_path, d, full, int(0.97 * 40 * (phi - plo)))
    r = summarize(held, None, LoadOptions(profile="daily"), [], 0, {"files_per_s": 49.2})
    assert r["pass"] is True and r["peak_window"]["pass"] is True and r["reasons"] == []


def test_the_burst_says_a_missed_rate_once(tmp_path):
    from sim.load.runner import LoadOptions, summarize

    b = shapes.make("burst", multiplier=600, duration_s=60)
    n = int(0.8 * b.target_files_per_s * 60)
    r = summarize(_phase(tmp_path, b, n, n), None, LoadOptions(), [], 0, {"files_per_s": 70.0})
    assert r["pass"] is False and r["peak_window"]["same_as_window"] is True and r["peak_window"]["pass"] is False
    assert len(r["reasons"]) == 1 and r["reasons"][0].startswith("achieved ")


def test_the_wait_for_the_verdict_after_the_last_upload_is_the_drain_then_validation(tmp_path):
    from sim.load.runner import LoadOptions, summarize

    b = shapes.make("burst", multiplier=600, duration_s=60)
    n = int(b.target_files_per_s * 60)
    phase = _phase(tmp_path, b, n, n)  # the last upload ends at 70 s, the drain at 71 s
    assert summarize(phase, None, LoadOptions(), [], 0)["verdict_after_last_upload_s"] is None  # not validated
    phase.verdict_at = phase.upload_end + 31.5
    r = summarize(phase, None, LoadOptions(), [], 0)
    assert r["verdict_after_last_upload_s"] == 31.5 and r["drain_after_last_upload_s"] == 1.0
