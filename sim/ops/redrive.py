"""`sim redrive`: run the workflow again for manifests whose conversion failed, by hand.

For a pipeline `sim` did not write, whose state it cannot read, the failed executions are started
again with their own input (`rerun_failed_executions`), as an operator would from the console.

The pipeline redrives a failed manifest by itself (the flush) until MANIFEST_MAX_ATTEMPTS
attempts have run; after that, or sooner, a person does it here, once the cause is fixed. Both go
through the builder's own redrive: the next attempt is recorded on the MANIFEST item with a
conditional write (failed at attempt n -> started at n + 1) before its execution starts, so a
manual and an automatic redrive of the same manifest cannot both run. The execution is named
`<manifest id>--redrive-<attempt>`. The converter overwrites the manifest's one Parquet file, so a
rerun cannot duplicate records.
"""

from __future__ import annotations

import time

from sim.core.errors import SimError
from sim.core.polling import wait_until
from sim.infra.spec import Names, Wiring
from sim.pipeline import manifests
from sim.pipeline.builder import Builder, BuilderSettings

_DONE = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def failed_manifests(target, names: Names) -> list[dict]:
    """Every failed MANIFEST item (the automatic retries' or not), as the builder reads items."""
    table = target.session.resource("dynamodb", endpoint_url=target.endpoint).Table(names.table)
    items, kwargs = [], {"FilterExpression": "record_type = :m AND #s = :f",
                         "ExpressionAttributeNames": {"#s": "status"},
                         "ExpressionAttributeValues": {":m": "MANIFEST", ":f": "failed"}}
    while True:
        page = table.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _builder(target, wiring: Wiring) -> Builder:
    env = wiring.builder_environment()
    settings = BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                               state_machine_arn=env["STATE_MACHINE_ARN"], batch_size=int(env["MANIFEST_BATCH_SIZE"]),
                               max_attempts=int(env["MANIFEST_MAX_ATTEMPTS"]))
    return Builder(settings, dynamodb=target.session.resource("dynamodb", endpoint_url=target.endpoint),
                   s3=target.client("s3"), sfn=target.client("stepfunctions"))


RERUN = "--rerun-"


def rerun_failed_executions(target, wiring: Wiring, wait_s: float = 300.0) -> list[dict]:
    """Start every failed execution again with its input, as `<name>--rerun-<n>` (an execution whose
    input already succeeded in a later run is left alone); wait for them to end."""
    sfn = target.client("stepfunctions")
    arn = wiring.state_machine_arn()
    executions = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        executions += page["executions"]
    executions.sort(key=lambda e: e["startDate"])
    latest: dict[str, dict] = {}  # by the original execution's name: its last run
    for e in executions:
        latest[e["name"].split(RERUN, 1)[0]] = e
    started = []
    for base, last in sorted(latest.items()):
        if last["status"] not in ("FAILED", "TIMED_OUT", "ABORTED"):
            continue
        payload = sfn.describe_execution(executionArn=last["executionArn"]).get("input", "{}")
        runs = sum(1 for e in executions if e["name"].split(RERUN, 1)[0] == base)
        name = f"{base[:80 - len(RERUN) - 4]}{RERUN}{runs}"
        resp = sfn.start_execution(stateMachineArn=arn, name=name, input=payload)
        started.append({"manifest_id": base, "execution": name, "execution_arn": resp["executionArn"]})
    _wait_ended(sfn, started, wait_s)
    return started


def _wait_ended(sfn, started: list[dict], wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    for run in started:
        def ended(arn=run["execution_arn"]):
            status = sfn.describe_execution(executionArn=arn)["status"]
            return status if status in _DONE else None

        try:
            run["status"] = wait_until(ended, timeout=max(0.0, deadline - time.monotonic()), what=run["execution"])
        except TimeoutError:  # still running: say so
            run["status"] = sfn.describe_execution(executionArn=run["execution_arn"])["status"]


def redrive(target, wiring: Wiring, manifest_ids: list[str] | None = None, wait_s: float = 300.0) -> list[dict]:
    """Start the next attempt of each failed manifest (or the given ones); wait for them to end."""
    items = failed_manifests(target, wiring.names)
    if manifest_ids:
        wanted = set(manifest_ids)
        items = [i for i in items if i["manifest_id"] in wanted]
        missing = wanted - {i["manifest_id"] for i in items}
        if missing:
            raise SimError(f"not failed manifests: {', '.join(sorted(missing))}")
    builder = _builder(target, wiring)
    started = []
    for item in items:
        mid, attempt = item["manifest_id"], int(item.get("attempt", 1)) + 1
        arn = builder.redrive(item, by="sim redrive")
        if arn is None:
            continue  # redriven by someone else (the flush) a moment ago
        started.append({"manifest_id": mid, "attempt": attempt, "execution": manifests.execution_name(mid, attempt),
                        "execution_arn": arn})
    _wait_ended(target.client("stepfunctions"), started, wait_s)
    return started
