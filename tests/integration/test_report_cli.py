"""`sim report --json` on a real demo run on the embedded engine: the contract, every component,
every optimization and claim ruled on, and the files a person reads."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sim.core import contract

SERVICES = ("S3", "SQS", "Lambda", "DynamoDB", "Step Functions", "Glue")
COST_COMPONENTS = ("Lambda", "Glue", "DynamoDB", "S3 storage", "S3 requests", "SQS", "Step Functions", "CloudWatch Logs")


def sim(args, env, timeout=240):
    proc = subprocess.run([sys.executable, "-m", "sim", *args], env=env, capture_output=True, text=True, timeout=timeout)
    return proc


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    env = {k: v for k, v in os.environ.items() if k != "SIM_ENDPOINT"}
    env["SIM_REPORTS_DIR"] = str(base / "reports")
    workdir = str(base / "work")
    try:
        demo = sim(["demo", "--files", "60", "--file-size", "16KB", "--batch-size", "20", "--workdir", workdir, "--json"], env)
        assert demo.returncode == 0, demo.stderr[-2000:]
        result = json.loads(demo.stdout)
        report = sim(["report", "--json"], env)
        assert report.returncode == 0, report.stderr[-2000:]
        yield result, json.loads(report.stdout), env
    finally:
        sim(["down", "--workdir", workdir], env, timeout=60)


def test_contract_keys(demo_run):
    demo, r, _ = demo_run
    assert contract.problems(r, contract.Report) == []
    assert contract.problems(demo, contract.Demo) == []
    assert set(r) >= {"capacity", "cost", "seed_claims"}
    assert set(r["capacity"]) >= {"rows", "first_bottleneck"}
    assert set(r["cost"]) >= {"monthly_total_usd", "rows", "optimizations"}
    for row in r["capacity"]["rows"]:
        assert set(row) >= {"component", "quota", "utilization"}


def test_every_service_has_utilization_today_and_at_600x(demo_run):
    _, r, _ = demo_run
    for service in SERVICES:
        rows = [row for row in r["capacity"]["rows"] if row["component"] == service and row["quota"] is not None]
        assert rows, service
        for row in rows:
            assert isinstance(row["utilization"]["1x"], float) and isinstance(row["utilization"]["600x"], float)
            assert row["utilization"]["600x"] > row["utilization"]["1x"] > 0
    first = r["capacity"]["first_bottleneck"]
    assert first["component"] in SERVICES and first["multiple_of_today"] > 0
    assert first["multiple_of_today"] == min(row["saturates_at_multiple"] for row in r["capacity"]["rows"]
                                             if row["saturates_at_multiple"] is not None)


def test_every_component_is_priced_and_every_optimization_and_claim_ruled_on(demo_run):
    _, r, _ = demo_run
    priced = {row["component"]: row["monthly_usd"] for row in r["cost"]["rows"]}
    for component in COST_COMPONENTS:
        assert isinstance(priced[component], (int, float)) and priced[component] >= 0, component
    assert r["cost"]["monthly_total_usd"] == pytest.approx(sum(priced.values()), abs=0.05)
    names = {o["name"] for o in r["cost"]["optimizations"]}
    assert {"Glue Flex", "G.0.25X workers", "S3 Intelligent-Tiering"} <= names
    for o in r["cost"]["optimizations"]:
        assert isinstance(o["valid"], bool) and o["note"] and isinstance(o["monthly_saving_usd"], (int, float))
    claims = r["seed_claims"]
    assert {c["verdict"] for c in claims} <= {"holds", "wrong", "cannot tell"}
    texts = " ".join(c["claim"] for c in claims)
    for needle in ("$270", "$220/month", "600x", "SQS", "Lambda", "DynamoDB", "Glue", "Step Functions", "Intelligent-Tiering"):
        assert needle in texts, needle
    for c in claims:
        assert set(c) >= {"claim", "seed_value", "model_value", "verdict"} and c["reason"]


def test_measured_from_the_run(demo_run):
    demo, r, _ = demo_run
    m = r["measured"]
    assert m["files_landed"] == 60 and m["manifests"] == 3
    assert m["per_file"]["dynamodb_write_units"] > 0
    assert m["conversion"]["runs"] == 3 and m["conversion"]["peak_rss_mb"] > 0
    assert m["transitions_per_execution"] and m["transitions_per_execution"] >= 5
    assert r["run"]["validated"] is True and r["run"]["name"] == Path(demo["run_dir"]).name


def test_files_for_people(demo_run):
    _, r, env = demo_run
    files = r["files"]
    html = Path(files["report_html"]).read_text()
    assert "<svg" in html and "claims</h2>" in html and "Optimizations</h3>" in html
    assert Path(files["report_md"]).read_text().startswith("# Capacity and cost")
    assert json.loads(Path(files["report_json"]).read_text())["cost"]["monthly_total_usd"] == r["cost"]["monthly_total_usd"]
    assert set(files["charts"]) >= {"utilization", "cost"}
    md = Path(files["report_md"]).read_text()
    for path in files["charts"].values():
        assert ET.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"
        assert f"]({Path(path).name})" in md  # report.md links the file beside it
    assert Path(files["metrics"]).exists()


def test_overrides_and_named_runs(demo_run):
    _, r, env = demo_run
    again = sim(["report", "--run", r["run"]["name"], "--json", "--glue-max-concurrent-runs", "1",
                 "--files-per-day", "16000", "--price", "glue.dpu_hour=0.88"], env)
    assert again.returncode == 0, again.stderr[-2000:]
    r2 = json.loads(again.stdout)
    assert r2["capacity"]["first_bottleneck"]["multiple_of_today"] < r["capacity"]["first_bottleneck"]["multiple_of_today"]
    glue = lambda rep: next(x["monthly_usd"] for x in rep["cost"]["rows"] if x["component"] == "Glue")  # noqa: E731
    assert glue(r2) == pytest.approx(4 * glue(r), rel=0.02)  # twice the runs at twice the price
    bad = sim(["report", "--run", "no-such-run"], env)
    assert bad.returncode == 1 and "no run named" in bad.stderr
