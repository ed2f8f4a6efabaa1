"""The model against a small recorded run (tests/data/predict-run: `sim load --profile burst
--multiplier 120 --duration 20 --file-size 32KB` on the embedded engine, 241 files, 2 manifests):
the record gives back the run's own figures, the replay reproduces them, and `--predict` writes a
document that keeps its contract."""

import json
import shutil
from pathlib import Path

import pytest

from sim.core import contract
from sim.core.errors import SimError
from sim.report import inputs as inputs_mod
from sim.report.predict import build, calibrate, recorded

RUN = Path(__file__).resolve().parents[1] / "data" / "predict-run"


def test_the_record_gives_back_the_runs_own_figures():
    rec = recorded.read(RUN)
    load = json.loads((RUN / "load.json").read_text())
    figures = rec.figures()
    assert figures["files"] == load["files_uploaded"] == 241
    assert figures["end_to_end_s"]["p50"] == pytest.approx(load["end_to_end_s"]["p50"], abs=0.02)
    assert figures["end_to_end_s"]["p95"] == pytest.approx(load["end_to_end_s"]["p95"], abs=0.02)
    assert figures["max_queue_depth"] == load["max_queue_depth"]
    assert figures["max_pending_files"] == load["max_pending_files"]


def test_the_replay_reproduces_the_recorded_run():
    block, result, rec = calibrate.calibrate(RUN)
    assert result.complete
    assert sorted(len(m.files) for m in result.manifests) == sorted(int(m["files"]) for m in rec.manifests) == [41, 200]
    for key in ("drain_s", "end_to_end_p50_s", "end_to_end_p95_s", "max_pending_files"):
        assert abs(block["errors"][key]) <= calibrate.TOLERANCES[key], (key, block["recorded"][key], block["model"][key])
    # The queue held at most one message at a sample here: a relative tolerance means nothing at that
    # size, so the replay must be within one message of it.
    assert abs(block["model"]["max_queue_depth"] - block["recorded"]["max_queue_depth"]) <= 1
    assert block["measured"]["glue_slots"] == 2


def test_a_run_without_the_record_is_one_clear_error(tmp_path):
    shutil.copy(RUN / "run.json", tmp_path / "run.json")
    shutil.copy(RUN / "timeline.csv", tmp_path / "timeline.csv")
    with pytest.raises(SimError, match="files.csv, manifests.csv, telemetry.jsonl"):
        recorded.read(tmp_path)


def test_predict_writes_a_document_that_keeps_its_contract(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    shutil.copytree(RUN, reports / "load-fixture")
    monkeypatch.setenv("SIM_REPORTS_DIR", str(reports))
    doc = build.predict("burst", inputs_mod.build(), "plan", multiplier=600, file_size=3_670_016)
    assert contract.problems(doc, contract.Predict) == []
    assert doc["calibration"]["run"] == "load-fixture"
    # A queue of one message against two misses 25%: the verdict says the prediction is unchecked.
    assert not doc["pass"] and doc["calibration"]["misses"] == ["max_queue_depth"]
    assert doc["verdict"].startswith("NOT CALIBRATED") and "max_queue_depth +100%" in doc["verdict"]
    pr = doc["prediction"]
    assert pr["files"] == 3612 and pr["settings"]["max_concurrent_runs"] == 1
    # one Glue run at a time: runs queue behind each other, the plan's default saturates first
    assert pr["glue"]["at_once_max"] == 1
    assert pr["first_saturated"]["resource"].startswith("Glue concurrent runs")
    assert doc["compared_with"]["settings"] == "deployed"
    assert doc["compared_with"]["drain_before_flush_s"] < pr["drain_before_flush_s"]
    for path in (doc["files"]["json"], doc["files"]["md"], doc["files"]["html"], *doc["files"]["charts"].values()):
        assert Path(path).exists()
    assert "<svg" in Path(doc["files"]["html"]).read_text()


def test_bad_predict_options_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_REPORTS_DIR", str(tmp_path))
    with pytest.raises(SimError, match="daily or burst"):
        build.predict("weekly", inputs_mod.build())
    with pytest.raises(SimError, match="no recorded `sim load --profile daily` run"):
        build.predict("daily", inputs_mod.build())


def test_the_command_prints_the_json_and_fails_when_uncalibrated(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sim.cli import build_app

    reports = tmp_path / "reports"
    shutil.copytree(RUN, reports / "load-fixture")
    monkeypatch.setenv("SIM_REPORTS_DIR", str(reports))
    res = CliRunner().invoke(build_app(), ["report", "--predict", "burst", "--run", "load-fixture", "--sweep",
                                           "--file-size", "1MB", "--json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert contract.problems(doc, contract.Predict) == []
    assert doc["prediction"]["file_size_bytes"] == 2**20 and doc["prediction"]["settings"]["name"] == "deployed"
    labels = {r["setting"] for r in doc["sweep"]["rows"]}
    assert {"Glue MaxConcurrentRuns", "files per manifest (batch size)", "SQS mapping MaximumConcurrency"} <= labels
    assert doc["sweep"]["moves_drain_most"] in labels
    bad = CliRunner().invoke(build_app(), ["report", "--predict", "burst", "--settings", "cheapest"])
    assert bad.exit_code != 0 and "deployed or plan" in bad.output


def test_the_latest_recorded_run_of_the_profile_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_REPORTS_DIR", str(tmp_path))
    for name, profile, started in (("old", "burst", 1.0), ("new", "burst", 3.0), ("day", "daily", 5.0), ("bare", "burst", 9.0)):
        shutil.copytree(RUN, tmp_path / name)
        info = json.loads((RUN / "run.json").read_text())
        (tmp_path / name / "run.json").write_text(json.dumps({**info, "profile": profile, "started_at": started}))
    (tmp_path / "bare" / "manifests.csv").unlink()  # recorded before the model's record existed
    assert build.find_run("burst", None).name == "new"
    assert build.find_run("daily", None).name == "day"
    assert build.find_run("daily", "old").name == "old"
