"""The capacity, cost, optimization and claim models against hand-computed figures.

A synthetic profile stands in for a run: its per-batch, per-manifest and per-flush work is set by
hand, so every expectation below is arithmetic on the price and quota tables, not a replay of the code.
"""

import math

import pytest

from sim.report import capacity, claims, cost, inputs, optimizations
from sim.report.unit_work import UnitWork, put_requests


def make_profile(inp, batch_ms=(100.0, 10.0), manifest_ms=(20.0, 1.0), peak_rss_mb=160.0, measured_size=None):
    """Per batch: 1 Query + 1 PutItem per record, 2 WRU per record; per manifest: claims of 2 WRU per file."""
    return UnitWork(
        params=inp.params,
        batch={"duration_ms": {"fixed": batch_ms[0], "per_record": batch_ms[1]},
               "dynamodb.Query": {"fixed": 1.0, "per_record": 0.0},
               "dynamodb.PutItem": {"fixed": 0.0, "per_record": 1.0},
               "write_units": {"fixed": 0.0, "per_record": 2.0},
               "read_units": {"fixed": 0.5, "per_record": 0.0}},
        manifest={"per_file": {"calls": {"dynamodb.UpdateItem": 1.0}, "write_units": 2.0, "read_units": 0.0,
                               "duration_ms": manifest_ms[1]},
                  "fixed": {"calls": {"dynamodb.PutItem": 2.0, "s3.PutObject": 1.0, "stepfunctions.StartExecution": 1.0},
                            "write_units": 4.0, "read_units": 1.0, "duration_ms": manifest_ms[0]}},
        converter_per_file_gets=1.0, converter_fixed_calls={"s3.GetObject": 1.0, "dynamodb.UpdateItem": 1.0},
        converter_units=(1.0, 0.0), flush={"dynamodb.Scan": 2.0, "duration_ms": 20.0, "write_units": 0.0, "read_units": 1.0},
        parquet_ratio=0.2, transitions_local=6.0, info_log_bytes_per_record=0.0, info_log_bytes_per_batch=100.0,
        debug_log_bytes_per_file=100.0, peak_rss_mb=peak_rss_mb, measured_file_size=measured_size)


def model_of(**params):
    inp = inputs.build(params=params)
    prof = make_profile(inp)
    return inp, prof, capacity.model(inp, prof)


def row(cap, quota_id):
    return next(r for r in cap["rows"] if r["quota_id"] == quota_id)


# -- capacity ----------------------------------------------------------------------------------

def test_glue_concurrency_is_littles_law_on_the_peak_hour():
    inp, _, cap = model_of(glue_run_minutes=4)
    manifests_per_s = 1000 / 3600 / 200
    assert row(cap, "glue.job_max_concurrent_runs")["demand"]["1x"] == pytest.approx(manifests_per_s * 240)
    assert row(cap, "glue.job_max_concurrent_runs")["utilization"]["600x"] == pytest.approx(600 * manifests_per_s * 240 / 10)


def test_saturation_multiple_of_a_linear_demand_is_quota_over_demand():
    m = capacity.saturation_multiple(lambda r: 3.0 * r, 10.0, 0.5)
    assert m == pytest.approx(10.0 / 1.5, rel=1e-5)
    assert capacity.saturation_multiple(lambda r: 0.0, 10.0, 0.5) is None
    assert capacity.saturation_multiple(lambda r: r, None, 0.5) is None


def test_first_bottleneck_follows_the_glue_job_limit():
    _, _, deployed = model_of(glue_run_minutes=4)
    first = deployed["first_bottleneck"]
    assert first["component"] == "Glue"
    assert first["multiple_of_today"] == pytest.approx(10 / ((1000 / 3600 / 200) * 240), rel=1e-4)  # 30x
    inp = inputs.build(params={"glue_run_minutes": 4}, quotas={"glue.job_max_concurrent_runs": 1})
    at_default = capacity.model(inp, make_profile(inp))["first_bottleneck"]
    assert at_default["multiple_of_today"] == pytest.approx(3.0, rel=1e-4)


def test_short_glue_runs_move_the_bottleneck_elsewhere():
    _, _, cap = model_of(glue_run_minutes=0.25)
    first = cap["first_bottleneck"]
    glue_mult = row(cap, "glue.job_max_concurrent_runs")["saturates_at_multiple"]
    assert glue_mult == pytest.approx(480, rel=1e-4)
    assert first["multiple_of_today"] <= glue_mult
    assert first["multiple_of_today"] == min(r["saturates_at_multiple"] for r in cap["rows"] if r["saturates_at_multiple"])


def test_a_standard_queue_has_no_throughput_quota_and_unlimited_rows_never_saturate():
    inp, prof, _ = model_of()
    assert inp.quota("sqs.standard.throughput") is None
    inp2 = inputs.build(quotas={"glue.job_max_concurrent_runs": None, "glue.account_concurrent_runs": None})
    cap = capacity.model(inp2, make_profile(inp2))
    assert row(cap, "glue.job_max_concurrent_runs")["saturates_at_multiple"] is None
    assert row(cap, "glue.job_max_concurrent_runs")["utilization"]["1x"] is None
    assert cap["first_bottleneck"]["component"] != "Glue"


def test_doubling_the_load_doubles_linear_demands():
    _, _, one = model_of(files_per_day=8000)
    _, _, two = model_of(files_per_day=16000)
    for qid in ("s3.put_per_prefix", "sfn.start_execution_refill", "glue.job_max_concurrent_runs"):
        assert row(two, qid)["utilization"]["1x"] == pytest.approx(2 * row(one, qid)["utilization"]["1x"])


def test_batches_fill_with_load_between_one_and_ten_records():
    inp, prof, _ = model_of()
    assert prof.records_per_batch(0.01) == 1.0
    assert prof.records_per_batch(10_000) == 10
    mid = prof.records_per_batch(20)
    assert 1 < mid < 10


def test_aws_side_durations_are_at_least_calls_times_latency():
    inp = inputs.build(params={"aws_call_ms": 50})
    prof = make_profile(inp, batch_ms=(1.0, 0.0))
    # one Query + ten PutItem calls at 50 ms each
    assert prof.batch_ms(10) == pytest.approx(11 * 50)
    # 200 claims + 4 fixed calls
    assert prof.manifest_ms(200) == pytest.approx((200 + 4) * 50)


# -- cost --------------------------------------------------------------------------------------

def test_glue_python_shell_cost_by_hand():
    inp, prof, _ = model_of(glue_run_minutes=4)
    c = cost.model(inp, prof)
    glue = next(r for r in c["rows"] if r["component"] == "Glue")["monthly_usd"]
    assert glue == pytest.approx(40 * 30 * (240 / 3600) * 0.0625 * 0.44, abs=0.01)  # $2.20


def test_glue_bills_a_minute_at_least():
    inp = inputs.build(params={"glue_run_minutes": 0.25})
    assert cost.glue_run_cost(inp, 1.0) == pytest.approx(60 / 3600 * 0.44)


def test_a_price_override_scales_its_component_only():
    inp, prof, _ = model_of()
    base = {r["component"]: r["monthly_usd"] for r in cost.model(inp, prof)["rows"]}
    inp2 = inputs.build(prices={"glue.dpu_hour": 0.88})
    doubled = {r["component"]: r["monthly_usd"] for r in cost.model(inp2, make_profile(inp2))["rows"]}
    assert doubled["Glue"] == pytest.approx(2 * base["Glue"], abs=0.01)
    assert doubled["S3 storage"] == base["S3 storage"]


def test_storage_accumulates_month_by_month_unless_a_lifecycle_rule_expires_it():
    gib = 1024 ** 3
    assert cost.stored_gb_month(gib, 1) == pytest.approx(15.0)  # half a month on average
    assert cost.stored_gb_month(gib, 12) == pytest.approx(345.0)
    assert cost.stored_gb_month(gib, 12, retention_days=30) == pytest.approx(30.0)


def test_s3_storage_cost_of_month_one_by_hand():
    inp, prof, _ = model_of(storage_month=1)
    c = cost.model(inp, prof)
    daily = 8000 * 3.5 * 2**20
    expected = 15 * daily * (1 + 0.2) / 2**30 * 0.023  # NDJSON + Parquet at 20%
    assert next(r for r in c["rows"] if r["component"] == "S3 storage")["monthly_usd"] == pytest.approx(expected, abs=0.01)


def test_step_functions_transitions_follow_the_polling_shape():
    inp, prof, _ = model_of(glue_run_minutes=4)
    assert prof.transitions_per_execution() == 3 + 3 * 8  # 240 s / 30 s polls
    c = cost.model(inp, prof)
    sfn = next(r for r in c["rows"] if r["component"] == "Step Functions")["monthly_usd"]
    assert sfn == pytest.approx(40 * 30 * 27 / 1000 * 0.025, abs=0.01)


def test_multipart_uploads_count_every_part():
    assert put_requests(3.5 * 2**20) == 1
    assert put_requests(20 * 2**20) == math.ceil(20 / 8) + 2


def test_free_tier_only_lowers_the_bill():
    inp, prof, _ = model_of()
    inp2 = inputs.build(params={"free_tier": True})
    assert cost.model(inp2, make_profile(inp2))["monthly_total_usd"] <= cost.model(inp, prof)["monthly_total_usd"]


# -- optimizations ----------------------------------------------------------------------------

def test_validity_rules():
    assert optimizations.flex_valid("G.1X", "3.0") and optimizations.flex_valid("G.2X", "4.0")
    assert not optimizations.flex_valid("G.1X", "2.0")
    assert not optimizations.flex_valid("pythonshell", "3.0")
    assert not optimizations.g025x_valid(streaming=False)
    assert optimizations.intelligent_tiering_valid(128 * 1024, 128)
    assert not optimizations.intelligent_tiering_valid(64 * 1024, 128)
    assert optimizations.python_shell_fits(900) and not optimizations.python_shell_fits(1500)
    assert optimizations.python_shell_fits(None) is None


def _opts(**params):
    inp = inputs.build(params=params)
    prof = make_profile(inp)
    return {o["name"]: o for o in optimizations.model(inp, prof, cost.model(inp, prof), validated=True)}, inp, prof


def test_flex_saves_a_third_of_a_spark_glue_bill_only():
    shell, _, _ = _opts()
    assert not shell["Glue Flex"]["valid"] and shell["Glue Flex"]["monthly_saving_usd"] == 0
    spark, inp, prof = _opts(glue_worker_type="G.1X", glue_workers=10)
    glue = next(r for r in cost.model(inp, prof)["rows"] if r["component"] == "Glue")["monthly_usd"]
    assert spark["Glue Flex"]["valid"]
    assert spark["Glue Flex"]["monthly_saving_usd"] == pytest.approx(glue * (1 - 0.29 / 0.44), abs=0.02)


def test_intelligent_tiering_saves_nothing_in_month_one_and_nothing_for_small_files():
    first, _, _ = _opts(storage_month=1)
    assert first["S3 Intelligent-Tiering"]["monthly_saving_usd"] <= 0  # nothing aged 30 days; the fee remains
    later, _, _ = _opts(storage_month=12)
    assert later["S3 Intelligent-Tiering"]["monthly_saving_usd"] > 0
    small, _, _ = _opts(file_size_bytes=64 * 1024, storage_month=12)
    assert not small["S3 Intelligent-Tiering"]["valid"] and small["S3 Intelligent-Tiering"]["monthly_saving_usd"] == 0


def test_lifecycle_rule_saving_is_the_storage_beyond_retention():
    opts, inp, _ = _opts(storage_month=12, landing_retention_days=30)
    daily = 8000 * 3.5 * 2**20 / 2**30
    expected = (345 - 30) * daily * 0.023
    name = next(n for n in opts if n.startswith("Lifecycle"))
    assert opts[name]["monthly_saving_usd"] == pytest.approx(expected, abs=0.05)


def test_python_shell_is_invalid_when_the_converter_needs_more_than_a_gigabyte():
    inp = inputs.build()
    prof = make_profile(inp, peak_rss_mb=1500)
    opts = {o["name"]: o for o in optimizations.model(inp, prof, cost.model(inp, prof), validated=True)}
    assert not opts["Python-shell Glue job at 0.0625 DPU"]["valid"]


def test_overlapping_storage_savings_count_once():
    opts = [{"name": "S3 Intelligent-Tiering", "valid": True, "monthly_saving_usd": 100.0},
            {"name": "Lifecycle rule: expire", "valid": True, "monthly_saving_usd": 150.0},
            {"name": "Glue Flex", "valid": False, "monthly_saving_usd": 50.0},
            {"name": "Arm", "valid": True, "monthly_saving_usd": 1.0}]
    assert optimizations.total_valid_saving(opts) == 151.0
    opts.append({"name": "Python-shell Glue job at 0.0625 DPU", "valid": True, "monthly_saving_usd": 90.0, "already_applied": True})
    assert optimizations.total_valid_saving(opts) == 151.0
    glue = [{"name": "Glue Flex", "valid": True, "monthly_saving_usd": 120.0},
            {"name": "Python-shell Glue job at 0.0625 DPU", "valid": True, "monthly_saving_usd": 350.0}]
    assert optimizations.total_valid_saving(glue) == 350.0


# -- claims ------------------------------------------------------------------------------------

def test_judge_tolerances():
    assert claims.judge(5, 5, 6, rel=0.25) == claims.HOLDS
    assert claims.judge(5, 5, 7, rel=0.25) == claims.WRONG
    assert claims.judge(2, 4, 3.3, rel=0) == claims.HOLDS
    assert claims.judge(1, 1, None) == claims.CANNOT_TELL


def _metrics():
    return {"glue": {"duration_ms": {"mean": 1300.0}}, "bytes_landed": 13_000_000, "manifests": 1,
            "lambda": {"builder": {"duration_ms": {"p50": 180.0, "max": 460.0}}}}


def _claims(**params):
    inp = inputs.build(params=params)
    prof = make_profile(inp)
    cap = capacity.model(inp, prof)
    c = cost.model(inp, prof)
    opts = optimizations.model(inp, prof, c, True)
    return {x["claim"]: x for x in claims.model(cap, c, opts, _metrics(), inp)}, cap


def test_headroom_claim_is_judged_by_the_first_bottleneck():
    found, cap = _claims(glue_run_minutes=4)
    claim = found["600x headroom (can handle up to 4.8M files/day)"]
    assert cap["first_bottleneck"]["multiple_of_today"] < 600
    assert claim["verdict"] == claims.WRONG
    inp = inputs.build(quotas={"glue.job_max_concurrent_runs": 1e6, "glue.account_concurrent_runs": 1e6,
                               "builder.lease_per_date": 1e6, "esm.sqs.initial_batches": 1e6,
                               "dynamodb.partition_wcu": 1e6, "dynamodb.new_table_writes": 1e6})
    prof = make_profile(inp)
    cap2 = capacity.model(inp, prof)
    c = cost.model(inp, prof)
    found2 = {x["claim"]: x for x in claims.model(cap2, c, optimizations.model(inp, prof, c, True), _metrics(), inp)}
    assert cap2["first_bottleneck"]["multiple_of_today"] >= 600
    assert found2["600x headroom (can handle up to 4.8M files/day)"]["verdict"] == claims.HOLDS


def test_the_plans_glue_bill_holds_only_for_a_six_dpu_spark_job():
    shell, _ = _claims()
    assert shell["Glue (40 jobs/day) ~$220/month"]["verdict"] == claims.WRONG
    spark, _ = _claims(glue_worker_type="G.1X", glue_workers=6)  # 40 x 30 x 4 min x 6 DPU x $0.44 = $211
    assert spark["Glue (40 jobs/day) ~$220/month"]["verdict"] == claims.HOLDS


def test_every_claim_has_a_verdict_and_a_reason():
    found, _ = _claims()
    assert len(found) >= 25
    for c in found.values():
        assert c["verdict"] in (claims.HOLDS, claims.WRONG, claims.CANNOT_TELL)
        assert c["reason"]
    assert found["Glue jobs of 3-5 min each"]["verdict"] == claims.CANNOT_TELL
    assert found["G.0.25X workers saves ~$165 (75% reduction)"]["verdict"] == claims.WRONG


def test_quotas_without_a_limit_still_give_every_claim_a_verdict():
    cleared = {q: None for q in ("glue.job_max_concurrent_runs", "sfn.start_execution_refill", "dynamodb.partition_wcu",
                                 "sqs.standard.inflight")}
    inp = inputs.build(quotas=cleared)
    prof = make_profile(inp)
    cap = capacity.model(inp, prof)
    c = cost.model(inp, prof)
    found = claims.model(cap, c, optimizations.model(inp, prof, c, True), _metrics(), inp)
    assert all(x["verdict"] in (claims.HOLDS, claims.WRONG, claims.CANNOT_TELL) for x in found)
