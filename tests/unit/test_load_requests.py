"""Requests per file from telemetry lines, workflow task calls and client uploads."""

import json
from collections import Counter

import pytest

from sim.load import latency, requests


def test_operation_names_from_state_machine_resources():
    assert requests.task_call("arn:aws:states:::aws-sdk:glue:startJobRun") == "glue.StartJobRun"
    assert requests.task_call("arn:aws:states:::dynamodb:updateItem") == "dynamodb.UpdateItem"
    assert requests.task_call("arn:aws:states:::sns:publish") == "sns.Publish"


def test_telemetry_lines_are_taken_by_time(tmp_path):
    path = tmp_path / "telemetry.jsonl"
    lines = [{"component": "builder", "at": t, "calls": {}} for t in (10.0, 20.0, 30.0)]
    path.write_text("".join(json.dumps(l) + "\n" for l in lines) + "{broken\n")
    assert [l["at"] for l in requests.read_telemetry(path, 15, 30)] == [20.0, 30.0]
    assert requests.read_telemetry(tmp_path / "none.jsonl", 0, 1) == []
    assert requests.read_telemetry("", 0, 1) == []


def test_per_file_sums_by_operation_and_service():
    telemetry = [
        {"component": "builder", "kind": "sqs", "calls": {"dynamodb.PutItem": 10, "dynamodb.Query": 1},
         "write_units": 20, "read_units": 0.5},
        {"component": "builder", "kind": "flush", "calls": {"dynamodb.Scan": 2, "stepfunctions.StartExecution": 1}},
        {"component": "converter", "calls": {"s3.GetObject": 10, "s3.PutObject": 1, "dynamodb.UpdateItem": 1}},
    ]
    workflow = Counter({"states.StateTransition": 6, "glue.StartJobRun": 1, "glue.GetJobRun": 2})
    out = requests.per_file(10, telemetry, workflow, executions=1, client_puts=10)
    ops = out["by_operation"]
    assert ops["dynamodb.PutItem"] == 1.0
    assert ops["s3.PutObject (client upload)"] == 1.0
    assert ops["lambda.Invoke (builder)"] == 0.2
    assert ops["glue.JobRun (converter)"] == 0.1
    assert ops["stepfunctions.StateTransition"] == 0.6
    assert ops["glue.GetJobRun (workflow)"] == 0.2
    assert ops["sqs.SendMessage (S3 notification)"] == 1.0
    assert ops["sqs.ReceiveMessage (event source mapping)"] == 0.1
    svc = out["by_service"]
    assert svc["s3"] == pytest.approx(1.0 + 1.0 + 0.1)
    assert svc["dynamodb"] == pytest.approx(1.0 + 0.1 + 0.2 + 0.1)
    assert svc["stepfunctions"] == pytest.approx(0.1 + 0.6)
    assert svc["glue"] == pytest.approx(0.1 + 0.1 + 0.2)
    assert out["sources"]["sqs.SendMessage (S3 notification)"].startswith("inferred")
    assert out["dynamodb_write_units"] == 2.0
    assert requests.per_file(0, telemetry, workflow, 1, 0)["by_service"] == {}


def test_end_to_end_joins_uploads_to_conversions():
    conv = latency.Conversions(manifest_of={"a": "m1", "b": "m1", "c": "m2"}, converted_at={"m1": 110.0})
    values, unconverted = latency.end_to_end({"a": 100.0, "b": 105.0, "c": 100.0, "d": 1.0}, conv)
    assert sorted(values) == [5.0, 10.0]
    assert unconverted == 2
