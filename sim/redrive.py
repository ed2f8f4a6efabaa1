"""`sim redrive`: run the workflow again for manifests whose conversion failed.

The converter is idempotent (it overwrites the manifest's one Parquet key), so a rerun cannot
duplicate records. The new execution is named `<manifest id>--redrive-<n>`: Step Functions refuses
to reuse a closed execution's name, and validation reads the suffix to judge a manifest by its
latest run.
"""

from __future__ import annotations

import json
import time

from sim.errors import SimError
from sim.infra.spec import Names, Wiring
from sim.validate.checks import REDRIVE

_DONE = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def failed_manifests(target, names: Names) -> list[dict]:
    ddb = target.client("dynamodb")
    items = []
    for page in ddb.get_paginator("scan").paginate(
        TableName=names.table,
        FilterExpression="record_type = :m AND #s = :f",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":m": {"S": "MANIFEST"}, ":f": {"S": "failed"}},
    ):
        items.extend(page.get("Items", []))
    return items


def redrive(target, wiring: Wiring, manifest_ids: list[str] | None = None, wait_s: float = 300.0) -> list[dict]:
    """Start a new execution for each failed manifest (or the given ones); wait for them to end."""
    names = wiring.names
    sfn, ddb = target.client("stepfunctions"), target.client("dynamodb")
    sm_arn = wiring.state_machine_arn()
    items = failed_manifests(target, names)
    if manifest_ids:
        wanted = set(manifest_ids)
        items = [i for i in items if i["manifest_id"]["S"] in wanted]
        missing = wanted - {i["manifest_id"]["S"] for i in items}
        if missing:
            raise SimError(f"not failed manifests: {', '.join(sorted(missing))}")
    existing = [e["name"] for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm_arn)
                for e in page["executions"]]
    started = []
    for item in items:
        mid, date_prefix = item["manifest_id"]["S"], item["date_prefix"]["S"]
        attempt = 1 + sum(1 for n in existing if n.startswith(mid + REDRIVE))
        name = f"{mid}{REDRIVE}{attempt}"
        payload = {"manifest_id": mid, "manifest_key": item["manifest_key"]["S"], "date_prefix": date_prefix,
                   "file_count": int(item.get("file_count", {}).get("N", "0"))}
        arn = sfn.start_execution(stateMachineArn=sm_arn, name=name, input=json.dumps(payload, sort_keys=True))[
            "executionArn"]
        ddb.update_item(
            TableName=names.table,
            Key={"date_prefix": {"S": date_prefix}, "file_key": {"S": "MANIFEST#" + mid}},
            UpdateExpression="SET #s = :s, execution_arn = :a REMOVE failure",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "started"}, ":a": {"S": arn}},
        )
        started.append({"manifest_id": mid, "execution": name, "execution_arn": arn})
    deadline = time.monotonic() + wait_s
    for run in started:
        while True:
            status = sfn.describe_execution(executionArn=run["execution_arn"])["status"]
            if status in _DONE or time.monotonic() > deadline:
                run["status"] = status
                break
            time.sleep(0.5)
    return started
