"""examples/seed-plan's code run in-process against the embedded engine (plain boto3, no mocks).

The builder: its table made from pipeline.toml's [[tables]], a trivial state machine, a manifest
bucket; its handler given SQS-shaped batches of S3 notifications, with the switches of each plan
item. What each ordering leaves (items, manifest objects, executions) is read back from the
engine. Faults are raised at the AWS-call boundary with botocore's own event hooks, as sim's
injector does, so the code under test runs unchanged.

The converter: its main, as Glue starts it, on a manifest of generated files in the engine's S3;
every record must come back with its values. The state machine: its definition on the engine's
Step Functions and Glue, with a job script that succeeds or fails."""

from __future__ import annotations

import gzip
import io
import json
import logging
import tomllib
import uuid
from collections import Counter
from urllib.parse import quote_plus

import boto3
import botocore.exceptions
import pyarrow.parquet as pq
import pytest

from sim.engine import ministack
from sim.workload.generator import CANARY_MARK, file_key, generate_file
from tests.seed_plan_example import (CONVERTER, EXAMPLE, canonical, install_awsglue, load, load_builder,
                                     root_logger_kept, rows_as_records)

from .conftest import wait_until

DATE = "2026-11-25"
BATCH = 5
SEED = 5  # among its first 12 keys, one has a space and a '+'
FIXED = {"IDEMPOTENT_TRACKING": "true", "MANIFEST_ORDER": "plan", "CONDITIONAL_CLAIMS": "true"}


class Aws:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def aws(engine, monkeypatch):
    endpoint = ministack.load_state(engine).endpoint
    for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    return Aws(endpoint)


def create_tables(ddb, prefix: str) -> str:
    """The first table of pipeline.toml, made as its [[tables]] entry says."""
    spec = tomllib.loads((EXAMPLE / "pipeline.toml").read_text())["tables"][0]
    keys = [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}]
    if spec.get("range_key"):
        keys.append({"AttributeName": spec["range_key"], "KeyType": "RANGE"})
    names = {k["AttributeName"] for k in keys}
    indexes = []
    for index in spec.get("indexes", []):
        schema = [{"AttributeName": index["hash_key"], "KeyType": "HASH"}]
        if index.get("range_key"):
            schema.append({"AttributeName": index["range_key"], "KeyType": "RANGE"})
        names |= {k["AttributeName"] for k in schema}
        indexes.append({"IndexName": index["name"], "KeySchema": schema,
                        "Projection": {"ProjectionType": index.get("projection", "ALL")}})
    name = f"{prefix}-{spec['id']}"
    ddb.create_table(TableName=name, KeySchema=keys, BillingMode="PAY_PER_REQUEST", GlobalSecondaryIndexes=indexes,
                     AttributeDefinitions=[{"AttributeName": n, "AttributeType": spec["attributes"].get(n, "S")}
                                           for n in sorted(names)])
    ddb.get_waiter("table_exists").wait(TableName=name)
    return name


class Pipeline:
    """The resources the builder needs, named for one test, and what they hold afterwards."""

    def __init__(self, aws: Aws, monkeypatch):
        self.aws, self.monkeypatch = aws, monkeypatch
        prefix = f"seedplan-{uuid.uuid4().hex[:8]}"
        self.ddb, self.s3, self.sfn = aws.client("dynamodb"), aws.client("s3"), aws.client("stepfunctions")
        self.table = create_tables(self.ddb, prefix)
        self.bucket = f"{prefix}-manifests"
        self.s3.create_bucket(Bucket=self.bucket)
        trivial = {"StartAt": "Converted", "States": {"Converted": {"Type": "Succeed"}}}
        self.state_machine_arn = self.sfn.create_state_machine(
            name=f"{prefix}-convert", definition=json.dumps(trivial),
            roleArn="arn:aws:iam::000000000000:role/seedplan")["stateMachineArn"]

    def builder(self, **switches):
        """A fresh builder module (a new Lambda container) with these switches."""
        env = {"MANIFEST_TABLE_NAME": self.table, "STATE_MACHINE_ARN": self.state_machine_arn,
               "MANIFEST_BUCKET": self.bucket, "BATCH_SIZE": str(BATCH), "LOG_LEVEL": "INFO", **switches}
        return load_builder(self.monkeypatch, env)

    def items(self) -> tuple[dict, dict]:
        """(file items by key, MANIFEST records by manifest id)."""
        files, manifests = {}, {}
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table):
            for item in page["Items"]:
                plain = {k: next(iter(v.values())) for k, v in item.items()}
                if plain.get("record_type") == "MANIFEST":
                    manifests[plain["manifest_id"]] = plain
                else:
                    files[plain["file_key"]] = plain
        return files, manifests

    def executions(self) -> dict:
        """execution name -> (its ARN, its input, the keys its manifest object lists)."""
        out = {}
        for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn):
            for execution in page["executions"]:
                described = self.sfn.describe_execution(executionArn=execution["executionArn"])
                given = json.loads(described["input"])
                body = self.s3.get_object(Bucket=given["manifest_bucket"], Key=given["manifest_key"])["Body"].read()
                out[execution["name"]] = (execution["executionArn"], given, [e["key"] for e in json.loads(body)])
        return out

    def conversions_per_file(self) -> Counter:
        return Counter(key for _, _, keys in self.executions().values() for key in keys)


@pytest.fixture
def pipeline(aws, monkeypatch):
    with root_logger_kept():
        yield Pipeline(aws, monkeypatch)


def keys(n: int, start: int = 0) -> list[str]:
    return [file_key(SEED, i, DATE) for i in range(start, start + n)]


def sqs_event(file_keys: list[str], bucket: str = "landing") -> dict:
    """One SQS batch, one S3 notification per message, keys URL-encoded as S3 sends them."""
    return {"Records": [{"messageId": str(uuid.uuid4()), "body": json.dumps({"Records": [{
        "eventName": "ObjectCreated:Put", "eventTime": f"{DATE}T10:00:00.000Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(k), "size": 1000}}}]})}
        for k in file_keys]}


FLUSH = {"action": "flush"}


def fail_call(module, operation: str, error, times: int = 1, when=lambda request: True):
    """Make the module's DynamoDB client raise `error` before the next `times` calls of `operation`
    whose serialized request matches `when` (botocore's before-call hook: the request is never sent)."""
    left = [times]

    def hook(params, **_):
        if left[0] and when(params):
            left[0] -= 1
            raise error

    module.dynamodb.meta.client.meta.events.register(f"before-call.dynamodb.{operation}", hook)


def client_error(code: str, operation: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)


# -- the plain path ------------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["original", "plan"])
def test_twelve_files_make_two_full_manifests_and_the_flush_a_third(pipeline, order):
    landed = keys(12)
    assert any(" " in k and "+" in k for k in landed)
    module = pipeline.builder(MANIFEST_ORDER=order)

    first = module.lambda_handler(sqs_event(landed[:10]), None)
    assert first["tracked"] == 10 and len(first["manifests"]) == 2
    second = module.lambda_handler(sqs_event(landed[10:]), None)
    assert second == {"tracked": 2, "manifests": []}
    files, _ = pipeline.items()
    assert sorted(k for k, f in files.items() if f["status"] == "pending") == sorted(landed[10:])
    flushed = module.lambda_handler(FLUSH, None)
    assert flushed["flushed_dates"] == [DATE] and len(flushed["manifests"]) == 1
    assert module.lambda_handler(FLUSH, None) == {"flushed_dates": [], "manifests": []}

    files, manifests = pipeline.items()
    executions = pipeline.executions()
    built = first["manifests"] + flushed["manifests"]
    assert set(manifests) == set(executions) == set(built)
    assert sorted(files) == sorted(landed)  # decoded keys, one item each
    assert pipeline.conversions_per_file() == Counter({k: 1 for k in landed})
    for mid, (arn, given, listed) in executions.items():
        record = manifests[mid]
        assert given == {"manifest_id": mid, "date_prefix": DATE, "manifest_bucket": pipeline.bucket,
                         "manifest_key": record["manifest_key"], "file_count": len(listed)}
        assert int(record["file_count"]) == len(listed) and record["status"] == "processing"
        # Item 2 records the execution's ARN on the MANIFEST record; the original order cannot.
        assert record.get("execution_arn") == (arn if order == "plan" else None)
        assert {k for k in listed} == {k for k, f in files.items() if f["manifest_id"] == mid}
    assert sorted(len(listed) for _, _, listed in executions.values()) == [2, 5, 5]
    assert {f["status"] for f in files.values()} == {"manifested"}


# -- item 1: redelivery --------------------------------------------------------------------------

@pytest.mark.parametrize("idempotent", [False, True], ids=["original-tracking", "item-1"])
def test_a_redelivered_batch(pipeline, idempotent):
    module = pipeline.builder(IDEMPOTENT_TRACKING=str(idempotent).lower())
    event = sqs_event(keys(10))
    assert len(module.lambda_handler(event, None)["manifests"]) == 2
    again = module.lambda_handler(event, None)  # SQS delivers the same batch again

    files, manifests = pipeline.items()
    assert len(files) == 10 and {f["status"] for f in files.values()} == {"manifested"}
    if idempotent:
        assert again["manifests"] == [] and len(manifests) == 2
        assert pipeline.conversions_per_file() == Counter({k: 1 for k in keys(10)})
    else:
        # The put_item made every file `pending` again: a second pair of manifests, each file converted twice.
        assert len(again["manifests"]) == 2 and len(manifests) == 4
        assert pipeline.conversions_per_file() == Counter({k: 2 for k in keys(10)})


# -- item 2: the orderings' crash windows -----------------------------------------------------------

@pytest.mark.parametrize("order", ["original", "plan"])
def test_startexecution_failing(pipeline, order):
    pipeline.state_machine_arn = pipeline.state_machine_arn + "-gone"  # StartExecution fails for real
    module = pipeline.builder(MANIFEST_ORDER=order)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        module.lambda_handler(sqs_event(keys(5)), None)
    assert caught.value.response["Error"]["Code"] == "StateMachineDoesNotExist"

    files, manifests = pipeline.items()
    if order == "original":
        # A MANIFEST record without a workflow, its files claimed: nothing will convert them.
        (mid, record), = manifests.items()
        assert record["status"] == "processing" and "execution_arn" not in record
        assert {(f["status"], f["manifest_id"]) for f in files.values()} == {("manifested", mid)}
        assert module.lambda_handler(FLUSH, None)["manifests"] == []
    else:
        # Item 2 holds here: no MANIFEST record, the files still pending for the next try.
        assert manifests == {} and {f["status"] for f in files.values()} == {"pending"}


def test_plan_order_manifest_record_failing_leaves_a_workflow_without_it(pipeline):
    module = pipeline.builder(MANIFEST_ORDER="plan")
    fail_call(module, "PutItem", client_error("InternalServerError", "PutItem"),
              when=lambda request: json.loads(request["body"])["Item"]["record_type"] == {"S": "MANIFEST"})
    built = module.lambda_handler(sqs_event(keys(5)), None)["manifests"]  # the plan swallows the error

    files, manifests = pipeline.items()
    assert manifests == {} and set(pipeline.executions()) == set(built)
    assert {(f["status"], f["manifest_id"]) for f in files.values()} == {("manifested", built[0])}


def test_plan_order_crash_between_start_and_statuses_converts_the_files_twice(pipeline):
    """Even with items 1, 2 and 13: the files stay pending, and the redelivered batch builds them
    a second manifest while the first workflow converts them."""
    module = pipeline.builder(**FIXED)
    event = sqs_event(keys(5))
    fail_call(module, "UpdateItem", RuntimeError("the builder died here"))
    with pytest.raises(RuntimeError):
        module.lambda_handler(event, None)
    files, manifests = pipeline.items()
    assert len(manifests) == 1 and len(pipeline.executions()) == 1
    assert {f["status"] for f in files.values()} == {"pending"}

    module.lambda_handler(event, None)  # SQS redelivers the batch the crash failed
    files, manifests = pipeline.items()
    assert len(manifests) == 2 and {f["status"] for f in files.values()} == {"manifested"}
    assert pipeline.conversions_per_file() == Counter({k: 2 for k in keys(5)})


# -- item 13: concurrent builders -------------------------------------------------------------------

@pytest.mark.parametrize("order, claims, conversions", [
    ("original", "false", 2),  # no condition: both builders manifest every file
    ("original", "true", 1),  # item 13: the second builder's claims fail and it starts nothing
    ("plan", "true", 2),  # item 13 after item 2's start: the condition comes too late
])
def test_two_builders_reading_the_same_pending_files(pipeline, order, claims, conversions):
    # Both past the date's lock (its race, or no lock): what the claims alone do.
    first = pipeline.builder(MANIFEST_ORDER=order, CONDITIONAL_CLAIMS=claims, DISTRIBUTED_LOCK="false")
    second = pipeline.builder(MANIFEST_ORDER=order, CONDITIONAL_CLAIMS=claims, DISTRIBUTED_LOCK="false")
    flushed = []

    def other_builder_runs(params, **_):
        if not flushed:  # between the first builder's read of the pending files and its first claim
            flushed.append(second.lambda_handler(FLUSH, None))

    first.dynamodb.meta.client.meta.events.register("before-call.dynamodb.UpdateItem", other_builder_runs)
    first.lambda_handler(sqs_event(keys(5)), None)

    assert len(flushed[0]["manifests"]) == 1
    assert pipeline.conversions_per_file() == Counter({k: conversions for k in keys(5)})
    files, manifests = pipeline.items()
    assert len(manifests) == 2 and {f["status"] for f in files.values()} == {"manifested"}
    if claims == "true":  # every file belongs to the builder that claimed it first
        assert {f["manifest_id"] for f in files.values()} == set(flushed[0]["manifests"])


def test_a_builder_that_finds_the_date_locked_builds_nothing(pipeline):
    first, second = pipeline.builder(), pipeline.builder()
    flushed = []

    def other_builder_runs(params, **_):
        if not flushed:  # while the first builder holds the date's lock
            flushed.append(second.lambda_handler(FLUSH, None))

    first.dynamodb.meta.client.meta.events.register("before-call.dynamodb.UpdateItem", other_builder_runs)
    first.lambda_handler(sqs_event(keys(5)), None)
    assert flushed[0]["manifests"] == []
    assert pipeline.conversions_per_file() == Counter({k: 1 for k in keys(5)})
    files, _ = pipeline.items()
    assert {f["status"] for f in files.values()} == {"manifested"}


# -- logs (items 3 and 4) ------------------------------------------------------------------------

@pytest.mark.parametrize("redact", [False, True])
def test_the_event_log_line(pipeline, caplog, redact):
    module = pipeline.builder(LOG_LEVEL="DEBUG", REDACT_EVENT_LOG=str(redact).lower())
    caplog.set_level(logging.DEBUG)
    module.lambda_handler(sqs_event(keys(2)), None)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Event received:")]
    if redact:
        assert lines == ["Event received: 2 records"]
    else:
        assert len(lines) == 1 and quote_plus(keys(2)[1]) in lines[0]  # the whole event


# -- the converter ---------------------------------------------------------------------------------

def test_the_glue_job_keeps_every_value_of_generated_files(aws, monkeypatch, caplog):
    s3 = aws.client("s3")
    prefix = f"seedplan-{uuid.uuid4().hex[:8]}"
    landing, output = f"{prefix}-landing", f"{prefix}-output"
    for bucket in (landing, output):
        s3.create_bucket(Bucket=bucket)
    generated = [generate_file(3, i, size=48_000, date_prefix=DATE) for i in range(4)]
    landed, entries = [], []
    for n, f in enumerate(generated):
        body, key = f.body, f.key
        if n == 1:
            body, key = gzip.compress(body), key + ".gz"
        if n == 2:  # two lines that are not JSON objects, carrying a canary
            body += f'["{CANARY_MARK} in an array"]\n{{"{CANARY_MARK}": broken\n'.encode()
        s3.put_object(Bucket=landing, Key=key, Body=body)
        entries.append({"bucket": landing, "key": key})
        landed += [json.loads(line) for line in f.body.splitlines()]
    shapes = {"ledger_id", "attributes", "local_time", "ratio", "coupon", "referrer"}
    assert shapes <= {k for r in landed for k in r}, "the generated files hold every rare shape"
    mid = str(uuid.uuid4())
    s3.put_object(Bucket=landing, Key=f"manifests/{DATE}/{mid}.json", Body=json.dumps(entries).encode())

    install_awsglue(monkeypatch)
    job = load(CONVERTER)
    caplog.set_level(logging.INFO)
    summary = job.main(["glue_job.py", "--JOB_ID", "jr_1", "--manifest_bucket", landing,
                        "--manifest_key", f"manifests/{DATE}/{mid}.json", "--manifest_id", mid,
                        "--date_prefix", DATE, "--output_bucket", output])

    key = f"parquet/date={DATE}/manifest={mid}.parquet"
    assert summary["output_key"] == key and summary["records"] == len(landed) and summary["skipped_lines"] == 2
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=output, Key=key)["Body"].read()))
    assert s3.list_objects_v2(Bucket=output)["KeyCount"] == 1
    assert Counter(canonical(r) for r in rows_as_records(table)) == Counter(canonical(r) for r in landed)
    texts = {f.name for f in table.schema if f.metadata and b"sim.json_text" in f.metadata}
    assert "ledger_id" in texts and set(summary["json_text_fields"]) == texts
    assert all(str(table.schema.field(n).type) == "string" for n in ("occurred_at", "local_time"))
    assert CANARY_MARK not in caplog.text
    assert f"skipped 2 lines that are not JSON objects in {entries[2]['key']}" in caplog.text



# -- the state machine -----------------------------------------------------------------------------

@pytest.mark.parametrize("run_ends, execution_ends, manifest_ends", [
    (0, "SUCCEEDED", "complete"), (1, "FAILED", "processing")])
def test_the_state_machine_runs_the_job_then_marks_the_manifest(pipeline, run_ends, execution_ends, manifest_ends):
    """statemachine.asl.json with its placeholders filled, on the engine's Step Functions and Glue;
    the job is a script that ends as the case says (the converter is tested above)."""
    prefix = pipeline.table.rsplit("-", 1)[0]
    script = f"{prefix}/job.py"
    pipeline.s3.put_object(Bucket=pipeline.bucket, Key=script, Body=f"import sys\nsys.exit({run_ends})\n".encode())
    glue = pipeline.aws.client("glue")
    job = f"{prefix}-job"
    glue.create_job(Name=job, Role="arn:aws:iam::000000000000:role/seedplan", MaxCapacity=0.0625,
                    Command={"Name": "pythonshell", "PythonVersion": "3.9",
                             "ScriptLocation": f"s3://{pipeline.bucket}/{script}"})
    text = (EXAMPLE / "statemachine.asl.json").read_text()
    definition = (text.replace("${GlueJobName}", job).replace("${TableName}", pipeline.table)
                  .replace("${PollSeconds}", "1"))
    arn = pipeline.sfn.create_state_machine(name=f"{prefix}-workflow", definition=definition,
                                            roleArn="arn:aws:iam::000000000000:role/seedplan")["stateMachineArn"]
    mid = str(uuid.uuid4())
    pipeline.ddb.put_item(TableName=pipeline.table, Item={
        "date_prefix": {"S": DATE}, "file_key": {"S": f"MANIFEST#{mid}"}, "record_type": {"S": "MANIFEST"},
        "manifest_id": {"S": mid}, "status": {"S": "processing"}})
    given = {"manifest_id": mid, "date_prefix": DATE, "manifest_bucket": pipeline.bucket,
             "manifest_key": f"manifests/{DATE}/{mid}.json", "file_count": 5}
    execution = pipeline.sfn.start_execution(stateMachineArn=arn, name=mid, input=json.dumps(given))["executionArn"]

    status = wait_until(lambda: (s := pipeline.sfn.describe_execution(executionArn=execution)["status"]) != "RUNNING"
                        and s, timeout=120)
    assert status == execution_ends
    _, manifests = pipeline.items()
    assert manifests[mid]["status"] == manifest_ends
    assert ("completed_at" in manifests[mid]) == (manifest_ends == "complete")
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    assert len(runs) == 1 and {k: runs[0]["Arguments"][k] for k in
                               ("--manifest_bucket", "--manifest_key", "--manifest_id", "--date_prefix")} == {
        "--manifest_bucket": pipeline.bucket, "--manifest_key": given["manifest_key"], "--manifest_id": mid,
        "--date_prefix": DATE}
