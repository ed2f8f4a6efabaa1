"""Percentiles, the upload logs, Locust's CSV and the timeline file."""

import json

import pytest

from sim.core.stats import percentiles
from sim.load.measure import UploadCounter, locust_aggregate, read_uploads
from sim.load.payloads import UploadLog
from sim.load.timeline import COLUMNS, Timeline, read_timeline
from sim.ops.watch import StageCounts


def test_percentiles_interpolate_between_ranks():
    assert percentiles(range(1, 101)) == {"p50": 50.5, "p95": 95.05, "p99": 99.01}
    assert percentiles([7.0]) == {"p50": 7.0, "p95": 7.0, "p99": 7.0}
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    assert percentiles([3, 1, 2], qs=(0, 100)) == {"p0": 1, "p100": 3}


def test_upload_logs_give_the_rate_in_each_process_window(tmp_path):
    for worker, start in ((0, 1000.0), (1, 1000.5)):
        log = UploadLog(str(tmp_path / f"uploads-{worker}-1.jsonl"))
        log.header(start, worker=worker, workers=2, users=8)
        for i in range(10):  # one upload a second per process, from t=0 to t=9
            k = 2 * i + worker
            log.write(k, f"incoming/k{k}.ndjson", start + i, start + i + 0.02, 100, 3)
        log.write(99, "incoming/bad.ndjson", start, start + 1, 100, 3, error="ClientError: slow down")
        log.close()
    (tmp_path / "uploads-0-1.jsonl").open("a").write('{"k": 5, "key": "cut')  # a killed writer's last line
    up = read_uploads(tmp_path, window=(2.0, 7.0), peak_window=(0.0, 1.0))
    assert up.ok == 20 and up.failed == 2 and up.errors == {"ClientError": 2}
    assert up.in_window == 10  # t=2..6 in both processes
    assert up.achieved_files_per_s == pytest.approx(2.0)
    assert up.peak_achieved_files_per_s == pytest.approx(2.0)
    assert up.records == 60 and up.bytes == 2000
    assert percentiles(up.latencies_ms)["p50"] == pytest.approx(20, abs=0.5)
    assert up.landed_at["incoming/k3.ndjson"] == pytest.approx(1000.5 + 1 + 0.02)
    assert len(up.processes) == 2


def test_upload_counter_reads_only_new_whole_lines(tmp_path):
    counter = UploadCounter(tmp_path)
    assert counter.poll() == 0
    path = tmp_path / "uploads-0-1.jsonl"
    path.write_text(json.dumps({"started_at": 1}) + "\n" + '{"k":0,"ok":true}\n{"k":1,"ok":true}\n{"k":2,"ok":tr')
    assert counter.poll() == 2
    with path.open("a") as fh:
        fh.write('ue}\n{"k":3,"ok":false}\n')
    assert counter.poll() == 3


def test_locust_aggregate_row(tmp_path):
    csv = tmp_path / "locust_stats.csv"
    csv.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
        "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
        "99.99%,100%\n"
        "PUT,s3:landing,3612,0,39,67.1,3.2,812.4,65161.6,51.4,0.0,39,57,79,96,150,240,350,470,700,810,810\n"
        ",Aggregated,3612,0,39,67.1,3.2,812.4,65161.6,51.4,0.0,39,57,79,96,150,240,350,470,700,810,810\n")
    agg = locust_aggregate(csv)
    assert agg["requests"] == 3612 and agg["failures"] == 0
    assert agg["p95_ms"] == 240 and agg["p99_ms"] == 470 and agg["requests_per_s"] == pytest.approx(51.4)
    assert locust_aggregate(tmp_path / "missing.csv") == {}


def test_timeline_rows_round_trip_and_keep_maxima(tmp_path):
    tl = Timeline(tmp_path / "timeline.csv", started_at=0.0)
    tl.record(StageCounts(tracked=10, pending=10, queue_visible=4, queue_in_flight=3), "load", 12)
    tl.record(StageCounts(tracked=12, pending=0, manifested=12, converted=12, manifests={"succeeded": 1, "started": 2},
                       dlq_visible=1), "drain", 12)
    tl.close()
    rows = read_timeline(tmp_path / "timeline.csv")
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["queue_visible"] == 4 and rows[0]["phase"] == "load" and rows[0]["uploaded"] == 12
    assert rows[1]["workflows_running"] == 2 and rows[1]["workflows_finished"] == 1 and rows[1]["converted"] == 12
    assert tl.max["queue_depth"] == 7 and tl.max["dlq_visible"] == 1 and tl.max["pending"] == 10


def test_lateness_is_measured_against_each_upload_due_time(tmp_path):
    log = UploadLog(str(tmp_path / "uploads-0-1.jsonl"))
    log.header(100.0)
    log.write(0, "a", 100.0, 100.1, 1, 1)  # due at 0 s, on time
    log.write(1, "b", 103.5, 103.6, 1, 1)  # due at 1 s, 2.5 s late
    log.write(2, "c", 101.0, 101.1, 1, 1)  # due at 2 s, early starts count as on time
    log.close()
    up = read_uploads(tmp_path, window=(0, 10), due=lambda k: float(k))
    assert sorted(up.lateness_s) == [0.0, 0.0, 2.5]


def _row(at, uploaded, converted, pending=0, queued=0, manifested=None):
    return {"at": at, "phase": "load", "uploaded": uploaded, "converted": converted, "pending": pending,
            "queue_visible": queued, "queue_in_flight": 0,
            "manifested": converted + 100 if manifested is None else manifested}


def test_backlog_growth_reads_troughs_not_peaks():
    from sim.load.timeline import backlog_growth

    # keeping up: work in progress saw-tooths between 100 and 300 in both windows
    steady = [_row(t, 10 * t, 10 * t - (100 if t % 4 else 300)) for t in range(0, 101)]
    g = backlog_growth(steady, hold_start=0, hold_s=100)
    assert g["growth"]["wip"] == 0 and g["mid"]["wip"] == 100
    assert g["arrived_between"] == 10 * 100 - 10 * 20 and g["seconds_between"] == 50
    # falling behind: conversions run at 8 files/s against 10 arriving, and files pile up pending
    behind = [_row(t, 10 * t, 8 * t, pending=2 * t) for t in range(0, 101)]
    g = backlog_growth(behind, hold_start=0, hold_s=100)
    assert g["growth"]["wip"] == 2 * 70 - 2 * 20 and g["growth"]["pending"] == 100
    assert backlog_growth(behind, hold_start=500, hold_s=100) is None
