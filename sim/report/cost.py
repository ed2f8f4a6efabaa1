"""Cost model: the monthly bill per component at the target load, priced from the price table.

Quantities come from the AWS-side profile (requests, units, seconds per file, batch, manifest and
flush). Storage is the bill of `storage_month` months after go-live: landed files and Parquet
accumulate unless a lifecycle rule removes them, so month 1 (the plan's 840 GB) is the cheapest.
"""

from __future__ import annotations

from .data import plan
from .inputs import Inputs, PYTHON_SHELL
from .unit_work import UnitWork

GIB = 1024 ** 3
DDB_ITEM_BYTES = 400  # a file item with its index projection (assumption)


def stored_gb_month(daily_bytes: float, month: int, retention_days: float | None = None, days: float = 30.0) -> float:
    """Average GB stored during `month` (1-based) when daily_bytes land every day since day 0."""
    samples = [((month - 1) * days + i + 0.5) for i in range(int(days))]
    total = 0.0
    for t in samples:
        kept = t if retention_days is None else min(t, retention_days)
        total += kept * daily_bytes
    return total / len(samples) / GIB


def glue_run_cost(inputs: Inputs, dpu: float, flex: bool = False) -> float:
    p = inputs.params
    billed_s = max(inputs.price("glue.min_billed_s"), p.glue_run_s)
    rate = inputs.price("glue.flex_dpu_hour" if flex else "glue.dpu_hour")
    return billed_s / 3600 * dpu * rate


def daily_quantities(inputs: Inputs, prof: UnitWork) -> dict:
    p = inputs.params
    files = p.files_per_day
    manifests = p.manifests_per_day
    rate = p.avg_files_per_s
    per_batch = prof.records_per_batch(rate)
    batches = files / per_batch
    flushes = 86400 / p.flush_every_s
    w_b, r_b = prof.batch_units(per_batch)
    w_m, r_m = prof.manifest_units(p.batch_size)
    w_f, r_f = prof.flush_units()
    lambda_ms = batches * prof.batch_ms(per_batch) + manifests * prof.manifest_ms(p.batch_size) + flushes * prof.flush_ms()
    info = batches * (prof.info_log_bytes_per_batch + prof.info_log_bytes_per_record * per_batch)
    platform = (batches + flushes) * p.platform_log_bytes
    log_bytes = info + platform + manifests * p.glue_log_bytes_per_run
    if p.log_level.upper() == "DEBUG":
        log_bytes += files * prof.debug_log_bytes_per_file
    return {
        "files": files, "manifests": manifests, "records_per_batch": per_batch, "sqs_batches": batches,
        "flushes": flushes,
        "lambda_requests": batches + flushes,
        "lambda_gb_s": lambda_ms / 1000 * p.builder_memory_mb / 1024,
        "glue_runs": manifests,
        "wru": batches * w_b + manifests * (w_m + prof.converter_units[0]) + flushes * w_f,
        "rru": batches * r_b + manifests * (r_m + prof.converter_units[1]) + flushes * r_f,
        "s3_put": files * prof.landing_puts_per_file() + manifests * (prof.manifest_s3_puts() + prof.conversion_puts(p.batch_size)),
        "s3_get": manifests * prof.conversion_gets(p.batch_size),
        "landing_bytes": files * p.file_size_bytes,
        "parquet_bytes": manifests * prof.output_bytes(p.batch_size),
        "sqs_requests": files + 2 * batches + p.esm_idle_pollers * 86400 / p.esm_long_poll_s,
        "transitions": manifests * prof.transitions_per_execution(),
        "log_bytes": log_bytes,
    }


def _priced(inputs: Inputs, prof: UnitWork, q: dict, storage_month: int, landing_retention_days: float | None) -> list:
    p = inputs.params
    days = p.days_per_month
    month = {k: v * days for k, v in q.items() if k not in ("records_per_batch",)}
    free = p.free_tier
    price = inputs.price
    gb_s_price = price("lambda.gb_s.arm" if p.lambda_arch == "arm" else "lambda.gb_s.x86")
    req = max(0.0, month["lambda_requests"] - (price("lambda.free_requests") if free else 0))
    gbs = max(0.0, month["lambda_gb_s"] - (price("lambda.free_gb_s") if free else 0))
    landing_gb = stored_gb_month(q["landing_bytes"], storage_month, landing_retention_days, days=days)
    parquet_gb = stored_gb_month(q["parquet_bytes"], storage_month, days=days)
    ddb_gb = stored_gb_month((q["files"] + q["manifests"]) * DDB_ITEM_BYTES, storage_month, days=days)
    logs_gb = stored_gb_month(q["log_bytes"], storage_month, days=days)
    sqs_req = max(0.0, month["sqs_requests"] - (price("sqs.free_requests") if free else 0))
    transitions = max(0.0, month["transitions"] - (price("sfn.free_transitions") if free else 0))
    glue_each = glue_run_cost(inputs, p.glue_dpu)
    rows = [
        ("Lambda", req / 1e6 * price("lambda.request") + gbs * gb_s_price,
         f"{month['lambda_requests']:,.0f} invocations ({q['records_per_batch']:.1f} files per SQS batch at the average rate, "
         f"plus a flush a minute), {month['lambda_gb_s']:,.0f} GB-s at {p.builder_memory_mb} MB"),
        ("Glue", month["glue_runs"] * glue_each,
         f"{month['glue_runs']:,.0f} runs x {p.glue_run_minutes:g} min x {p.glue_dpu:g} DPU ({p.glue_label()}), "
         f"${glue_each:.4f} a run"),
        ("DynamoDB", month["wru"] / 1e6 * price("dynamodb.wru") + month["rru"] / 1e6 * price("dynamodb.rru")
         + ddb_gb * price("dynamodb.storage_gb_month"),
         f"{month['wru']:,.0f} WRU + {month['rru']:,.0f} RRU, {ddb_gb:.2f} GB of items in month {storage_month}"),
        ("S3 storage", (landing_gb + parquet_gb) * price("s3.standard_gb_month"),
         f"month {storage_month}: {landing_gb:,.0f} GB NDJSON + {parquet_gb:,.0f} GB Parquet on average, "
         + ("no lifecycle rule" if landing_retention_days is None else f"NDJSON kept {landing_retention_days:g} days")),
        ("S3 requests", month["s3_put"] / 1000 * price("s3.put") + month["s3_get"] / 1000 * price("s3.get"),
         f"{month['s3_put']:,.0f} PUT + {month['s3_get']:,.0f} GET"),
        ("SQS", sqs_req / 1e6 * price("sqs.request"),
         f"{month['sqs_requests']:,.0f} requests (notifications, receives, deletes, idle long polls)"),
        ("Step Functions", transitions / 1000 * price("sfn.transition"),
         f"{month['transitions']:,.0f} transitions ({prof.transitions_per_execution():.0f} per execution, polling every {p.poll_seconds} s)"),
        ("CloudWatch Logs", month["log_bytes"] / GIB * price("logs.ingest_gb") + logs_gb * price("logs.storage_gb_month"),
         f"{month['log_bytes'] / 1e6:,.1f} MB ingested at {p.log_level}, {logs_gb:.2f} GB kept"),
        ("CloudWatch alarms", p.alarms * price("cloudwatch.alarm_month"), f"{p.alarms} alarms"),
        ("CloudWatch custom metrics", p.custom_metrics * price("cloudwatch.custom_metric_month"),
         f"{p.custom_metrics} metrics of the pipeline's own (PutMetricData requests: a few thousand a month, cents)"),
        ("SNS", 0.0, "email on failures only: none expected in a normal month"),
    ]
    return rows


def model(inputs: Inputs, prof: UnitWork) -> dict:
    p = inputs.params
    q = daily_quantities(inputs, prof)
    rows = _priced(inputs, prof, q, p.storage_month, None)
    first = {c: v for c, v, _ in _priced(inputs, prof, q, 1, None)}
    kept = _priced(inputs, prof, q, p.storage_month, p.landing_retention_days)
    plan_by = {r["component"]: r["monthly_usd"] for r in plan.COST}
    out_rows = [{"component": c, "monthly_usd": round(v, 2), "month1_usd": round(first[c], 2),
                 "plan_usd": plan_by.get(c), "basis": basis} for c, v, basis in rows]
    total = sum(v for _, v, _ in rows)
    landing_gb = stored_gb_month(q["landing_bytes"], p.storage_month, days=p.days_per_month)
    parquet_gb = stored_gb_month(q["parquet_bytes"], p.storage_month, days=p.days_per_month)
    return {
        "monthly_total_usd": round(total, 2),
        "month1_total_usd": round(sum(first.values()), 2),
        "with_lifecycle_total_usd": round(sum(v for _, v, _ in kept), 2),
        "plan_total_usd": plan.COST_TOTAL,
        "rows": out_rows,
        "month": p.storage_month,
        "free_tier_applied": p.free_tier,
        "quantities_per_day": {k: round(v, 3) for k, v in q.items()},
        "glue_config": p.glue_label(),
        "glue_is_python_shell": p.glue_worker_type == PYTHON_SHELL,
        "stored_gb": {"landing": round(landing_gb, 1), "parquet": round(parquet_gb, 1)},
        "landing_retention_days": p.landing_retention_days,
    }
