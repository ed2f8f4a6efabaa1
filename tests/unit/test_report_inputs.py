"""Prices and quotas as data, and the user's overrides."""

import pytest

from sim.core.errors import SimError
from sim.report import inputs
from sim.report.data import load_prices, load_quotas


def test_every_row_names_its_source_and_date():
    for table in (load_prices(), load_quotas()):
        for row in table.values():
            assert row["source"] and row["date"] and row["status"] and row["unit"], row["id"]


def test_the_tables_carry_the_documented_figures():
    prices, quotas = load_prices(), load_quotas()
    assert prices["dynamodb.wru"]["value"] == 0.625 and prices["glue.flex_dpu_hour"]["value"] == 0.29
    assert quotas["glue.job_max_concurrent_runs.default"]["value"] == 1
    assert quotas["sqs.standard.throughput"]["value"] is None
    assert quotas["sfn.start_execution_refill"]["value"] == 300


def test_deployed_glue_concurrency_comes_from_the_wiring():
    from sim.infra import description
    from sim.infra.spec import Settings, Wiring

    deployed = Wiring("000000000000", "us-east-1", Settings(target="aws")).glue_job()["ExecutionProperty"]
    assert inputs.build().quota("glue.job_max_concurrent_runs") == deployed["MaxConcurrentRuns"]
    assert deployed["MaxConcurrentRuns"] == description.load().converter.max_concurrent_runs == 10


def test_overrides_from_a_file_and_flags_flags_win(tmp_path):
    f = tmp_path / "acct.toml"
    f.write_text('[params]\nglue_run_minutes = 2\n[prices]\n"glue.dpu_hour" = 0.5\n[quotas]\n"glue.account_concurrent_runs" = 200\n')
    inp = inputs.build(str(f), params={"glue_run_minutes": 3}, quotas={"lambda.concurrency": 400})
    assert inp.params.glue_run_minutes == 3
    assert inp.price("glue.dpu_hour") == 0.5
    assert inp.quota("glue.account_concurrent_runs") == 200 and inp.quota("lambda.concurrency") == 400
    assert inp.prices["glue.dpu_hour"]["status"] == "overridden"


def test_unknown_names_and_bad_values_are_one_line_errors(tmp_path):
    with pytest.raises(SimError, match="unknown price id"):
        inputs.build(prices={"glue.dpu_hr": 1})
    with pytest.raises(SimError, match="unknown parameter"):
        inputs.build(params={"glue_minutes": 1})
    with pytest.raises(SimError, match="ID=VALUE"):
        inputs.parse_assignments(["glue.dpu_hour"], "price")
    with pytest.raises(SimError, match="not a number"):
        inputs.parse_assignments(["glue.dpu_hour=cheap"], "price")
    with pytest.raises(SimError, match="worker type"):
        inputs.build(params={"glue_worker_type": "G.3X"})
    with pytest.raises(SimError, match="not found"):
        inputs.build(str(tmp_path / "missing.json"))
    assert inputs.parse_assignments(["glue.account_concurrent_runs=none", "s3.put=0.006"], "quota") == {
        "glue.account_concurrent_runs": None, "s3.put": 0.006}


def test_peak_hour_scales_with_the_daily_load():
    assert inputs.Params(files_per_day=16000).peak_hour_files == 2000
    assert inputs.Params(files_per_day=16000, peak_hour_files=3000).peak_hour_files == 3000
    with pytest.raises(SimError):
        inputs.Params(files_per_day=24000, peak_hour_files=100)


def test_the_deployed_settings_come_from_the_runs_pipeline_and_flags_still_win(tmp_path):
    import shutil
    from pathlib import Path

    from sim.infra import description

    folder = tmp_path / "mine"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "seed-plan", folder)
    toml = folder / "pipeline.toml"
    text = toml.read_text()
    for old, new in (("memory = 512", "memory = 1024"), ("batch_size = 10", "batch_size = 7"),
                     ("max_concurrent_runs = 10", "max_concurrent_runs = 3"), ("max_capacity = 0.0625", "max_capacity = 1.0")):
        assert old in text, old
        text = text.replace(old, new)
    toml.write_text(text)
    mine = inputs.build(pipeline=description.load(toml))
    own = inputs.build()
    assert (mine.params.builder_memory_mb, mine.params.esm_batch_size, mine.params.glue_max_capacity) == (1024, 7, 1.0)
    assert mine.quota("glue.job_max_concurrent_runs") == 3
    assert (own.params.builder_memory_mb, own.params.esm_batch_size, own.quota("glue.job_max_concurrent_runs")) == (512, 10, 10)
    assert mine.params.alarms == 3  # sim makes DLQ depth, builder errors and failed workflows; it describes none
    assert mine.overridden == []
    flagged = inputs.build(params={"builder_memory_mb": 2048}, pipeline=description.load(toml))
    assert flagged.params.builder_memory_mb == 2048 and flagged.overridden == ["param builder_memory_mb"]
