"""What only the engine knows about a run, read while it still runs: workflow state transitions,
Glue run times, log bytes, and the sizes of what the pipeline wrote.

Every reader returns None when the engine cannot answer (stopped, wiped, another target), so the
metrics fall back to the telemetry lines and say which source they used.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter

from botocore.exceptions import BotoCoreError, ClientError

from sim.engine import ministack
from sim.engine.target import Target
from sim.infra.spec import MANIFESTS_PREFIX, Names
from sim.load.requests import task_call

MAX_HISTORIES = 200  # larger runs are sampled: transitions per execution barely vary
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PLATFORM = ("START", "END", "REPORT", "INIT_START")


def target_of(run: dict) -> Target | None:
    """A client factory for the run's engine, or None when it is not reachable now."""
    name, endpoint = run.get("target", "ministack"), run.get("endpoint")
    if name == "aws":
        return Target("aws", None)
    if not endpoint or not ministack.healthy(endpoint, timeout=1.0):
        return None
    return Target(name, endpoint)


def _ts(value) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def within(value, start: float, end: float) -> bool:
    """Whether a service's timestamp falls in the run's window. A service that keeps whole seconds
    (the engine's Glue StartedOn) floors a start made just after the run began to before it: such a
    timestamp counts from the run's first whole second."""
    at = _ts(value)
    return (math.floor(start) if at == int(at) else start) <= at <= end


def _safe(fn):
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError, KeyError):
            return None

    wrapper.__doc__ = fn.__doc__
    return wrapper


@_safe
def state_transitions(target: Target, names: Names, start: float, end: float) -> dict | None:
    """Executions started in the window and their state transitions (each state entered is one)."""
    sfn = target.client("stepfunctions")
    account = target.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:states:{target.region}:{account}:stateMachine:{names.state_machine}"
    executions = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        executions += [e for e in page["executions"] if within(e["startDate"], start, end)]
    statuses = Counter(e["status"] for e in executions)
    sample = executions if len(executions) <= MAX_HISTORIES else random.Random(7).sample(executions, MAX_HISTORIES)
    per_exec, durations = [], []
    tasks: Counter = Counter()
    for e in sample:
        entered = 0
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=e["executionArn"]):
            entered += sum(1 for ev in page["events"] if ev["type"].endswith("StateEntered"))
            tasks.update(task_call(ev["taskScheduledEventDetails"]["resource"]) for ev in page["events"]
                         if ev["type"] == "TaskScheduled")
        per_exec.append(entered)
        if e.get("stopDate"):
            durations.append(_ts(e["stopDate"]) - _ts(e["startDate"]))
    mean = sum(per_exec) / len(per_exec) if per_exec else 0.0
    return {
        "executions": len(executions),
        "by_status": dict(sorted(statuses.items())),
        "sampled": len(sample),
        "transitions_per_execution": round(mean, 2),
        "transitions": round(mean * len(executions)),
        "execution_seconds_mean": round(sum(durations) / len(durations), 2) if durations else None,
        "task_calls_per_execution": {op: round(n / len(sample), 3) for op, n in sorted(tasks.items())} if sample else {},
    }


@_safe
def glue_runs(target: Target, names: Names, start: float, end: float) -> dict | None:
    """Glue job runs started in the window, with the execution time the service reports."""
    glue = target.client("glue")
    runs = []
    for page in glue.get_paginator("get_job_runs").paginate(JobName=names.glue_job):
        runs += [r for r in page["JobRuns"] if within(r["StartedOn"], start, end)]
    return {
        "runs": len(runs),
        "by_state": dict(sorted(Counter(r["JobRunState"] for r in runs).items())),
        "execution_time_s": sorted(int(r.get("ExecutionTime", 0)) for r in runs),
        "max_capacity": sorted({float(r.get("MaxCapacity", 0)) for r in runs}),
    }


@_safe
def log_bytes(target: Target, names: Names, start: float, end: float) -> dict | None:
    """Bytes of the pipeline's CloudWatch Logs events in the window, by level (platform lines apart)."""
    logs = target.client("logs")
    by_level: Counter = Counter()
    events = Counter()
    groups = [f"/aws/lambda/{names.builder_function}", f"/aws/lambda/{names.converter_function}"]
    found = False
    for group in groups:
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=group, startTime=int(start * 1000), endTime=int(end * 1000))
            for page in pages:
                found = True
                for e in page["events"]:
                    first = e["message"].split(" ", 1)[0].split("\t", 1)[0]
                    level = first if first in LEVELS else "platform" if first in PLATFORM else "other"
                    by_level[level] += len(e["message"].encode())
                    events[level] += 1
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
    if not found:
        return None
    return {"bytes": sum(by_level.values()), "events": sum(events.values()),
            "bytes_by_level": dict(sorted(by_level.items())), "events_by_level": dict(sorted(events.items()))}


@_safe
def written_objects(target: Target, names: Names, start: float, end: float, bucket: str | None = None,
                    parquet_prefix: str = "", manifests_prefix: str | None = MANIFESTS_PREFIX) -> dict | None:
    """Objects the pipeline wrote in the window: Parquet outputs (under `parquet_prefix` of the
    output bucket) and manifest documents (under `manifests_prefix`; None: not counted)."""
    s3 = target.client("s3")
    out = {"parquet": {"count": 0, "bytes": 0}}
    if manifests_prefix is not None:
        out["manifests"] = {"count": 0, "bytes": 0}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket or names.output_bucket):
        for obj in page.get("Contents", []):
            if not start - 5 <= _ts(obj["LastModified"]) <= end + 5:
                continue  # S3 keeps whole seconds
            key = obj["Key"]
            kind = ("parquet" if key.endswith(".parquet") and key.startswith(parquet_prefix) else
                    "manifests" if manifests_prefix is not None and key.startswith(manifests_prefix) else None)
            if kind:
                out[kind]["count"] += 1
                out[kind]["bytes"] += int(obj["Size"])
    return out
