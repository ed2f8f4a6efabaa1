"""`sim report --pipeline` on a run of a pipeline sim did not write (examples/seed-plan), on the
embedded engine: the fault bundle counted its work, so the report has requests per file by service;
and on the same engine and telemetry file, sim's own demo still writes one line per invocation
(its code writes them; the bundle around it must not write a second)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.core import contract

ROOT = Path(__file__).resolve().parents[2]
SEED_PLAN = ROOT / "examples" / "seed-plan" / "pipeline.toml"
SERVICES = ("dynamodb", "s3", "sqs", "lambda", "stepfunctions", "glue")
FILES = 12


def sim(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "sim", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A seed-plan demo, then sim's own, in one workdir (one engine, one telemetry file); each reported."""
    base = tmp_path_factory.mktemp("report-pipeline")
    env = {k: v for k, v in os.environ.items() if k not in ("SIM_ENDPOINT", "SIM_PIPELINE", "SIM_PREFIX")}
    env["SIM_REPORTS_DIR"] = str(base / "reports")
    workdir = base / "work"
    small = ["--files", str(FILES), "--file-size", "8KB", "--batch-size", "5", "--workdir", str(workdir), "--json"]
    try:
        seed = sim(["demo", "--pipeline", str(SEED_PLAN), *small], env)
        assert seed.returncode == 0, seed.stderr[-2000:]
        seed_report = sim(["report", "--json", "--pipeline", str(SEED_PLAN)], env)
        assert seed_report.returncode == 0, seed_report.stderr[-2000:]
        own = sim(["demo", *small], env)
        assert own.returncode == 0, own.stderr[-2000:]
        own_report = sim(["report", "--json"], env)
        assert own_report.returncode == 0, own_report.stderr[-2000:]
        yield {"seed": (json.loads(seed.stdout), json.loads(seed_report.stdout)),
               "own": (json.loads(own.stdout), json.loads(own_report.stdout)),
               "telemetry": workdir / "telemetry.jsonl", "env": env}
    finally:
        sim(["down", "--workdir", str(workdir)], env, timeout=60)


def lines_of(report: dict, telemetry: Path, until: float | None = None) -> tuple[dict, list[dict]]:
    """The run's metrics and the telemetry lines in its window (up to `until`, when the next run began)."""
    metrics = json.loads(Path(report["files"]["metrics"]).read_text())
    start, end = metrics["run"]["window"]
    end = min(end, until) if until is not None else end
    lines = [json.loads(l) for l in telemetry.read_text().splitlines()]
    return metrics, [l for l in lines if start <= l["at"] <= end]


def one_line_per_invocation(lines: list[dict]) -> None:
    """A process runs one invocation at a time: no two of its lines may cover the same moment (a
    second line for the same invocation, sim's own beside the bundle's, would)."""
    by_pid = {}
    for line in lines:
        by_pid.setdefault(line["pid"], []).append((line["at"] - line["duration_ms"] / 1000, line["at"]))
    for pid, spans in by_pid.items():
        spans.sort()
        for (_, ended), (began, _) in zip(spans, spans[1:]):
            assert began >= ended - 0.002, f"pid {pid}: two lines for one invocation ({spans})"


def test_the_seed_plans_run_is_reported_from_the_bundles_telemetry(runs):
    demo, report = runs["seed"]
    assert demo["pass"] is True
    assert contract.problems(report, contract.Report) == []
    assert report["pipeline"]["name"] == "seed-plan" and report["pipeline"]["own"] is False
    assert report["run"]["name"] == Path(demo["run_dir"]).name and report["run"]["telemetry_lines"] > 0
    per_file = report["measured"]["requests_per_file"]
    assert per_file["files"] == FILES
    for service in SERVICES:
        assert per_file["by_service"].get(service, 0) > 0, service
    assert per_file["by_operation"]["dynamodb.PutItem"] >= 1  # the plan's track_file: one put per landed file
    assert report["measured"]["per_file"]["dynamodb_write_units"] > 0
    assert {n["figure"] for n in report["not_measured"]} >= {"end_to_end"}


def test_the_bundle_wrote_one_line_per_builder_invocation_and_converter_run(runs):
    demo, report = runs["seed"]
    own_started = json.loads((Path(runs["own"][0]["run_dir"]) / "run.json").read_text())["started_at"]
    metrics, lines = lines_of(report, runs["telemetry"], until=own_started)
    one_line_per_invocation(lines)
    converted = metrics["glue"]["engine"]["runs"]  # the job runs the engine started in the window
    assert converted == sum(demo["manifests_by_status"].values()) > 0
    assert sum(1 for l in lines if l["component"] == "converter") == converted
    records = sum(l["records"] for l in lines if l["component"] == "builder" and l["kind"] == "sqs")
    assert FILES <= records < 2 * FILES  # every notification once (and S3's test event)


def test_sims_own_demo_still_writes_one_line_per_invocation(runs):
    demo, report = runs["own"]
    assert demo["pass"] is True and report["pipeline"]["own"] is True and report["not_measured"] == []
    metrics, lines = lines_of(report, runs["telemetry"])
    one_line_per_invocation(lines)
    converted = metrics["glue"]["engine"]["runs"]
    assert converted == sum(demo["manifests_by_status"].values()) > 0
    assert sum(1 for l in lines if l["component"] == "converter") == converted
    records = sum(l["records"] for l in lines if l["component"] == "builder" and l["kind"] == "sqs")
    assert FILES <= records < 2 * FILES


def test_a_run_is_not_reported_as_another_pipeline(runs):
    _, own_report = runs["own"]
    wrong = sim(["report", "--run", own_report["run"]["name"], "--pipeline", str(SEED_PLAN)], runs["env"])
    assert wrong.returncode == 1
    assert "ran the pipeline 'ingest'" in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1
