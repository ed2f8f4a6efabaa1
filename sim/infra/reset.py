"""Wipe the pipeline's data (not its wiring): landed and output objects, state items, queued
messages and workflow history, so a run is judged on its own files.

Workflow history cannot be deleted execution by execution; the state machine is deleted and the
deploy that follows recreates it.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from sim.infra import aws
from sim.infra.spec import Names


def wipe(target, names: Names, state_machine_arn: str, tables: list[str] | None = None) -> dict:
    """`tables`: the pipeline's tables (default: `sim`'s own)."""
    s3, ddb, sqs, sfn = (target.client(s) for s in ("s3", "dynamodb", "sqs", "stepfunctions"))
    removed = {"objects": 0, "items": 0}
    for bucket in (names.landing_bucket, names.output_bucket):
        removed["objects"] += aws.empty_bucket(s3, bucket)
    for name in tables or [names.table]:
        removed["items"] += _empty_table(target, ddb, name)
    for queue in (names.queue, names.dlq):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        try:
            sqs.purge_queue(QueueUrl=url)
        except ClientError as exc:
            if "PurgeQueueInProgress" not in aws.error_code(exc):
                raise
    aws.live(lambda: sfn.delete_state_machine(stateMachineArn=state_machine_arn))
    return removed


def _empty_table(target, ddb, name: str) -> int:
    """Delete every item of a table, whatever its keys."""
    keys = [k["AttributeName"] for k in ddb.describe_table(TableName=name)["Table"]["KeySchema"]]
    table = target.session.resource("dynamodb", endpoint_url=target.endpoint).Table(name)
    removed = 0
    with table.batch_writer() as batch:
        for page in table.meta.client.get_paginator("scan").paginate(
                TableName=name, ProjectionExpression=", ".join(f"#k{i}" for i in range(len(keys))),
                ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(keys)}):
            for item in page.get("Items", []):
                batch.delete_item(Key={k: item[k] for k in keys})
                removed += 1
    return removed
