"""`sim load` and `sim bench` for real: Locust against the embedded engine, the pipeline drained and
validated, and the JSON contract. Short and small; timings are reported, never asserted."""

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from sim.core import contract
from sim.core.runs import read_run

from .conftest import BATCH, dumps

SIM = [sys.executable, "-m", "sim"]
LOAD_KEYS = {"pass", "profile", "target_files_per_s", "achieved_files_per_s", "upload_ms", "end_to_end_s",
             "max_queue_depth", "longest_stall_s", "builder_timeouts", "validation"}
BENCH_KEYS = {"file_size_bytes", "raw_put_ceiling_files_per_s", "sustained_files_per_s",
              "sustained_multiple_of_production", "ratio_to_ceiling", "converter_mb_per_s", "converter_peak_rss_mb",
              "converter_baseline_mb_per_s", "converter_ratio_to_baseline", "requests_per_file",
              "validation_baseline_s", "validation_s", "validation_ratio_to_baseline"}


def sim_json(*args, workdir, timeout=240) -> tuple[int, dict, str]:
    proc = subprocess.run(SIM + list(args) + ["--workdir", str(workdir), "--json"], capture_output=True, text=True,
                          timeout=timeout)
    try:
        return proc.returncode, json.loads(proc.stdout), proc.stderr
    except json.JSONDecodeError:
        raise AssertionError(f"sim {' '.join(args)} gave no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}")


def test_burst_with_two_locust_workers_lands_drains_and_validates(engine):
    code, r, err = sim_json("load", "--profile", "burst", "--multiplier", "150", "--duration", "12", "--ramp", "2",
                            "--file-size", "16KB", "--batch-size", str(BATCH), "--workers", "2", workdir=engine)
    assert LOAD_KEYS <= set(r), dumps(r)
    assert contract.problems(r, contract.Load) == []
    assert set(r["upload_ms"]) == set(r["end_to_end_s"]) == {"p50", "p95", "p99"}
    assert r["profile"] == "burst"
    assert abs(r["target_files_per_s"] - 150 * 8000 / 86400) < 0.01
    assert r["achieved_files_per_s"] > 0 and r["files_uploaded"] > 0
    assert code == (0 if r["pass"] else 1), err

    v = r["validation"]
    assert v["pass"], dumps(v)
    assert v["files_landed"] == r["files_uploaded"] and v["records_in"] == v["records_out"] == r["records_uploaded"]
    assert r["end_to_end_files"] == r["files_uploaded"] and r["end_to_end_s"]["p50"] is not None
    assert r["upload_failures"] == 0 and r["locust"]["requests"] == r["files_uploaded"]
    # Counted from the engine sim started; the stall comes from the run's own timeline.
    assert isinstance(r["builder_timeouts"], int) and r["builder_timeouts_source"].endswith("(lambda_runtime timeouts)")
    assert r["longest_stall_s"] >= 0 and (r["longest_stall_s"] > 30) == any("stalled" in x for x in r["reasons"])
    # The raw PUT ceiling measured before the load, and the users sized from its latency.
    assert r["raw_put_ceiling_files_per_s"] > 0 and r["ceiling"]["files"] > 0
    # The peak window judged in the verdict: the burst's is its hold, held to 95% of the lower of its
    # target and the ceiling; short of it, the verdict fails on the rate and says so once.
    peak = r["peak_window"]
    assert peak["window_s"] == r["shape"]["peak_window_s"] and peak["same_as_window"] is True
    assert peak["achieved_files_per_s"] == r["peak_window_achieved_files_per_s"]
    held = min(r["target_files_per_s"], r["raw_put_ceiling_files_per_s"])
    assert peak["limit"] == ("raw_put_ceiling" if r["raw_put_ceiling_files_per_s"] < r["target_files_per_s"] else "target")
    assert abs(peak["required_files_per_s"] - 0.95 * held) < 0.01
    assert peak["pass"] == (peak["achieved_files_per_s"] >= peak["required_files_per_s"])
    assert r["pass"] <= peak["pass"]
    assert "peak window" in peak["summary"] and f"{peak['achieved_files_per_s']:.2f} files/s" in peak["summary"]
    sizing = r["users_sizing"]
    assert sizing["start"] >= 8 and sizing["start"] <= sizing["max"] <= sizing["limit"]
    assert 0 < sizing["peak_in_flight"] <= sizing["max"]

    # The front door first: the builder's and the Glue runs' processes ran lowered, validation too,
    # and the CPU each part used was sampled from the processes themselves.
    cpu = r["cpu_s"]
    assert set(cpu) == {"engine", "builder", "converter", "validation", "load_generator", "harness"}, cpu
    assert all(cpu[p] > 0 for p in ("engine", "builder", "converter", "validation", "load_generator")), cpu
    # outputs were checked as their workflows succeeded, below everything else, and none read again
    assert r["cpu_s_until_drained"]["validation"] <= cpu["validation"]
    assert r["cpu_s_until_drained"]["converter"] <= cpu["converter"]
    upto = r["cpu_s_until_last_upload"]
    assert set(upto) == set(cpu) and all(upto[p] <= r["cpu_s_until_drained"][p] for p in upto), upto
    assert upto["load_generator"] > 0
    idle = r["cpu_idle_s"]
    assert 0 <= idle["until_last_upload"] <= idle["until_drained"] <= idle["until_verdict"], idle
    assert r["cpu_nice"]["validation_while_draining"] > r["cpu_nice"]["validation"] > 0
    early = v["early"]
    assert early["outputs_checked"] == early["outputs_reused"] == v["manifests"] > 0, early
    assert early["outputs_checked_at_end"] == 0 and early["unit_errors"] == 0
    assert r["cpu_lowered_processes"]["builder"] >= 1 and r["cpu_lowered_processes"]["converter"] >= 1
    assert r["cpu_nice"]["converter"] > r["cpu_nice"]["engine"] == r["cpu_nice"]["load_generator"] == 0
    assert r["verdict_after_last_upload_s"] >= r["drain_after_last_upload_s"] + v["seconds"]["total"] - 1

    run_dir = Path(r["run_dir"])
    run = read_run(run_dir)
    assert run["kind"] == "load" and run["started_at"] < run["ended_at"] and run["files"] == r["files_uploaded"]
    assert run["telemetry_file"].endswith("telemetry.jsonl")
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust.html", "load.json", "timeline.csv", "cpu.csv"):
        assert (run_dir / name).exists(), name
    assert len(list((run_dir / "uploads").glob("uploads-*.jsonl"))) == 2  # one log per worker process
    with open(run_dir / "timeline.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"load", "drain"} <= {row["phase"] for row in rows}
    assert int(rows[-1]["converted"]) == r["files_uploaded"]

    # The capacity report of this run draws where the work waited, from that timeline.
    proc = subprocess.run(SIM + ["report", "--run", run_dir.name, "--json"], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    charts = report["files"]["charts"]
    assert "work_by_stage" in charts and ET.parse(charts["work_by_stage"]).getroot().tag.endswith("svg")
    assert "Where the work waits" in Path(report["files"]["report_md"]).read_text()
    page = Path(report["files"]["report_html"]).read_text()
    assert "CPU by part" in page and f"{cpu['converter']:.1f}" in page


def test_bad_profile_is_one_line_before_anything_starts(engine):
    code, r, err = sim_json("load", "--profile", "weekly", workdir=engine, timeout=60)
    assert code == 1 and r["pass"] is False and "weekly" in r["error"]
    assert contract.problems(r, contract.Error) == []


def test_bench_writes_every_contract_field(engine):
    code, r, err = sim_json("bench", "--file-size", "16KB", "--ceiling-seconds", "3", "--step-seconds", "6",
                            "--max-steps", "1", "--start-multiple", "100", "--manifest-files", "20",
                            "--batch-size", str(BATCH), workdir=engine)
    assert BENCH_KEYS <= set(r), dumps(r)
    assert contract.problems(r, contract.Bench) == []
    assert r["file_size_bytes"] == 16 * 1024
    assert r["raw_put_ceiling_files_per_s"] > 0 and r["converter_mb_per_s"] > 0 and r["converter_peak_rss_mb"] > 0
    assert r["converter"]["files"] == 20 and r["converter"]["records"] > 0
    base = r["converter"]["baseline"]
    assert base["files"] == 20 and base["bytes_in"] == r["converter"]["bytes_in"]  # the same files
    assert base["records"] == r["converter"]["records"]
    assert r["converter_baseline_mb_per_s"] == base["mb_per_s"] > 0 and base["peak_rss_mb"] > 0
    assert r["converter_ratio_to_baseline"] == round(r["converter_mb_per_s"] / base["mb_per_s"], 3)
    assert len(r["steps"]) == 1
    step = r["steps"][0]
    if step["sustained"]:
        assert step["validation"]["pass"] and r["sustained_files_per_s"] == step["achieved_files_per_s"]
        assert r["sustained_multiple_of_production"] > 0
    per = r["requests_per_file"]
    assert per["files"] == step["files"] > 0
    assert per["by_operation"]["s3.PutObject (client upload)"] == 1.0
    assert {"s3", "sqs", "dynamodb", "lambda", "stepfunctions"} <= set(per["by_service"]), dumps(per)
    assert per["by_operation"]["stepfunctions.StateTransition"] > 0 and per["executions"] > 0
    assert step["requests_per_file"] == per
    val = r["validation"]  # on the step's data: the plain read found what validation counted
    assert r["validation_baseline_s"] > 0 and r["validation_s"] > 0 and val["workers"] >= 1
    assert r["validation_ratio_to_baseline"] == round(r["validation_s"] / r["validation_baseline_s"], 2)
    assert val["records"] == val["validation_records_in"] > 0 and val["files"] == step["files"]
    assert val["rows"] > 0 and val["outputs"] > 0  # the outputs were read too
    if step["sustained"]:
        assert val["validation_pass"] and val["rows"] == val["records"] == step["validation"]["records_in"]
    assert code == (0 if r["pass"] else 1), err
    run_dir = Path(r["run_dir"])
    assert read_run(run_dir)["kind"] == "bench"
    assert json.loads((run_dir / "bench.json").read_text())["ratio_to_ceiling"] == r["ratio_to_ceiling"]
    md = (run_dir / "bench.md").read_text()
    assert "Headline" in md and f"**{r['converter_ratio_to_baseline']:.2f}** of a plain pyarrow" in md
    assert f"= {r['validation_ratio_to_baseline']:.2f}x a plain read-and-parse" in md
