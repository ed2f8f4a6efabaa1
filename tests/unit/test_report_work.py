"""Unit work from telemetry lines: the per-batch fit, the manifest's excess and its split."""

import json

import pytest

from sim.report import work
from sim.report.window import of_run


def sqs_line(records, extra_calls=None, duration=None, wu=None, starts=0):
    calls = {"dynamodb.PutItem": records, "dynamodb.Query": 1}
    for k, v in (extra_calls or {}).items():
        calls[k] = calls.get(k, 0) + v
    if starts:
        calls["stepfunctions.StartExecution"] = starts
    return {"component": "builder", "kind": "sqs", "records": records, "calls": calls, "at": 100.0,
            "duration_ms": duration if duration is not None else 40 + 6 * records,
            "write_units": wu if wu is not None else 2.0 * records, "read_units": 0.5}


def test_linear_fit_recovers_a_line_and_degrades_gracefully():
    assert work.linear_fit([1, 2, 3, 10], [5, 7, 9, 23]) == pytest.approx((3.0, 2.0))
    a, b = work.linear_fit([10, 10, 10], [30, 30, 30])  # one distinct x: all of it is per-unit work
    assert (a, b) == pytest.approx((0.0, 3.0))
    assert work.linear_fit([], []) == (0.0, 0.0)


def test_builder_work_splits_the_manifest_excess_into_per_file_and_fixed():
    fpm = 20
    lines = [sqs_line(r) for r in (1, 3, 5, 10, 10, 2)]
    # Two invocations that each also assembled one 20-file manifest: 20 claims (2 WRU each),
    # a MANIFEST item and the lease (2 puts), the manifest object, the workflow start.
    manifest_calls = {"dynamodb.UpdateItem": 20, "dynamodb.PutItem": 2, "s3.PutObject": 1}
    for r in (10, 4):
        lines.append(sqs_line(r, manifest_calls, duration=40 + 6 * r + 50, wu=2.0 * r + 40 + 4, starts=1))
    w = work.builder_work(lines, fpm)
    assert w["manifests_built"] == 2
    assert w["per_batch"]["dynamodb.PutItem"]["per_record"] == pytest.approx(1.0)
    assert w["per_batch"]["duration_ms"]["fixed"] == pytest.approx(40)
    split = w["manifest_split"]
    assert split["per_file"]["calls"] == {"dynamodb.UpdateItem": pytest.approx(1.0)}
    assert split["fixed"]["calls"]["dynamodb.PutItem"] == pytest.approx(2.0)
    assert split["fixed"]["calls"]["stepfunctions.StartExecution"] == pytest.approx(1.0)
    # Units follow the write calls: 20 of 22 write calls are claims
    assert split["per_file"]["write_units"] * fpm + split["fixed"]["write_units"] == pytest.approx(44)
    assert split["per_file"]["write_units"] * fpm == pytest.approx(44 * 20 / 22)


def test_converter_work_separates_reads_per_file_from_the_upload():
    runs = [{"component": "converter", "runtime": "glue", "ok": True, "at": 1.0, "duration_ms": 900.0, "max_rss_mb": 150.0,
             "calls": {"s3.GetObject": 21, "s3.PutObject": 1, "dynamodb.UpdateItem": 1}, "write_units": 1.0, "read_units": 0}]
    w = work.converter_work(runs, 20)
    assert w["upload_calls_per_run"] == {"s3.PutObject": 1.0}
    assert w["per_file_calls"] == {"s3.GetObject": pytest.approx(1.05)}
    assert w["fixed_calls"] == {"dynamodb.UpdateItem": 1.0}
    assert w["peak_rss_mb"] == 150.0


def test_window_keeps_the_runs_lines_and_stops_the_grace_at_the_next_run(tmp_path):
    tele = tmp_path / "telemetry.jsonl"
    tele.write_text("\n".join(json.dumps({"component": "builder", "at": t}) for t in (5, 15, 25, 35, 95, 150)) + "\n{cut")
    first, second = tmp_path / "demo-1", tmp_path / "demo-2"
    first.mkdir()
    second.mkdir()
    run = {"started_at": 10, "ended_at": 30, "telemetry_file": str(tele)}
    (first / "run.json").write_text(json.dumps(run))
    (second / "run.json").write_text(json.dumps({"started_at": 90, "ended_at": 120, "telemetry_file": str(tele)}))
    window, lines = of_run(first, run, grace_s=300)
    assert [l["at"] for l in lines] == [15, 25, 35]  # the grace ends where demo-2 began
    window, lines = of_run(second, {"started_at": 90, "ended_at": 120, "telemetry_file": str(tele)}, grace_s=10)
    assert [l["at"] for l in lines] == [95]
