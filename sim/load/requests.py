"""Requests per landed file, by service and by operation, for one stretch of a run.

Measured: the pipeline's own AWS calls and invocations from the telemetry file (one JSON line per
builder invocation or converter run, appended at its end, `at` in epoch seconds); the client's
PutObject calls from the upload logs; the state machine's transitions and task calls from the
execution histories. Inferred (the engine makes these itself and nothing counts them): one SQS
message per file from the S3 notification, and the event source mapping's receive and delete per
builder batch. Each operation says which it is.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sim.core.jsonl import read_jsonl
from sim.infra.spec import Names


def read_telemetry(path: str | Path, since: float, until: float) -> list[dict]:
    """Telemetry lines whose `at` falls in [since, until]."""
    return [line for line in read_jsonl(path) if since <= float(line.get("at", 0)) <= until]


def task_call(resource_arn: str) -> str:
    """`arn:aws:states:::aws-sdk:glue:startJobRun` -> `glue.StartJobRun`."""
    parts = resource_arn.split(":")
    service, op = (parts[-2], parts[-1]) if len(parts) >= 2 else ("states", resource_arn)
    op = op.split(".")[0]
    return f"{service}.{op[:1].upper()}{op[1:]}"


def workflow_calls(target, names: Names, since: float, until: float) -> tuple[Counter, int]:
    """Task calls and state transitions of the executions started in [since, until]."""
    sfn = target.client("stepfunctions")
    account = target.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:states:{target.region}:{account}:stateMachine:{names.state_machine}"
    calls: Counter = Counter()
    executions = 0
    try:
        pages = list(sfn.get_paginator("list_executions").paginate(stateMachineArn=arn))
    except sfn.exceptions.StateMachineDoesNotExist:
        return calls, 0
    for page in pages:
        for e in page.get("executions", []):
            started = e["startDate"].timestamp()
            if not since <= started <= until:
                continue
            executions += 1
            kwargs = {"executionArn": e["executionArn"], "maxResults": 1000}
            while True:
                history = sfn.get_execution_history(**kwargs)
                for ev in history["events"]:
                    if ev["type"].endswith("StateEntered"):
                        calls["states.StateTransition"] += 1
                    elif ev["type"] == "TaskScheduled":
                        calls[task_call(ev["taskScheduledEventDetails"]["resource"])] += 1
                if not history.get("nextToken"):
                    break
                kwargs["nextToken"] = history["nextToken"]
    return calls, executions


def per_file(files: int, telemetry: list[dict], workflow: Counter, executions: int, client_puts: int,
             client_puts_source: str = "measured (upload logs)") -> dict:
    """Requests per file by operation and by service, with each operation's source."""
    if files <= 0:
        return {"files": 0, "by_service": {}, "by_operation": {}, "sources": {}}
    ops: Counter = Counter()
    sources: dict[str, str] = {}
    builder_sqs = 0
    for line in telemetry:
        ops.update(line.get("calls", {}))
        comp = line.get("component")
        if comp == "builder":
            ops["lambda.Invoke (builder)"] += 1
            if line.get("kind") == "sqs":
                builder_sqs += 1
        elif comp == "converter":
            ops["glue.JobRun (converter)"] += 1
    for op in ops:
        sources[op] = "measured (pipeline telemetry)"
    for op, n in workflow.items():
        name = "stepfunctions.StateTransition" if op == "states.StateTransition" else op + " (workflow)"
        ops[name] += n
        sources[name] = "measured (execution history)"
    ops["s3.PutObject (client upload)"] += client_puts
    sources["s3.PutObject (client upload)"] = client_puts_source
    ops["sqs.SendMessage (S3 notification)"] += files
    sources["sqs.SendMessage (S3 notification)"] = "inferred: one per landed file"
    ops["sqs.ReceiveMessage (event source mapping)"] += builder_sqs
    ops["sqs.DeleteMessageBatch (event source mapping)"] += builder_sqs
    sources["sqs.ReceiveMessage (event source mapping)"] = "inferred: one per builder batch"
    sources["sqs.DeleteMessageBatch (event source mapping)"] = "inferred: one per builder batch"
    by_op = {op: round(n / files, 4) for op, n in sorted(ops.items()) if n}
    by_service: Counter = Counter()
    for op, n in ops.items():
        by_service[_service(op)] += n
    return {
        "files": files,
        "executions": executions,
        "by_service": {s: round(n / files, 4) for s, n in sorted(by_service.items()) if n},
        "by_operation": by_op,
        "sources": {op: sources[op] for op in by_op},
        "dynamodb_write_units": round(sum(float(l.get("write_units", 0)) for l in telemetry) / files, 4),
        "dynamodb_read_units": round(sum(float(l.get("read_units", 0)) for l in telemetry) / files, 4),
    }


def _service(op: str) -> str:
    service = op.split(".", 1)[0]
    return {"states": "stepfunctions"}.get(service, service)
