"""Which of a service's timestamps fall in a run's window, when the service keeps whole seconds."""

import datetime as dt

from sim.report.engine_facts import within

START, END = 1_000.6, 1_100.0


def test_a_whole_second_timestamp_in_the_runs_first_second_counts():
    # the engine's Glue StartedOn for a run started at 1000.9 reads 1000
    assert within(dt.datetime.fromtimestamp(1_000, dt.timezone.utc), START, END)
    assert within(1_000, START, END)


def test_a_precise_timestamp_before_the_start_does_not():
    assert not within(1_000.5, START, END)
    assert not within(999, START, END)


def test_the_end_is_kept_exactly():
    assert within(1_100, START, END)
    assert not within(1_100.2, START, END)
    assert not within(1_101, START, END)
