"""The model's parameters on AWS: the load's schedule, the deployed settings (or the plan's), AWS's
limits and behaviours from the quotas table, and the work a recorded run measured, turned into
AWS-side times.

- Arrivals: the load shape `sim load` replays (sim/load/shapes.py), in real time for the daily
  profile, with the generator's keys (the pending index hands files out in key order).
- SQS pollers: 5 concurrent batches at first, 300 more a minute while messages wait, up to the
  mapping's MaximumConcurrency or 1,000 (esm.sqs.*), within the account's Lambda concurrency.
- The builder: each SDK call takes `aws_call_ms` (the report's figure), plus the handler's own CPU
  time measured in the run, stretched to the CPU share of its memory (1,769 MB is one vCPU); a new
  execution environment costs lambda.cold_start_s.
- StartExecution: the token bucket (sfn.start_execution_bucket, refill sfn.start_execution_refill).
- Glue: MaxConcurrentRuns (deployed 10; the plan leaves AWS's default, 1), the account's concurrent
  runs, the workflow's Retry on ConcurrentRunsExceeded (sim/pipeline/workflow-glue.asl.json: 30 s, x1.5, at
  most 300 s, full jitter), a start-up of glue.pythonshell_startup_s, and the converter's speed
  measured in the run (per CPU-second where the run recorded CPU time) times
  glue.pythonshell_cpu_factor; polled every `poll_seconds` (30 s deployed).
- The flush: every minute; a partial batch waits FLUSH_MAX_WAIT_SECONDS (3600 s deployed).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, replace

from sim.core.errors import SimError
from sim.infra.spec import Settings, Wiring, deployed_settings
from sim.load import shapes
from sim.workload import generator

from ..data import plan
from ..inputs import Inputs
from . import params as P
from .recorded import Recorded

LAMBDA_MB_PER_VCPU = 1769  # docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
MAX_FILES = 200_000  # files the model follows one by one; more is an error, not a long wait
TRACK_CALLS_FIXED = 2  # a batch's calls beyond one PutItem per record: the date's touch and the pending query


@dataclass(frozen=True)
class Setting:
    """The settings the prediction varies: the deployed ones, the plan's, or a sweep's."""

    name: str
    max_concurrent_runs: int | None
    files_per_manifest: int
    maximum_concurrency: int | None  # the mapping's ScalingConfig.MaximumConcurrency (None: not set)
    flush_max_wait_s: float
    poll_s: float
    glue_dpu: float
    when_full: str = "retry"


def setting(kind: str, inputs: Inputs) -> Setting:
    s = deployed_settings("aws")
    if kind == "deployed":
        return Setting("deployed", s.glue_max_concurrent_runs, s.batch_size, None, float(s.flush_max_wait_s),
                       float(s.poll_seconds), s.glue_max_capacity)
    if kind == "plan":
        default_runs = inputs.quota("glue.job_max_concurrent_runs.default")
        return Setting("plan", int(default_runs) if default_runs else None, int(plan.LOAD["batch_size"]), None,
                       float(s.flush_max_wait_s), float(s.poll_seconds), s.glue_max_capacity)
    raise SimError(f"unknown settings {kind!r}: deployed or plan")


@dataclass
class Work:
    """What the run measured that the AWS model scales: the builder's own time and the converter's speed."""

    batch_own_s: float  # the handler's own time per SQS batch (not waiting on calls), on AWS
    manifest_own_s: float
    manifest_calls_fixed: float  # calls to assemble a manifest beyond its claim transactions
    converter_mb_per_s: float  # one Glue run, on AWS
    converter_basis: str

    def as_dict(self) -> dict:
        return {"builder_batch_own_s": round(self.batch_own_s, 4), "builder_manifest_own_s": round(self.manifest_own_s, 4),
                "manifest_calls_fixed": round(self.manifest_calls_fixed, 1),
                "converter_mb_per_s": round(self.converter_mb_per_s, 2), "converter_basis": self.converter_basis}


def _median(values, default=0.0):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else default


def measured_work(rec: Recorded, inputs: Inputs) -> Work:
    """The builder's own time and the converter's speed in `rec`, on AWS's terms."""
    share = LAMBDA_MB_PER_VCPU / deployed_settings("aws").builder_memory_mb  # CPU time stretches by this
    sqs = [l for l in rec.telemetry if l.get("component") == "builder" and l.get("kind") == "sqs"]
    plain = [l for l in sqs if not l.get("calls", {}).get("stepfunctions.StartExecution")]
    building = [l for l in sqs if l.get("calls", {}).get("stepfunctions.StartExecution")]

    def own(line: dict) -> float:
        if "cpu_ms" in line:
            return line["cpu_ms"] / 1000 * share
        return max(0.0, line["duration_ms"] - sum(line.get("call_ms", {}).values())) / 1000

    batch_own = _median([own(l) for l in plain])
    manifest_own = max(0.0, _median([own(l) for l in building], batch_own) - batch_own)
    fixed_calls = _median([sum(l["calls"].values()) - l.get("records", 0) - TRACK_CALLS_FIXED
                           - l["calls"].get("dynamodb.TransactWriteItems", 0) for l in building], 10.0)
    sizes = {m["manifest_id"]: m["bytes"] for m in rec.manifests}
    conv = [l for l in rec.telemetry if l.get("component") == "converter" and sizes.get(l.get("manifest_id"))]
    factor = inputs.quota("glue.pythonshell_cpu_factor") or 1.0
    cpu = [sizes[l["manifest_id"]] / 1e6 / (l["cpu_ms"] / 1000) for l in conv if l.get("cpu_ms")]
    if cpu:
        mbps, basis = _median(cpu), f"MB per CPU-second of the run's {len(cpu)} conversions"
    else:
        wall = [sizes[l["manifest_id"]] / 1e6 / (l["duration_ms"] / 1000) for l in conv if l.get("duration_ms")]
        if not wall:
            raise SimError(f"run {rec.name}: no conversion with its size was recorded")
        mbps = _median(wall)
        basis = (f"MB per wall-clock second of the run's {len(wall)} conversions (the run recorded no CPU time; "
                 "they shared the machine, so this is slower than one core alone)")
    return Work(batch_own, manifest_own, fixed_calls, mbps * factor, basis + f", x{factor:g} for a Python shell run")


def arrivals(profile: str, multiplier: float, duration_s: float = 60.0) -> tuple[list[float], shapes.Shape]:
    if profile == "burst":
        shape = shapes.make("burst", multiplier=multiplier, duration_s=duration_s)
    elif profile == "daily":
        shape = shapes.Daily(time_scale=1.0, files_per_day=int(round(shapes.PRODUCTION_FILES_PER_DAY * multiplier)),
                             peak_hour_files=int(round(shapes.PEAK_HOUR_FILES * multiplier)))
    else:
        raise SimError(f"unknown profile {profile!r}; choose daily or burst")
    n = shape.total_files
    if n > MAX_FILES:
        raise SimError(f"{profile} at {multiplier:g}x is {n:,} files; the model follows each file and takes at most "
                       f"{MAX_FILES:,}: use a smaller --multiplier")
    if n == 0:
        raise SimError(f"{profile} at {multiplier:g}x schedules no file")
    return [shape.due(k) for k in range(n)], shape


def deployed_capacity_retry() -> dict:
    """The deployed workflow's wait for a free Glue slot (sim/pipeline/workflow-glue.asl.json)."""
    retry = Wiring("000000000000", "us-east-1", Settings(target="aws")).capacity_retry()
    if retry is None:
        raise SimError("the deployed workflow has no Retry on Glue.ConcurrentRunsExceededException")
    return retry


def params_for(profile: str, multiplier: float, file_size: int, st: Setting, work: Work, inputs: Inputs,
               seed: int = 7, duration_s: float = 60.0) -> P.ModelParams:
    call_s = inputs.params.aws_call_ms / 1000
    times, _shape = arrivals(profile, multiplier, duration_s)
    date = dt.date(2026, 11, 25).isoformat()
    esm_max = int(inputs.quota("esm.sqs.max_concurrency") or 1000)
    account = inputs.quota("lambda.concurrency")
    ceiling = min(x for x in (esm_max, st.maximum_concurrency, account) if x is not None)
    retry = deployed_capacity_retry()
    fpm = st.files_per_manifest

    def batch_s(n: int, _t: float) -> float:
        return (n + TRACK_CALLS_FIXED) * call_s + work.batch_own_s

    def manifest_s(files: int, _t: float) -> float:
        return (work.manifest_calls_fixed + math.ceil(files / 99)) * call_s + work.manifest_own_s

    refill = inputs.quota("sfn.start_execution_refill")
    account_runs = inputs.quota("glue.account_concurrent_runs")
    return P.ModelParams(
        arrivals_s=times,
        sizes=[file_size] * len(times),
        sort_keys=[generator.file_key(seed, k, date) for k in range(len(times))],
        notify_s=inputs.quota("s3.notification_delivery_s") or 0.0,
        esm=P.Esm(batch_size=inputs.params.esm_batch_size, initial=int(min(inputs.quota("esm.sqs.initial_batches") or 5, ceiling)),
                  scale_per_min=inputs.quota("esm.sqs.scale_per_min") or 0.0, maximum=int(ceiling)),
        builder=P.Builder(batch_s=batch_s, manifest_s=manifest_s, start_execution_s=call_s,
                          cold_start_s=inputs.quota("lambda.cold_start_s") or 0.0,
                          memory_mb=deployed_settings("aws").builder_memory_mb, files_per_manifest=fpm),
        flush=P.Flush(every_s=inputs.params.flush_every_s, max_wait_s=st.flush_max_wait_s, first_at_s=30.0),
        start=P.StartLimit(bucket=inputs.quota("sfn.start_execution_bucket") or 1300.0, refill_per_s=refill),
        glue=P.Glue(slots=st.max_concurrent_runs, account_slots=int(account_runs) if account_runs else None,
                    when_full=st.when_full, run_s=P.constant_rate(work.converter_mb_per_s),
                    startup_s=inputs.quota("glue.pythonshell_startup_s") or 0.0, start_latency_s=call_s,
                    finish_latency_s=0.0, poll_s=st.poll_s, mark_s=call_s,
                    retry_interval_s=float(retry["IntervalSeconds"]), retry_backoff=float(retry["BackoffRate"]),
                    retry_max_delay_s=float(retry["MaxDelaySeconds"]), retry_jitter=retry.get("JitterStrategy") == "FULL",
                    dpu=st.glue_dpu, min_billed_s=inputs.price("glue.min_billed_s")),
        seed=seed, label=f"{profile} {multiplier:g}x on AWS, {st.name} settings")


def with_changes(st: Setting, **changes) -> Setting:
    return replace(st, **changes)
