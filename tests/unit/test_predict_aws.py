"""The model's AWS parameters: the deployed settings and the plan's, the quotas they read, the
load's schedule, and the converter's speed taken from a run's CPU time when it has it."""

import pytest

from sim.core.errors import SimError
from sim.infra.spec import deployed_settings
from sim.report import inputs as inputs_mod
from sim.report.predict import aws
from sim.report.predict.recorded import Recorded

WORK = aws.Work(batch_own_s=0.01, manifest_own_s=0.05, manifest_calls_fixed=10, converter_mb_per_s=40.0, converter_basis="test")


def test_deployed_and_plan_settings():
    inp = inputs_mod.build()
    deployed, plan = aws.setting("deployed", inp), aws.setting("plan", inp)
    s = deployed_settings("aws")
    assert (deployed.max_concurrent_runs, deployed.files_per_manifest, deployed.poll_s) == (
        s.glue_max_concurrent_runs, s.batch_size, s.poll_seconds)
    assert plan.max_concurrent_runs == 1 and plan.files_per_manifest == 200
    with pytest.raises(SimError, match="deployed or plan"):
        aws.setting("cheapest", inp)


def test_the_burst_on_aws_reads_the_quotas_and_the_workflows_retry():
    inp = inputs_mod.build(quotas={"glue.pythonshell_startup_s": 12, "esm.sqs.initial_batches": 3})
    st = aws.with_changes(aws.setting("deployed", inp), maximum_concurrency=50)
    p = aws.params_for("burst", 600, 3_670_016, st, WORK, inp)
    assert len(p.arrivals_s) == 3612 and max(p.arrivals_s) <= 70.0
    assert (p.esm.initial, p.esm.maximum, p.esm.scale_per_min) == (3, 50, 300)
    assert p.glue.startup_s == 12 and p.glue.slots == 10 and p.glue.account_slots == 50
    retry = aws.deployed_capacity_retry()  # from the deployed workflow-glue.asl.json
    assert p.glue.retry_interval_s == retry["IntervalSeconds"] == 30 and p.glue.retry_jitter
    assert p.glue.run_s(0, 40_000_000, 0.0) == pytest.approx(1.0)
    assert p.start.bucket == 1300 and p.start.refill_per_s == 300
    assert p.sort_keys[1].startswith("incoming/2026-11-25/")


def test_the_daily_profile_is_a_real_day_and_a_huge_load_is_refused():
    inp = inputs_mod.build()
    times, shape = aws.arrivals("daily", 1.0)
    assert len(times) == 8000 and 86_000 < max(times) <= 86_400
    with pytest.raises(SimError, match="smaller --multiplier"):
        aws.arrivals("daily", 600.0)
    assert aws.params_for("daily", 2.0, 1000, aws.setting("plan", inp), WORK, inp).glue.slots == 1


def _rec(telemetry, manifests):
    return Recorded("r", {}, 0.0, [], manifests, [], telemetry)


def test_the_converter_speed_is_per_cpu_second_when_the_run_recorded_it():
    inp = inputs_mod.build()
    manifests = [{"manifest_id": "m", "bytes": 100_000_000}]
    batch = {"component": "builder", "kind": "sqs", "records": 1, "duration_ms": 50.0, "cpu_ms": 10.0,
             "calls": {"dynamodb.PutItem": 1, "dynamodb.Query": 1}, "call_ms": {"dynamodb.PutItem": 20.0}}
    conv = {"component": "converter", "manifest_id": "m", "duration_ms": 10_000.0, "cpu_ms": 2_000.0}
    work = aws.measured_work(_rec([batch, conv], manifests), inp)
    assert work.converter_mb_per_s == pytest.approx(50.0) and "CPU-second" in work.converter_basis
    assert work.batch_own_s == pytest.approx(0.010 * 1769 / 512)  # CPU time at 512 MB's share of a vCPU
    wall = aws.measured_work(_rec([batch, {k: v for k, v in conv.items() if k != "cpu_ms"}], manifests), inp)
    assert wall.converter_mb_per_s == pytest.approx(10.0) and "wall-clock" in wall.converter_basis
