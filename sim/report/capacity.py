"""Capacity model: for a load (files per second at the peak hour), each component's demand against
its quota, by Little's law where the quota is a concurrency (L = arrival rate x time in system).

Demand grows with load, so the multiple of today's load at which a component saturates is found by
bisection (the SQS batch fills as load grows, so not every demand is linear). The component with
the smallest multiple is the first bottleneck.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .inputs import Inputs
from .unit_work import UnitWork

MAX_MULTIPLE = 1e7
SHORT = {  # chart labels
    "s3.put_per_prefix": "S3 PUT per prefix", "s3.get_per_prefix": "S3 GET per prefix",
    "sqs.standard.inflight": "SQS in flight", "lambda.concurrency": "Lambda concurrency",
    "esm.sqs.initial_batches": "ESM at burst start", "builder.lease_per_date": "Builder per-date lease",
    "dynamodb.table_wru": "DynamoDB table", "dynamodb.new_table_writes": "DynamoDB new table",
    "dynamodb.partition_wcu": "DynamoDB partition", "sfn.start_execution_refill": "SFN StartExecution",
    "sfn.transitions_refill": "SFN transitions", "sfn.open_executions": "SFN open executions",
    "glue.job_max_concurrent_runs": "Glue job concurrent runs", "glue.account_concurrent_runs": "Glue account runs",
}


@dataclass
class Limit:
    component: str  # service, as the report contract names it
    name: str  # which limit
    quota_id: str
    unit: str  # unit of demand and quota
    demand: Callable[[float], float]  # files/s -> demand in `unit`
    how: str  # how demand is computed, for the reader
    plan_row: str | None = None  # the plan's utilization row this answers


def utilization(demand: float, quota: float | None) -> float | None:
    if quota is None:
        return None
    return demand / quota if quota > 0 else float("inf")


def saturation_multiple(demand: Callable[[float], float], quota: float | None, base_rate: float) -> float | None:
    """Smallest m with demand(m * base_rate) >= quota; None when it never saturates."""
    if quota is None or base_rate <= 0:
        return None
    if demand(base_rate * MAX_MULTIPLE) < quota:
        return None
    lo, hi = 0.0, MAX_MULTIPLE
    for _ in range(200):
        mid = (lo + hi) / 2
        if demand(base_rate * mid) >= quota:
            hi = mid
        else:
            lo = mid
        if hi - lo <= hi * 1e-6:
            break
    return hi


def limits(inputs: Inputs, prof: UnitWork) -> list[Limit]:
    p = inputs.params
    fpm = p.batch_size

    def batches(r):
        return r / prof.records_per_batch(r)

    def batch_s(r):
        return prof.batch_ms(prof.records_per_batch(r)) / 1000

    def wru(r):
        per_batch = prof.batch_units(prof.records_per_batch(r))[0]
        return batches(r) * per_batch + (r / fpm) * (prof.manifest_units(fpm)[0] + prof.converter_units[0])

    flush_conc = prof.flush_ms() / 1000 / p.flush_every_s
    glue_q = inputs.quota("glue.job_max_concurrent_runs")
    return [
        Limit("S3", "PUT requests per landing prefix", "s3.put_per_prefix", "requests/s",
              lambda r: r * prof.landing_puts_per_file(),
              f"files/s x {prof.landing_puts_per_file()} PUT per file (one prefix: the worst case)"),
        Limit("S3", "GET requests per prefix (conversion reads)", "s3.get_per_prefix", "requests/s",
              lambda r: r * prof.converter_per_file_gets, "files/s x GETs per file by the converter"),
        Limit("SQS", "messages in flight (standard queue)", "sqs.standard.inflight", "messages",
              lambda r: r * batch_s(r),
              "Little: files/s x time a message is in flight (one builder batch); throughput itself has no published limit",
              plan_row="SQS"),
        Limit("Lambda", "account concurrency", "lambda.concurrency", "concurrent executions",
              lambda r: batches(r) * batch_s(r) + flush_conc,
              "Little: batches/s x batch duration + the per-minute flush", plan_row="Lambda Concurrency"),
        Limit("Lambda", "SQS event source mapping at the start of a burst", "esm.sqs.initial_batches",
              "concurrent batches", lambda r: batches(r) * batch_s(r),
              "Little: batches/s x batch duration; scales +300/min after the first minute"),
        Limit("Lambda", "builder's per-date lease (manifests assembled one at a time)", "builder.lease_per_date",
              "builders", lambda r: (r / fpm) * prof.manifest_ms(fpm) / 1000,
              f"Little: manifests/s x time to assemble one ({prof.manifest_calls(fpm):.0f} sequential calls)"),
        Limit("DynamoDB", "table write units (on-demand maximum)", "dynamodb.table_wru", "WRU/s", wru,
              "tracking, claims, manifest items and conversions, per second at the peak", plan_row="DynamoDB Writes"),
        Limit("DynamoDB", "new on-demand table, served at once", "dynamodb.new_table_writes", "WRU/s", wru,
              "the same writes; a new table serves 4,000/s at once, then doubles per 30 min of peaks"),
        Limit("DynamoDB", "one partition (a day's items share the key date_prefix)", "dynamodb.partition_wcu",
              "WRU/s", wru, "the same writes, all on one partition key until DynamoDB splits it for heat"),
        Limit("Step Functions", "StartExecution (refill rate)", "sfn.start_execution_refill", "starts/s",
              lambda r: r / fpm, "manifests/s", plan_row="Step Functions"),
        Limit("Step Functions", "state transitions (refill rate)", "sfn.transitions_refill", "transitions/s",
              lambda r: (r / fpm) * prof.transitions_per_execution(),
              f"manifests/s x {prof.transitions_per_execution():.0f} transitions (polling every {p.poll_seconds} s)"),
        Limit("Step Functions", "open executions", "sfn.open_executions", "executions",
              lambda r: (r / fpm) * prof.execution_s(), "Little: manifests/s x execution duration"),
        Limit("Glue", f"job MaxConcurrentRuns ({'no limit' if glue_q is None else f'{glue_q:g}'} set; AWS default 1)", "glue.job_max_concurrent_runs",
              "concurrent runs", lambda r: (r / fpm) * p.glue_run_s,
              f"Little: manifests/s x {p.glue_run_minutes:g} min per run (AWS-side)", plan_row="Glue Concurrent Jobs"),
        Limit("Glue", "account concurrent job runs (50 or 200: not confirmed)", "glue.account_concurrent_runs",
              "concurrent runs", lambda r: (r / fpm) * p.glue_run_s,
              f"Little: manifests/s x {p.glue_run_minutes:g} min per run (AWS-side)"),
    ]


def _round(m: float | None) -> float | None:
    return None if m is None else round(m, 3 if m < 10 else 1)


def _mult_key(m: float) -> str:
    return f"{m:g}x"


def model(inputs: Inputs, prof: UnitWork) -> dict:
    p = inputs.params
    base = p.peak_files_per_s
    multiples = sorted({1.0, 600.0, float(p.multiplier)})
    rows = []
    for lim in limits(inputs, prof):
        q = inputs.quota(lim.quota_id)
        row = {
            "component": lim.component,
            "limit": lim.name,
            "short": SHORT.get(lim.quota_id, lim.component),
            "quota": q,
            "quota_id": lim.quota_id,
            "quota_status": inputs.quotas[lim.quota_id]["status"],
            "unit": lim.unit,
            "demand": {_mult_key(m): lim.demand(base * m) for m in multiples},
            "demand_avg_1x": lim.demand(p.avg_files_per_s),
            "utilization": {_mult_key(m): utilization(lim.demand(base * m), q) for m in multiples},
            "saturates_at_multiple": _round(saturation_multiple(lim.demand, q, base)),
            "how": lim.how,
            "plan_row": lim.plan_row,
        }
        rows.append(row)
    ranked = sorted((r for r in rows if r["saturates_at_multiple"] is not None), key=lambda r: r["saturates_at_multiple"])
    first = ranked[0] if ranked else None
    return {
        "load": {"files_per_day": p.files_per_day, "peak_hour_files": p.peak_hour_files,
                 "peak_files_per_s": base, "avg_files_per_s": p.avg_files_per_s, "multiplier": p.multiplier,
                 "files_per_manifest": p.batch_size, "glue_run_minutes": p.glue_run_minutes,
                 "note": "utilization is at the peak hour; a multiple scales the whole day"},
        "rows": rows,
        "first_bottleneck": {
            "component": first["component"], "limit": first["limit"],
            "multiple_of_today": first["saturates_at_multiple"],
            "files_per_day": first["saturates_at_multiple"] * p.files_per_day,
        } if first else {"component": None, "limit": None, "multiple_of_today": None, "files_per_day": None},
        "ranking": [{"component": r["component"], "limit": r["limit"], "multiple_of_today": r["saturates_at_multiple"]}
                    for r in ranked],
    }
