"""What one predicted load costs on AWS: the requests and durations the model counted, priced from
the price table, with the per-file and per-manifest units (DynamoDB, S3) the run measured
(sim/report/unit_work.py, the same figures as `sim report`'s monthly bill).

Storage is left out: it is billed by the month, and `sim report` prices it.
"""

from __future__ import annotations

from ..inputs import Inputs
from ..unit_work import UnitWork, put_requests
from .model import Result

GIB = 1024 ** 3


def of(result: Result, inputs: Inputs, prof: UnitWork, file_size: int) -> dict:
    p = result.params
    c = result.counts
    price = inputs.price
    files = len(result.landed)
    manifests = [m for m in result.manifests if m.finished_at is not None]
    batches = c.sqs_receives
    memory_gb = p.builder.memory_mb / 1024
    gb_s_price = price("lambda.gb_s.arm" if inputs.params.lambda_arch == "arm" else "lambda.gb_s.x86")
    w_b = prof.batch.get("write_units", {})
    r_b = prof.batch.get("read_units", {})
    wru = batches * w_b.get("fixed", 0) + files * w_b.get("per_record", 0)
    rru = batches * r_b.get("fixed", 0) + files * r_b.get("per_record", 0)
    for m in manifests:
        w, r = prof.manifest_units(len(m.files))
        wru += w + prof.converter_units[0]
        rru += r + prof.converter_units[1]
    fw, fr = prof.flush_units()
    wru += c.flush_invocations * fw
    rru += c.flush_invocations * fr
    puts = files * put_requests(file_size) + sum(prof.manifest_s3_puts() + put_requests(
        len(m.files) * file_size * prof.parquet_ratio) for m in manifests)
    gets = sum(prof.conversion_gets(len(m.files)) for m in manifests)
    idle_polls = inputs.params.esm_idle_pollers * result.ended_at / inputs.params.esm_long_poll_s
    sqs = files + 2 * batches + idle_polls
    log_bytes = batches * prof.info_log_bytes_per_batch + (batches + c.flush_invocations) * inputs.params.platform_log_bytes
    rows = [
        ("Lambda", c.lambda_invocations / 1e6 * price("lambda.request") + c.lambda_seconds * memory_gb * gb_s_price,
         f"{c.lambda_invocations:,} invocations ({batches:,} SQS batches, {c.flush_invocations:,} flushes), "
         f"{c.lambda_seconds * memory_gb:,.1f} GB-s"),
        ("Glue", c.glue_dpu_s / 3600 * price("glue.dpu_hour"),
         f"{c.glue_runs:,} runs, {c.glue_billed_s / 60:,.1f} billed minutes at {p.glue.dpu:g} DPU "
         f"(at least {p.glue.min_billed_s:.0f} s a run)"),
        ("Step Functions", c.transitions / 1000 * price("sfn.transition"),
         f"{c.transitions:,} state transitions ({c.concurrent_runs_exceeded:,} ConcurrentRunsExceeded retries among them)"),
        ("DynamoDB", wru / 1e6 * price("dynamodb.wru") + rru / 1e6 * price("dynamodb.rru"),
         f"{wru:,.0f} WRU + {rru:,.0f} RRU"),
        ("S3 requests", puts / 1000 * price("s3.put") + gets / 1000 * price("s3.get"), f"{puts:,.0f} PUT + {gets:,.0f} GET"),
        ("SQS", sqs / 1e6 * price("sqs.request"), f"{sqs:,.0f} requests (notifications, receives, deletes, idle polls)"),
        ("CloudWatch Logs", log_bytes / GIB * price("logs.ingest_gb"), f"{log_bytes / 1e6:,.2f} MB ingested"),
    ]
    total = sum(v for _, v, _ in rows)
    return {"total_usd": round(total, 4),
            "rows": [{"component": name, "usd": round(v, 4), "basis": basis} for name, v, basis in rows],
            "per_1000_files_usd": round(total / files * 1000, 4) if files else None,
            "note": "requests and compute of this load only; storage is billed by the month (sim report prices it)"}
