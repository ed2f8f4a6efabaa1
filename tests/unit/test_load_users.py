"""Locust users sized from the upload latency (sim/load/users.py)."""

from sim.load import users


def test_the_first_count_covers_the_measured_latency_at_the_peak_rate():
    # 55.6 files/s with PUTs of 0.24 s at p95: a second's worth at least, as before sizing existed.
    assert users.initial(55.6, 0.24) == 56 + users.SPARE
    assert users.initial(55.6, 2.0) == 167 + users.SPARE
    assert users.initial(0.5, None) == users.MIN_USERS


def test_users_grow_with_the_live_latency_and_never_shrink():
    s = users.Sizer(peak_rate=55.6, latency_s=0.24)
    start = s.users
    assert s.update(5.0, 55.6, 0.2) == start  # fast PUTs: no change
    grown = s.update(10.0, 55.6, 1.46)  # the engine slows under the pipeline's load
    assert grown == 122 + users.SPARE and s.changes[-1]["users"] == grown and not s.changes[-1]["at_cap"]
    assert s.update(20.0, 55.6, 0.3) == grown  # never shrinks mid-run
    assert s.update(25.0, 55.6, None) == grown


def test_growth_stops_at_the_cap_of_max_latency_at_the_peak_rate():
    s = users.Sizer(peak_rate=55.6, latency_s=0.24)
    assert s.limit == 223 + users.SPARE
    assert s.update(30.0, 55.6, 10.0) == s.limit and s.at_cap and s.changes[-1]["at_cap"]


def test_a_fixed_count_is_never_resized():
    s = users.Sizer(peak_rate=55.6, latency_s=0.24, fixed=60)
    assert s.users == s.limit == 60
    assert s.update(10.0, 55.6, 5.0) == 60 and s.changes == []


def test_a_missed_rate_names_the_harness_or_the_engine():
    from sim.load.runner import judge_rate

    sized = {"start": 60, "max": 126, "limit": 227, "at_limit": False, "fixed": False, "peak_in_flight": 90}
    who, why = judge_rate(55.6, 45.0, 1460, {**sized, "max": 227, "at_limit": True, "peak_in_flight": 227}, 68.0, False)
    assert who == "engine" and "1460 ms" in why and "68.0 files/s" in why
    who, why = judge_rate(55.6, 50.0, 300, sized, 40.0, False)
    assert who == "engine" and "above" in why and "40.0" in why
    who, why = judge_rate(55.6, 45.0, 900, {**sized, "peak_in_flight": 126}, 68.0, False)
    assert who == "harness" and "too few users" in why
    who, why = judge_rate(55.6, 45.0, 900, {**sized, "start": 60, "max": 60, "limit": 60, "at_limit": True,
                                            "fixed": True, "peak_in_flight": 60}, 68.0, False)
    assert who == "harness" and "--users" in why
    assert judge_rate(55.6, 45.0, 300, sized, 68.0, True)[0] == "harness"
    who, why = judge_rate(55.6, 45.0, 300, sized, 0.0, False)
    assert who == "harness" and "not measured" in why
