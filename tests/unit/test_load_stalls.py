"""Stalls and stages read from hand-made timelines (the rows sim/load/timeline.py writes)."""

from sim.load import stalls


def row(t, uploaded=0, tracked=0, pending=0, manifested=0, converted=0, queue=0, running=0, finished=0, phase="load"):
    return {"t": float(t), "phase": phase, "uploaded": uploaded, "queue_visible": queue, "queue_in_flight": 0,
            "dlq_visible": 0, "tracked": tracked, "pending": pending, "manifested": manifested,
            "converted": converted, "workflows_running": running, "workflows_finished": finished,
            "workflows_failed": 0}


def test_a_pipeline_that_keeps_moving_never_stalls():
    rows = [row(0)]
    for t in range(1, 30):  # ten files a second tracked, a manifest of 100 every 10 s, converted 3 s later
        up = 10 * t
        manifested = (up // 100) * 100
        converted = ((max(0, t - 3) * 10) // 100) * 100
        rows.append(row(t, uploaded=up, tracked=up, pending=up - manifested, manifested=manifested,
                        converted=converted, queue=2, running=1 if manifested > converted else 0,
                        finished=converted // 100))
    rows.append(row(30, uploaded=290, tracked=290, pending=0, manifested=290, converted=290, phase="drain",
                    finished=3))
    assert stalls.longest_stall(rows)["seconds"] <= 1.0


def test_the_longest_stretch_with_work_in_hand_and_nothing_moving():
    rows = [row(0), row(1, uploaded=50, tracked=40, pending=40, queue=10)]
    # The builder dies mid-manifest: 40 pending, nothing tracked, manifested or converted for 90 s.
    rows += [row(t, uploaded=50, tracked=50, pending=50) for t in range(2, 93)]
    # The flush recovers it: manifested, then converted after a 20 s Glue run that shows no progress.
    rows += [row(93, uploaded=50, tracked=50, manifested=50, running=1)]
    rows += [row(t, uploaded=50, tracked=50, manifested=50, running=1) for t in range(94, 114)]
    rows += [row(114, uploaded=50, tracked=50, manifested=50, converted=50, finished=1, phase="drain")]
    found = stalls.stalls(rows)
    longest = stalls.longest_stall(rows)
    assert longest["seconds"] == 91.0 and (longest["start_t"], longest["end_t"]) == (2.0, 93.0)
    assert longest["waiting"] == {"queued": 0, "pending": 50, "converting": 0, "converted": 0}
    assert not longest["ongoing"]
    assert [s["seconds"] for s in found] == [1.0, 91.0, 21.0]
    assert "91 s" in stalls.describe(longest) and "50 pending a manifest" in stalls.describe(longest)


def test_idle_time_without_work_is_not_a_stall():
    rows = [row(0), row(5, uploaded=10, tracked=10, manifested=10, converted=10, finished=1)]
    rows += [row(t, uploaded=10, tracked=10, manifested=10, converted=10, finished=1) for t in range(6, 200)]
    rows += [row(200, uploaded=11, tracked=10, manifested=10, converted=10, finished=1),
             row(201, uploaded=11, tracked=11, pending=1, manifested=10, converted=10, finished=1)]
    assert stalls.longest_stall(rows)["seconds"] == 1.0


def test_a_stall_still_going_when_the_timeline_ends_is_reported_as_ongoing():
    rows = [row(0, uploaded=5, queue=5)] + [row(t, uploaded=5, queue=5) for t in range(1, 41)]
    longest = stalls.longest_stall(rows)
    assert longest["seconds"] == 40.0 and longest["ongoing"]
    assert longest["waiting"]["queued"] == 5
    assert "still stalled" in stalls.describe(longest)


def test_a_failed_workflow_finishing_is_progress():
    rows = [row(0, uploaded=10, tracked=10, manifested=10, running=1)]
    rows += [row(t, uploaded=10, tracked=10, manifested=10, running=1) for t in range(1, 10)]
    rows += [row(10, uploaded=10, tracked=10, manifested=10, finished=1)]
    assert stalls.longest_stall(rows) | {"waiting": None} == {
        "start_t": 0.0, "end_t": 10.0, "seconds": 10.0, "ongoing": False, "waiting": None}


def test_no_rows_no_stall():
    assert stalls.longest_stall([])["seconds"] == 0.0
    assert stalls.describe(stalls.longest_stall([])) == "no stall"


def test_stages_add_up_to_the_uploads_and_never_go_negative():
    s = stalls.stages(row(3, uploaded=100, tracked=90, pending=30, manifested=60, converted=40))
    assert s == {"queued": 10, "pending": 30, "converting": 20, "converted": 40}
    assert sum(s.values()) == 100
    # The upload count is read a moment before the table: tracked can be ahead of it.
    assert stalls.stages(row(3, uploaded=95, tracked=100, pending=100))["queued"] == 0
