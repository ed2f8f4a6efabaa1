"""The plan's numeric claims about cost, utilization and headroom, each against the model's figure,
with a verdict (holds / wrong / cannot tell) and the reason.

A figure holds when the model's value falls inside the plan's range widened by a tolerance (the
plan rounds: "~$5"). `conclusion_holds` says whether the plan's point survives a wrong figure.
"""

from __future__ import annotations

from . import fmt
from .data import plan

HOLDS, WRONG, CANNOT_TELL = "holds", "wrong", "cannot tell"


def judge(seed_low: float, seed_high: float, model: float | None, rel: float = 0.25, abs_tol: float = 0.0) -> str:
    if model is None:
        return CANNOT_TELL
    return HOLDS if seed_low * (1 - rel) - abs_tol <= model <= seed_high * (1 + rel) + abs_tol else WRONG


UNITS = {"cost": "USD/month", "optimizations": "USD/month"}


def _claim(section, claim, seed_value, model_value, verdict, reason, conclusion_holds=None, unit=None):
    out = {"section": section, "claim": claim, "seed_value": seed_value, "model_value": model_value,
           "unit": unit or UNITS.get(section, ""), "verdict": verdict, "reason": reason}
    if conclusion_holds is not None:
        out["conclusion_holds"] = conclusion_holds
    return out


def _usd(x):
    return None if x is None else round(x, 2)


def _pct(x):
    return None if x is None else round(100 * x, 6)


def cost_claims(cost: dict, opts: list[dict], inputs) -> list[dict]:
    p = inputs.params
    rows = {r["component"]: r for r in cost["rows"]}
    out = []
    m1 = cost["month1_total_usd"]
    mm = cost["monthly_total_usd"]
    v = judge(plan.COST_TOTAL, plan.COST_TOTAL, m1, abs_tol=1)
    out.append(_claim("cost", "Current monthly cost ~$270", plan.COST_TOTAL, _usd(m1), v,
                      f"The model's first month costs ${m1:,.2f}; the bill then grows with stored data to ${mm:,.2f} in "
                      f"month {cost['month']} without a lifecycle rule (${cost['with_lifecycle_total_usd']:,.2f} with one). "
                      f"Glue is ${rows['Glue']['monthly_usd']:,.2f}, not $220: the job is a {cost['glue_config']} job."))
    implied_dpu = 220 / (p.manifests_per_day * p.days_per_month * max(60, p.glue_run_s) / 3600 * inputs.price("glue.dpu_hour"))
    reasons = {
        "Lambda": "Invocations and GB-seconds as measured per batch; under a dollar whatever the free tier.",
        "Glue": (f"${rows['Glue']['monthly_usd']:,.2f} for {cost['glue_config']}. The plan's $220 implies "
                 f"{implied_dpu:.1f} DPU for every {p.glue_run_minutes:g}-minute run, a Spark job this pipeline does not need."),
        "DynamoDB": "On-demand units as measured (tracking, claiming, manifest items), at the November 2024 prices.",
        "S3 storage": (f"840 GB is one month of landed files. Without a lifecycle rule, storage grows each month: "
                       f"${rows['S3 storage']['month1_usd']:,.2f} in month 1, ${rows['S3 storage']['monthly_usd']:,.2f} in month {cost['month']}."),
        "S3 requests": "One PUT per landed file, one GET per converted file, a few per manifest.",
        "Step Functions": "Transitions per execution from the state machine's shape with AWS polling.",
        "CloudWatch Logs": f"Bytes as measured per batch at {p.log_level}, plus Lambda's START/END/REPORT lines.",
    }
    for item in plan.COST:
        comp = item["component"]
        row = rows[comp]
        value = row["month1_usd"] if comp == "S3 storage" else row["monthly_usd"]
        verdict = judge(item["monthly_usd"], item["monthly_usd"], value, abs_tol=1)
        if comp == "S3 storage" and verdict == HOLDS and abs(row["monthly_usd"] - value) > 0.25 * item["monthly_usd"]:
            verdict = WRONG  # right for month 1 only
        out.append(_claim("cost", f"{item.get('text', comp)} ~${item['monthly_usd']}/month", item["monthly_usd"],
                          _usd(value), verdict, reasons[comp]))
    by = {o["name"]: o for o in opts}
    for item in plan.OPTIMIZATIONS:
        o = by[item["name"]]
        verdict = WRONG if not o["valid"] else judge(item["monthly_saving_usd"], item["monthly_saving_usd"], o["monthly_saving_usd"], abs_tol=1)
        out.append(_claim("optimizations", f"{item['name']} saves {item['text']}", item["monthly_saving_usd"],
                          _usd(o["monthly_saving_usd"]), verdict, o["note"]))
    plan_named = [by[i["name"]] for i in plan.OPTIMIZATIONS]
    total = sum(o["monthly_saving_usd"] for o in plan_named if o["valid"])
    invalid = [o["name"] for o in plan_named if not o["valid"]]
    lifecycle = next((o for o in opts if o["name"].startswith("Lifecycle")), None)
    out.append(_claim("optimizations", "Total potential ~$220/month", plan.OPTIMIZATIONS_TOTAL, _usd(total),
                      judge(plan.OPTIMIZATIONS_TOTAL, plan.OPTIMIZATIONS_TOTAL, total, abs_tol=1),
                      "The sum of the plan's three optimizations where valid"
                      + (f"; {' and '.join(invalid)} do not apply here" if invalid else "")
                      + (f". The largest saving is one the plan does not name: {lifecycle['name']}, "
                         f"{fmt.usd(lifecycle['monthly_saving_usd'])} a month." if lifecycle else ".")))
    return out


def _row(capacity: dict, quota_id: str) -> dict:
    return next(r for r in capacity["rows"] if r["quota_id"] == quota_id)


def _q(inputs, qid: str) -> str:
    value = inputs.quota(qid)
    return "no limit" if value is None else f"{value:,g}"


def utilization_claims(capacity: dict, inputs) -> list[dict]:
    out = []
    sqs = _row(capacity, "sqs.standard.inflight")
    lam = _row(capacity, "lambda.concurrency")
    ddb = _row(capacity, "dynamodb.table_wru")
    part = _row(capacity, "dynamodb.partition_wcu")
    glue = _row(capacity, "glue.job_max_concurrent_runs")
    acct = _row(capacity, "glue.account_concurrent_runs")
    sfn = _row(capacity, "sfn.start_execution_refill")
    avg = capacity["load"]["avg_files_per_s"]
    u = plan.UTILIZATION

    out.append(_claim("utilization", "SQS capacity 3,000/sec", 3000, None, WRONG,
                      "A standard queue has no published throughput limit; 3,000/s is the FIFO-with-batching figure. "
                      f"Its real ceiling is ~{_q(inputs, 'sqs.standard.inflight')} messages in flight, "
                      f"{fmt.pct(sqs['utilization']['1x'])} used at the peak.", conclusion_holds=True))
    out.append(_claim("utilization", "SQS 0.09/sec, 0.003% utilization", u[0]["util_low"], _pct(sqs["utilization"]["1x"]),
                      WRONG, f"0.09 files/s is right on average ({avg:.3f}); each file costs about three requests "
                      "(notification, receive, delete), and the percentage is of a limit that does not apply.",
                      conclusion_holds=True, unit="%"))
    out.append(_claim("utilization", "Lambda concurrency capacity 1,000", 1000, inputs.quota("lambda.concurrency"),
                      judge(1000, 1000, inputs.quota("lambda.concurrency"), rel=0), "The default account quota (new accounts get less)."))
    lam_peak = lam["demand"]["1x"]
    out.append(_claim("utilization", "Lambda 1-2 concurrent, 0.2% utilization", u[1]["util_low"], _pct(lam["utilization"]["1x"]),
                      HOLDS if lam_peak <= 2 else WRONG,
                      f"By Little's law the builder averages {lam_peak:.3f} concurrent executions at the peak hour: "
                      "1-2 holds as a momentary maximum, and the share stays far below 1%.", unit="%"))
    out.append(_claim("utilization", "DynamoDB capacity 40,000 WCU", 40000, inputs.quota("dynamodb.table_wru"), WRONG,
                      f"40,000 is the table's default maximum, but every item of a day shares the partition key date_prefix: "
                      f"one partition takes {_q(inputs, 'dynamodb.partition_wcu')} WCU/s, and a new table serves 4,000/s at once. "
                      f"That partition saturates at {fmt.multiple(part['saturates_at_multiple'])} today's load.", conclusion_holds=True))
    out.append(_claim("utilization", "DynamoDB 0.1 WCU/sec, 0.0003% utilization", 0.1, round(ddb["demand_avg_1x"], 3),
                      judge(0.1, 0.1, ddb["demand_avg_1x"], rel=0.5),
                      f"Each file is written at least twice (tracked, then claimed), each write also updating an index: "
                      f"{ddb['demand_avg_1x']:.2f} WRU/s on average, {ddb['demand']['1x']:.2f} at the peak "
                      f"({fmt.pct(ddb['utilization']['1x'])} of the table's quota).", conclusion_holds=True))
    out.append(_claim("utilization", "Glue capacity 50 concurrent jobs", 50, inputs.quota("glue.job_max_concurrent_runs"), WRONG,
                      f"The account quota is not confirmed (50 or 200), and the limit that binds first is the job's "
                      f"MaxConcurrentRuns: 1 unless set (this project sets {_q(inputs, 'glue.job_max_concurrent_runs')}). "
                      f"At 1 the job saturates at {1 / glue['demand']['1x']:.1f}x today's load." if glue["demand"]["1x"] else ""))
    gu = glue["utilization"]["1x"]
    out.append(_claim("utilization", "Glue 1-2 concurrent, 2-4% utilization", "2-4", _pct(gu),
                      judge(2, 4, _pct(gu), rel=0.25) if gu is not None else CANNOT_TELL,
                      f"Little's law: {glue['demand']['1x']:.2f} runs at once at the peak hour with "
                      f"{inputs.params.glue_run_minutes:g}-minute runs, {fmt.pct(gu)} of MaxConcurrentRuns "
                      f"{_q(inputs, 'glue.job_max_concurrent_runs')} ({fmt.pct(acct['utilization']['1x'])} of the account quota); "
                      "the AWS-side run time is an input, not a measurement.", unit="%"))
    out.append(_claim("utilization", "Step Functions capacity 2,000/sec", 2000, inputs.quota("sfn.start_execution_refill"), WRONG,
                      "StartExecution refills at 300/s in us-east-1 (bucket 1,300); transitions at 1,500/s.", conclusion_holds=True))
    sfn_avg = sfn["demand_avg_1x"]
    sfn_u = sfn["utilization"]["1x"] and sfn_avg / sfn["quota"]
    out.append(_claim("utilization", "Step Functions 0.0005/sec, 0.00003% utilization", u[4]["util_low"], _pct(sfn_u),
                      judge(0.00003, 0.00003, _pct(sfn_u), rel=0.5),
                      f"{sfn_avg:.5f} starts/s on average is right; against the real quota "
                      f"({_q(inputs, 'sfn.start_execution_refill')}/s) it is {fmt.pct(sfn_u)}.", conclusion_holds=True, unit="%"))
    return out


def headroom_claims(capacity: dict, metrics: dict, inputs) -> list[dict]:
    p = inputs.params
    first = capacity["first_bottleneck"]
    top = max((r for r in capacity["rows"] if r["utilization"]["1x"] is not None), key=lambda r: r["utilization"]["1x"])
    mult = first["multiple_of_today"]
    out = [
        _claim("headroom", "System operates at <1% capacity", 1.0, _pct(top["utilization"]["1x"]),
               HOLDS if top["utilization"]["1x"] < 0.01 else WRONG,
               f"The busiest limit at the peak hour is {top['component']} {top['limit']}: {fmt.pct(top['utilization']['1x'])}.", unit="%"),
        _claim("headroom", "600x headroom (can handle up to 4.8M files/day)", 600, round(mult, 1) if mult else None,
               CANNOT_TELL if mult is None else HOLDS if mult >= 600 else WRONG,
               f"First to saturate: {first['component']} {first['limit']} at {mult:,.1f}x "
               f"({first['files_per_day']:,.0f} files/day)." if mult else "No limit saturates in the model."),
    ]
    glue = metrics["glue"]
    local_s = (glue.get("duration_ms") or {}).get("mean")
    mb = (metrics.get("bytes_landed") or 0) / max(1, metrics.get("manifests") or 1) / 1e6
    out.append(_claim("load", "40 Glue jobs/day", 40, p.manifests_per_day, judge(40, 40, p.manifests_per_day, rel=0.05),
                      f"{p.files_per_day:,.0f} files / {p.batch_size} per manifest."))
    out.append(_claim("load", "Glue jobs of 3-5 min each", "3-5", p.glue_run_minutes, CANNOT_TELL,
                      (f"AWS-side run time cannot be measured locally; here a run took {local_s / 1000:.1f} s for {mb:.1f} MB "
                       f"({mb / (local_s / 1000):.0f} MB/s). The model uses {p.glue_run_minutes:g} min (--glue-run-minutes).")
                      if local_s else "No conversion ran in this run; the model uses the plan's figure."))
    b = metrics["lambda"]["builder"]["duration_ms"]
    out.append(_claim("load", "Lambda manifest building in ~10 seconds", 10, round((b.get("max") or 0) / 1000, 2), CANNOT_TELL,
                      f"Locally the builder's invocations took {b.get('p50', 0):.0f} ms (median) to {b.get('max', 0):.0f} ms; "
                      "AWS-side latency per call is an assumption (--aws-call-ms)."))
    size_mb = p.file_size_bytes / 1e6
    daily_gb = p.files_per_day * p.file_size_bytes / 1e9
    for claim, seed, model in (("28 GB/day", 28, daily_gb), ("~840 GB/month", 840, daily_gb * p.days_per_month),
                               ("~10 TB/year", 10, daily_gb * 365 / 1000), ("700 MB per batch", 700, p.batch_size * size_mb),
                               ("0.28 files/sec at the peak", 0.28, p.peak_files_per_s),
                               ("0.09 files/sec on average", 0.09, p.avg_files_per_s)):
        out.append(_claim("load", claim, seed, round(model, 3), judge(seed, seed, model, rel=0.1),
                          f"From {p.files_per_day:,.0f} files/day of {p.file_size_bytes / 2**20:g} MiB, "
                          f"{p.peak_hour_files:,.0f} in the peak hour."))
    return out


def model(capacity: dict, cost: dict, opts: list[dict], metrics: dict, inputs) -> list[dict]:
    return utilization_claims(capacity, inputs) + headroom_claims(capacity, metrics, inputs) + cost_claims(cost, opts, inputs)
