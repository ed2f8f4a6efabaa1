"""Faults at the AWS-call boundary on the embedded engine, for code sim did not write.

Deployed here with plain boto3 (not `sim deploy`): a tiny Lambda whose zip holds the `sim_inject`
bundle beside a user's handler making DynamoDB and S3 calls, run through the wrapper handler; and a
Glue Python-shell job whose script is the launcher, starting a user's script. What the user's code
sees and what the engine holds afterwards show each fault for real.
"""

import io
import json
import time
import uuid
import zipfile

import boto3
import pytest

from sim.engine import ministack
from sim.inject import bundle

from .conftest import wait_until

REGION = "us-east-1"

USER_HANDLER = """
import os
import boto3
from botocore.exceptions import ClientError

ddb = boto3.client("dynamodb")
s3 = boto3.client("s3")


def handler(event, context):
    out = []
    for key in event["keys"]:
        try:
            ddb.put_item(TableName=os.environ["TABLE"], Item={"pk": {"S": key}})
            out.append({"key": key, "code": None})
        except ClientError as exc:
            out.append({"key": key, "code": exc.response["Error"]["Code"], "class": type(exc).__name__,
                        "status": exc.response["ResponseMetadata"]["HTTPStatusCode"]})
    s3.put_object(Bucket=os.environ["BUCKET"], Key=event["marker"], Body=b"done")
    return out
"""

USER_GLUE_SCRIPT = """
import json
import sys

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "output_bucket", "out_key"])
boto3.client("s3").put_object(Bucket=args["output_bucket"], Key=args["out_key"],
                              Body=json.dumps({"argv": sys.argv, "args": args, "name": __name__}).encode())
"""


class Engine:
    def __init__(self, workdir):
        self.workdir = workdir
        self.endpoint = ministack.load_state(workdir).endpoint
        self.suffix = uuid.uuid4().hex[:8]
        self.table = f"inject-{self.suffix}"
        self.bucket = f"inject-{self.suffix}"

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="test",
                            aws_secret_access_key="test")

    def keys(self) -> set:
        items = self.client("dynamodb").scan(TableName=self.table, ConsistentRead=True)["Items"]
        return {i["pk"]["S"] for i in items}

    def clear(self):
        ddb = self.client("dynamodb")
        for key in self.keys():
            ddb.delete_item(TableName=self.table, Key={"pk": {"S": key}})

    def object(self, key):
        try:
            return self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client("s3").exceptions.NoSuchKey:
            return None


def zipped(extra: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in bundle.bundle_entries() + sorted(extra.items()):
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def aws(engine):
    e = Engine(engine)
    e.client("dynamodb").create_table(TableName=e.table, BillingMode="PAY_PER_REQUEST",
                                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    e.client("s3").create_bucket(Bucket=e.bucket)
    role = e.client("iam").create_role(RoleName=f"inject-{e.suffix}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "Service": ["lambda.amazonaws.com", "glue.amazonaws.com"]}}]}))
    e.role_arn = role["Role"]["Arn"]
    return e


def deploy_function(aws, rules, timeout=30):
    """A function running the user's handler through the wrapper, with these rules; returns
    (name, SIM_FAULTS as a dict)."""
    name = f"inject-{uuid.uuid4().hex[:8]}"
    faults = bundle.faults_json(aws.workdir / "faults", rules, record=True)
    env = {"TABLE": aws.table, "BUCKET": aws.bucket,
           **bundle.lambda_environment("user_handler.handler", "builder", faults)}
    aws.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=aws.role_arn, Handler=bundle.WRAPPER_HANDLER,
        Code={"ZipFile": zipped({"user_handler.py": USER_HANDLER})}, Timeout=timeout,
        Environment={"Variables": env})
    aws.clear()
    return name, json.loads(faults)


def invoke(aws, name, keys, marker):
    resp = aws.client("lambda").invoke(FunctionName=name, Payload=json.dumps({"keys": keys, "marker": marker}))
    return resp.get("FunctionError"), json.loads(resp["Payload"].read() or b"null")


def recorded(faults) -> list[dict]:
    with open(faults["record"]) as fh:
        return [json.loads(line) for line in fh]


def test_the_nth_call_fails_with_the_given_code_and_the_record_lists_the_calls_in_order(aws):
    name, faults = deploy_function(aws, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2,
                                          "action": "fail", "code": "ConditionalCheckFailedException"}])
    error, result = invoke(aws, name, ["a", "b", "c"], "m1")
    assert error is None, result
    assert result == [{"key": "a", "code": None},
                      {"key": "b", "code": "ConditionalCheckFailedException", "class": "ConditionalCheckFailedException",
                       "status": 400},
                      {"key": "c", "code": None}]
    assert aws.keys() == {"a", "c"} and aws.object("m1") == b"done"
    lines = recorded(faults)
    assert [(r["seq"], r["call"], r["nth"], r["error"], r["sent"]) for r in lines] == [
        (1, "dynamodb.PutItem", 1, None, True), (2, "dynamodb.PutItem", 2, "ConditionalCheckFailedException", False),
        (3, "dynamodb.PutItem", 3, None, True), (4, "s3.PutObject", 1, None, True)]
    assert len({r["invocation"] for r in lines}) == 1 and {r["process"] for r in lines} == {"builder"}


def test_a_kill_after_the_nth_call_keeps_its_effect_and_nothing_after_it(aws):
    name, faults = deploy_function(aws, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2,
                                          "action": "kill", "when": "after"}])
    error, result = invoke(aws, name, ["a", "b", "c"], "m2")
    assert error is not None, result  # the invocation failed: its process died
    assert aws.keys() == {"a", "b"} and aws.object("m2") is None
    assert [(r["call"], r["nth"], r["injected"]) for r in recorded(faults)] == [
        ("dynamodb.PutItem", 1, None), ("dynamodb.PutItem", 2, ["kill"])]


def test_a_delay_before_a_call_holds_the_invocation_there(aws):
    # Shown without timing anything: the delay outlasts the function's 1 s timeout, so the engine
    # ends the invocation while it waits before the second PutItem.
    name, faults = deploy_function(aws, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2,
                                          "action": "delay", "seconds": 5}], timeout=1)
    error, result = invoke(aws, name, ["a", "b"], "m3")
    assert error is not None and "timed out" in json.dumps(result), result
    assert aws.keys() == {"a"} and aws.object("m3") is None
    assert [r["nth"] for r in recorded(faults)] == [1]  # the second call never completed


def test_times_and_run_wide_counts_hold_across_invocations(aws):
    name, faults = deploy_function(aws, [{"process": "builder", "call": "dynamodb.PutItem", "count": "run", "nth": 2,
                                          "times": 2, "action": "throttle"}])
    first = invoke(aws, name, ["a", "b"], "m4")
    second = invoke(aws, name, ["c", "d"], "m5")
    throttled = [[r["code"] for r in result] for _, result in (first, second)]
    # run-wide PutItem #2 and #3 throttled (times 2), #1 and #4 through; DynamoDB's own throttling code
    assert throttled == [[None, "ProvisionedThroughputExceededException"], ["ProvisionedThroughputExceededException", None]]
    assert aws.keys() == {"a", "d"}
    assert len({r["invocation"] for r in recorded(faults)}) == 2


def run_job(aws, job, arguments, timeout=90):
    glue = aws.client("glue")
    run_id = glue.start_job_run(JobName=job, Arguments=arguments)["JobRunId"]
    state = {}

    def finished():
        state.update(glue.get_job_run(JobName=job, RunId=run_id)["JobRun"])
        return state["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR")

    wait_until(finished, timeout=timeout)
    return state


@pytest.fixture(scope="module")
def glue_job(aws):
    s3 = aws.client("s3")
    s3.put_object(Bucket=aws.bucket, Key=f"glue/{bundle.LAUNCHER_NAME}", Body=bundle.launcher_bytes())
    s3.put_object(Bucket=aws.bucket, Key="user/convert.py", Body=USER_GLUE_SCRIPT.encode())
    s3.put_object(Bucket=aws.bucket, Key="user/modules.zip", Body=zipped({}))
    name = f"inject-{aws.suffix}"
    defaults = {"--extra-py-files": f"s3://{aws.bucket}/user/modules.zip", "--output_bucket": aws.bucket}
    asl = {"StartAt": "Convert", "States": {"Convert": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startJobRun", "End": True,
        "Parameters": {"JobName": name, "Arguments": {"--out_key.$": "$.key"}}}}}
    defaults.update(bundle.glue_default_arguments(f"s3://{aws.bucket}/user/convert.py",
                                                  bundle.glue_argument_names(defaults, asl), job_name=name))
    aws.client("glue").create_job(
        Name=name, Role=aws.role_arn, Command={"Name": "pythonshell", "PythonVersion": "3.9",
                                                "ScriptLocation": f"s3://{aws.bucket}/glue/{bundle.LAUNCHER_NAME}"},
        DefaultArguments=defaults, MaxCapacity=0.0625, Timeout=60)
    return name


def test_the_glue_script_sees_glues_argv_and_get_resolved_options(aws, glue_job):
    run = run_job(aws, glue_job, {"--out_key": "glue/out-1.json"})
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    seen = json.loads(aws.object("glue/out-1.json"))
    assert seen["name"] == "__main__" and seen["argv"][0].endswith("/convert.py")
    assert seen["argv"][1:] == ["--extra-py-files", f"s3://{aws.bucket}/user/modules.zip", "--output_bucket", aws.bucket,
                                "--out_key", "glue/out-1.json", "--JOB_NAME", glue_job]
    args = seen["args"]
    assert (args["JOB_NAME"], args["output_bucket"], args["out_key"]) == (glue_job, aws.bucket, "glue/out-1.json")
    assert args["job_bookmark_option"] == "job-bookmark-disable" and args["JOB_RUN_ID"] is None


def test_a_kill_at_exit_fails_the_run_after_its_output_exists(aws, glue_job):
    faults = bundle.faults_json(aws.workdir / "faults", [{"process": "converter", "action": "kill", "when": "exit"}])
    run = run_job(aws, glue_job, {"--out_key": "glue/out-2.json", "--SIM_FAULTS": faults})
    assert run["JobRunState"] == "FAILED"
    assert json.loads(aws.object("glue/out-2.json"))["args"]["out_key"] == "glue/out-2.json"
