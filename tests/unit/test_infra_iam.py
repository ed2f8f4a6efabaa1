"""Each role allows exactly what its component's code calls, on its own resources only."""

import ast
import json
from pathlib import Path

import pytest

from sim.infra import iam
from sim.infra.spec import MANIFESTS_PREFIX, PARQUET_PREFIX, QUARANTINE_PREFIX, Settings, Wiring
from sim.pipeline import manifests

PIPELINE = Path(__file__).resolve().parents[2] / "sim" / "pipeline"
ACCOUNT, REGION = "123456789012", "us-east-1"


def wiring(target: str) -> Wiring:
    return Wiring(ACCOUNT, REGION, Settings(target=target))


def grants(policy: dict) -> set[tuple[str, str]]:
    """(action, resource) pairs, so a test can say exactly what is allowed. PutMetricData has no
    resource type: its statement must be alone and held to one namespace, shown as `namespace:<ns>`
    (IfExists, because MiniStack sets no `cloudwatch:namespace` key; AWS always does)."""
    out = set()
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if "cloudwatch:PutMetricData" in actions:
            assert actions == ["cloudwatch:PutMetricData"] and resources == ["*"]
            assert list(st["Condition"]) == ["StringEqualsIfExists"]
            assert list(st["Condition"]["StringEqualsIfExists"]) == ["cloudwatch:namespace"]
            namespace = st["Condition"]["StringEqualsIfExists"]["cloudwatch:namespace"]
            assert isinstance(namespace, str) and "*" not in namespace
            resources = [f"namespace:{namespace}"]
        else:
            assert "Condition" not in st
        out |= {(a, r) for a in actions for r in resources}
    return out


def actions(policy: dict, prefix: str = "") -> set[str]:
    return {a for a, _ in grants(policy) if a.startswith(prefix)}


def arn(service, resource):
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


TABLE = arn("dynamodb", "table/sim-ingest-state")
METRICS = ("cloudwatch:PutMetricData", "namespace:sim-ingest/pipeline")
LANDING, OUTPUT, ARTIFACTS = "arn:aws:s3:::sim-ingest-landing", "arn:aws:s3:::sim-ingest-output", "arn:aws:s3:::sim-ingest-artifacts"


def test_each_target_gets_one_role_per_component_it_runs():
    assert set(iam.roles(wiring("aws"))) == {"sim-ingest-builder-role", "sim-ingest-glue-role", "sim-ingest-sfn-role"}
    assert set(iam.roles(wiring("localstack"))) == {"sim-ingest-builder-role", "sim-ingest-converter-role",
                                                 "sim-ingest-sfn-role"}
    trust = {name: service for name, (service, _) in iam.roles(wiring("localstack")).items()}
    assert trust == {"sim-ingest-builder-role": "lambda.amazonaws.com",
                     "sim-ingest-converter-role": "lambda.amazonaws.com", "sim-ingest-sfn-role": "states.amazonaws.com"}


def test_functions_use_their_own_roles():
    w = wiring("localstack")
    assert w.builder_config()["Role"].endswith(":role/sim-ingest-builder-role")
    assert w.converter_config()["Role"].endswith(":role/sim-ingest-converter-role")
    assert wiring("aws").glue_job()["Role"].endswith(":role/sim-ingest-glue-role")


@pytest.mark.parametrize("target", ["ministack", "localstack", "aws"])
def test_no_wildcard_actions_and_no_wildcard_resources_outside_logs(target):
    for name, (_, policy) in iam.roles(wiring(target)).items():
        for action, resource in grants(policy):
            assert "*" not in action, (name, action)
            assert resource != "*", (name, action)
            if not action.startswith("logs:") and "*" in resource:
                # only object keys under a prefix, or the executions of the pipeline's own state
                # machine (named at run time), may be wildcarded; never a bucket, table or function
                own_executions = resource == arn("states", "execution:sim-ingest-manifest-workflow:*")
                assert own_executions or (resource.startswith("arn:aws:s3:::") and resource.endswith("/*")), (
                    name, action, resource)


def test_builder_role_is_exactly_what_the_builder_calls():
    w = wiring("aws")
    policy = iam.builder_policy(w)
    assert grants(policy) - {g for g in grants(policy) if g[0].startswith("logs:")} == {
        ("sqs:ReceiveMessage", arn("sqs", "sim-ingest-landing-events")),
        ("sqs:DeleteMessage", arn("sqs", "sim-ingest-landing-events")),
        ("sqs:GetQueueAttributes", arn("sqs", "sim-ingest-landing-events")),
        ("dynamodb:PutItem", TABLE), ("dynamodb:GetItem", TABLE), ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:DeleteItem", TABLE), ("dynamodb:Query", TABLE), ("dynamodb:BatchGetItem", TABLE),
        ("dynamodb:Query", TABLE + "/index/pending-index"), ("dynamodb:Query", TABLE + "/index/pending-age-index"),
        ("dynamodb:Query", TABLE + "/index/open-manifest-index"),
        ("s3:PutObject", f"{OUTPUT}/manifests/*"),
        ("states:StartExecution", arn("states", "stateMachine:sim-ingest-manifest-workflow")),
        ("states:DescribeExecution", arn("states", "execution:sim-ingest-manifest-workflow:*")),
        METRICS,
    }
    logs = {r for a, r in grants(policy) if a.startswith("logs:")}
    assert logs == {arn("logs", "log-group:/aws/lambda/sim-ingest-manifest-builder"),
                    arn("logs", "log-group:/aws/lambda/sim-ingest-manifest-builder:*")}


CONVERTER_DATA = {
    ("s3:GetObject", f"{OUTPUT}/manifests/*"), ("s3:GetObject", f"{LANDING}/*"), ("s3:ListBucket", LANDING),
    ("s3:PutObject", f"{OUTPUT}/parquet/*"), ("s3:AbortMultipartUpload", f"{OUTPUT}/parquet/*"),
    ("s3:PutObject", f"{OUTPUT}/quarantine/*"), ("s3:DeleteObject", f"{OUTPUT}/quarantine/*"),
    ("dynamodb:UpdateItem", TABLE), METRICS,
}


def _without_logs(policy):
    return {g for g in grants(policy) if not g[0].startswith("logs:")}


def test_converter_lambda_role_reads_inputs_and_writes_only_its_outputs():
    assert _without_logs(iam.converter_policy(wiring("localstack"))) == CONVERTER_DATA


def test_glue_role_is_the_converter_plus_its_job_code_and_glue_logs():
    policy = iam.glue_policy(wiring("aws"))
    assert _without_logs(policy) == CONVERTER_DATA | {
        ("s3:GetObject", f"{ARTIFACTS}/glue/glue_entry.py"), ("s3:GetObject", f"{ARTIFACTS}/pipeline/pipeline.zip")}
    assert {r for a, r in grants(policy) if a.startswith("logs:")} == {arn("logs", "log-group:/aws-glue/*")}
    # the manifest is read from the output bucket's manifests prefix, nothing else of it
    assert {r for a, r in grants(policy) if a == "s3:GetObject" and r.startswith(OUTPUT)} == {f"{OUTPUT}/manifests/*"}


def test_state_machine_role_runs_only_the_converter_the_target_uses():
    glue = grants(iam.state_machine_policy(wiring("aws")))
    lam = grants(iam.state_machine_policy(wiring("localstack")))
    common = {("dynamodb:UpdateItem", TABLE), ("sns:Publish", arn("sns", "sim-ingest-alerts"))}
    job = arn("glue", "job/sim-ingest-ndjson-to-parquet")
    assert glue == common | {("glue:StartJobRun", job), ("glue:GetJobRun", job)}
    assert lam == common | {("lambda:InvokeFunction", arn("lambda", "function:sim-ingest-converter"))}


def test_output_prefixes_match_the_keys_the_pipeline_writes():
    assert manifests.manifest_key("2026-01-01", "m").startswith(MANIFESTS_PREFIX)
    assert manifests.output_key("2026-01-01", "m").startswith(PARQUET_PREFIX)
    assert manifests.quarantine_key("2026-01-01", "m").startswith(QUARANTINE_PREFIX)


# boto3 method -> the IAM action it needs; every AWS call in sim/pipeline must appear here.
CALLS = {
    "put_item": "dynamodb:PutItem", "update_item": "dynamodb:UpdateItem", "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query", "scan": "dynamodb:Scan", "get_object": "s3:GetObject", "put_object": "s3:PutObject",
    "upload_file": "s3:PutObject", "delete_object": "s3:DeleteObject", "download_file": "s3:GetObject",
    "start_execution": "states:StartExecution", "get_item": "dynamodb:GetItem",
    "put_metric_data": "cloudwatch:PutMetricData", "describe_execution": "states:DescribeExecution",
    "batch_get_item": "dynamodb:BatchGetItem",
    # a transaction needs the action of each of its parts: claims and the manifest's own update
    "transact_write_items": ("dynamodb:UpdateItem",),
}


def needs(calls) -> set[str]:
    out = set()
    for c in calls:
        out |= {CALLS[c]} if isinstance(CALLS[c], str) else set(CALLS[c])
    return out
BOTO_METHODS = set(CALLS) | {"get_item", "batch_write_item", "transact_write_items", "head_object", "copy_object",
                             "list_objects_v2", "send_message", "publish", "describe_execution", "invoke",
                             "start_job_run", "get_job_run", "batch_get_item", "delete_objects"}


def _calls_in(*modules: str) -> set[str]:
    """AWS calls in pipeline modules: `x.put_item(...)` and the state helper `_pages("query", ...)`."""
    found = set()
    for module in modules:
        for node in ast.walk(ast.parse((PIPELINE / module).read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in BOTO_METHODS:
                found.add(node.func.attr)
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "_pages" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
    return found


def test_every_aws_call_in_the_pipeline_is_granted_to_some_role():
    w = wiring("localstack")
    allowed = {a for _, (_, p) in iam.roles(w).items() for a in actions(p)}
    calls = _calls_in(*(p.name for p in PIPELINE.glob("*.py")))
    assert calls, "the scan found no calls at all"
    unknown = calls - set(CALLS)
    assert not unknown, f"new AWS calls in sim/pipeline; grant them in sim/infra/iam.py: {unknown}"
    assert needs(calls) <= allowed


def test_builder_and_converter_get_only_the_calls_of_their_own_modules():
    builder_calls = needs(_calls_in("builder.py", "state.py", "cloudwatch.py"))
    # record_conversion (state.py) and the quarantine counts (cloudwatch.py)
    converter_calls = needs(_calls_in("convert_manifest.py")) | {"dynamodb:UpdateItem",
                                                                              "cloudwatch:PutMetricData"}
    w = wiring("localstack")
    assert actions(iam.builder_policy(w)) - {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} \
        - set(iam.LOG_ACTIONS) == builder_calls
    extras = {"s3:ListBucket", "s3:AbortMultipartUpload"}  # not calls; see iam.py's docstring for why
    assert actions(iam.converter_policy(w)) - set(iam.LOG_ACTIONS) - extras == converter_calls


def test_policies_are_plain_json():
    for _, (_, policy) in iam.roles(wiring("aws")).items():
        assert json.loads(json.dumps(policy)) == policy and policy["Version"] == "2012-10-17"


def test_the_uploader_may_only_put_landing_objects_and_is_assumed_from_the_account():
    w = wiring("aws")
    assert w.names.uploader_role == "sim-ingest-uploader-role"
    assert grants(iam.uploader_policy(w)) == {("s3:PutObject", f"{LANDING}/*")}
    trust = iam.uploader_trust(w)
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                   "Action": "sts:AssumeRole"}]
    assert json.loads(json.dumps(trust)) == trust and trust["Version"] == "2012-10-17"


@pytest.mark.parametrize("target", ["ministack", "localstack", "aws"])
def test_no_pipeline_role_writes_or_deletes_landed_files(target):
    """Only the uploader lands files; the converter reads them and never removes one."""
    for name, (_, policy) in iam.roles(wiring(target)).items():
        for action, resource in grants(policy):
            if resource.startswith(LANDING + "/"):
                assert action == "s3:GetObject", (name, action, resource)


@pytest.mark.parametrize("target", ["ministack", "localstack", "aws"])
def test_the_builder_never_reads_the_output(target):
    """The builder writes manifests and reads nothing of the output bucket, Parquet least of all."""
    for action, resource in grants(iam.builder_policy(wiring(target))):
        if resource.startswith(OUTPUT):
            assert (action, resource) == ("s3:PutObject", f"{OUTPUT}/manifests/*")
