"""A builder written without sim in mind: one manifest per SQS batch, nothing held back.

Each new landed object (key and ETag) is recorded with a conditional put, so a redelivered
notification is not tracked twice; the batch's new objects become one manifest (a text file of
s3:// URIs) and one workflow execution named after it. Plain boto3, one file.
"""
import hashlib
import json
import os
import urllib.parse

import boto3
from botocore.exceptions import ClientError

table = boto3.resource("dynamodb").Table(os.environ["STATE_TABLE"])
s3 = boto3.client("s3")
sfn = boto3.client("stepfunctions")


def _objects(event):
    for message in event.get("Records", []):
        body = json.loads(message["body"])
        for record in body.get("Records", []):  # an s3:TestEvent has none
            obj = record["s3"]["object"]
            yield record["s3"]["bucket"]["name"], urllib.parse.unquote_plus(obj["key"]), obj.get("eTag", "")


def handler(event, context):
    fresh = []
    for bucket, key, etag in _objects(event):
        try:
            table.put_item(Item={"pk": key + "@" + etag, "bucket": bucket, "object_key": key},
                           ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                continue
            raise
        fresh.append("s3://%s/%s" % (bucket, key))
    if not fresh:
        return {"manifest": None}
    manifest_id = hashlib.sha256("\n".join(sorted(fresh)).encode()).hexdigest()[:32]
    manifest_key = "batches/%s.txt" % manifest_id
    s3.put_object(Bucket=os.environ["MANIFESTS"], Key=manifest_key, Body="\n".join(fresh).encode())
    sfn.start_execution(stateMachineArn=os.environ["WORKFLOW"], name=manifest_id,
                        input=json.dumps({"manifest": "s3://%s/%s" % (os.environ["MANIFESTS"], manifest_key),
                                          "batch": manifest_id}))
    return {"manifest": manifest_id, "objects": len(fresh)}
