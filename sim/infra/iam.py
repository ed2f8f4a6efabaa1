"""Least-privilege roles: one per component, each allowed exactly the calls its code makes.

The builder (sim/pipeline/builder.py, state.py) tracks files and claims them in the table, writes
manifest objects and starts workflows; its event source mapping reads the queue under its role.
The converter (convert_manifest.py, as a Lambda or inside the Glue job) reads one manifest and the
landed files it names, writes one Parquet file and its quarantine file, and records the counts on
the MANIFEST item. The state machine starts the converter and marks the MANIFEST item, and alerts
the topic on failure. Only the converter that the target runs gets a role.

No action is a wildcard; resources are single ARNs or key prefixes, except
`cloudwatch:PutMetricData`, which has no resource type: a condition holds it to the pipeline's own
metric namespace. Two grants are not calls in the code: `s3:ListBucket` on the landing bucket makes a deleted source read as NoSuchKey (without it
S3 answers AccessDenied, and the converter could not tell a vanished file from a broken policy);
`s3:AbortMultipartUpload` lets a failed multipart upload of a large Parquet file be cleaned up.

PutMetricData's namespace condition is `StringEqualsIfExists`: AWS sets `cloudwatch:namespace` on
every PutMetricData (Namespace is a required parameter), so there it means the same as
`StringEquals`; MiniStack 1.5.33 does not set the key at all, and a plain `StringEquals` would deny
every metric on an engine that enforces IAM (the converter publishes after every conversion).

Producers get one more role, the uploader (`uploader_role`): trusted by the account (any identity in
it whose own policy allows `sts:AssumeRole` on it), allowed `s3:PutObject` on the landing bucket's
objects and nothing else. No pipeline role may write to the landing bucket. The landing bucket has
no bucket policy denying everyone else, on purpose:
- an explicit Deny in a bucket policy beats every Allow, so on AWS it would also refuse the
  deploying identity, through which `sim demo`, `sim load` and the scenarios upload, and the
  account's administrators; excepting the deployer by ARN makes the policy depend on who deployed
  last;
- MiniStack does not behave like AWS there: the root key `test`, which every `sim` command signs
  with, skips bucket policies, and `aws:PrincipalArn` of a role session is the session's ARN, not
  the role's, so the usual exception (`ArnNotEquals aws:PrincipalArn <uploader role>`) would deny
  the uploader itself. The same policy would act differently locally and on AWS, which is what
  this simulator exists to prevent.
"Only the uploader may write" therefore holds for every identity whose permissions the pipeline
grants; scenarios/least_privilege.py shows it on an enforcing engine.
"""

from __future__ import annotations

from sim.engine import profiles
from sim.infra.spec import (MANIFESTS_PREFIX, OPEN_MANIFEST_INDEX, PARQUET_PREFIX, PENDING_AGE_INDEX, PENDING_INDEX,
                            QUARANTINE_PREFIX, Wiring)

LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
GLUE_LOG_GROUPS = "/aws-glue/*"  # Python-shell jobs write to /aws-glue/python-jobs/{output,error}


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _doc(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def _function_logs(w: Wiring, function: str) -> dict:
    group = w.log_group_arn(f"/aws/lambda/{function}")
    return _allow("Logs", LOG_ACTIONS, [group, group + ":*"])


def _metrics(w: Wiring) -> dict:
    """PutMetricData takes no resource ARN: the namespace condition is what scopes it (IfExists: see above)."""
    return {"Sid": "PublishPipelineMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
            "Resource": ["*"], "Condition": {"StringEqualsIfExists": {"cloudwatch:namespace": w.names.metrics_namespace}}}


def _converter_data(w: Wiring) -> list[dict]:
    """What convert_manifest.run touches, wherever it runs."""
    n = w.names
    landing, output = w.bucket_arn(n.landing_bucket), w.bucket_arn(n.output_bucket)
    return [
        _allow("ReadManifestAndLandedFiles", ["s3:GetObject"], [f"{output}/{MANIFESTS_PREFIX}*", f"{landing}/*"]),
        _allow("TellMissingFromDenied", ["s3:ListBucket"], [landing]),
        _allow("WriteParquet", ["s3:PutObject", "s3:AbortMultipartUpload"], [f"{output}/{PARQUET_PREFIX}*"]),
        _allow("WriteQuarantine", ["s3:PutObject", "s3:DeleteObject"], [f"{output}/{QUARANTINE_PREFIX}*"]),
        _allow("RecordConversion", ["dynamodb:UpdateItem"], [w.table_arn()]),
        _metrics(w),
    ]


def builder_policy(w: Wiring) -> dict:
    n = w.names
    return _doc([
        _function_logs(w, n.builder_function),
        _allow("ReceiveLandingEvents", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
               [w.queue_arn(n.queue)]),
        # Claims are TransactWriteItems of UpdateItem actions (the manifest's own update checks it is
        # open); a manifest's files are read back with BatchGetItem.
        _allow("TrackAndClaimFiles", ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                       "dynamodb:Query", "dynamodb:BatchGetItem"],
               [w.table_arn()]),
        _allow("FindPendingFiles", ["dynamodb:Query"], [w.index_arn(PENDING_INDEX), w.index_arn(PENDING_AGE_INDEX)]),
        _allow("FindOpenManifests", ["dynamodb:Query"], [w.index_arn(OPEN_MANIFEST_INDEX)]),
        _allow("WriteManifests", ["s3:PutObject"], [f"{w.bucket_arn(n.output_bucket)}/{MANIFESTS_PREFIX}*"]),
        # DescribeExecution: an execution that already exists may have closed as failed.
        _allow("StartWorkflows", ["states:StartExecution"], [w.state_machine_arn()]),
        _allow("ReadWorkflows", ["states:DescribeExecution"], [w.execution_arn_pattern()]),
        _metrics(w),
    ])


def converter_policy(w: Wiring) -> dict:
    return _doc([_function_logs(w, w.names.converter_function), *_converter_data(w)])


def glue_policy(w: Wiring) -> dict:
    n = w.names
    artifacts = w.bucket_arn(n.artifacts_bucket)
    return _doc([
        _allow("Logs", LOG_ACTIONS, [w.log_group_arn(GLUE_LOG_GROUPS)]),
        _allow("ReadJobCode", ["s3:GetObject"], [f"{artifacts}/{w.glue_script_key}", f"{artifacts}/{n.artifact_zip_key}"]
               + ([f"{artifacts}/{w.glue_launcher_key}", f"{artifacts}/{w.INJECT_ZIP_KEY}"] if w.injects else [])),
        *_converter_data(w),
    ])


def state_machine_policy(w: Wiring) -> dict:
    n = w.names
    if w.settings.converter_mode == profiles.GLUE:
        run = _allow("RunConverterJob", ["glue:StartJobRun", "glue:GetJobRun"], [w.glue_job_arn()])
    else:
        run = _allow("InvokeConverter", ["lambda:InvokeFunction"], [w.function_arn(n.converter_function)])
    return _doc([
        run,
        _allow("MarkManifest", ["dynamodb:UpdateItem"], [w.table_arn()]),
        _allow("AlertOnFailure", ["sns:Publish"], [w.topic_arn()]),
    ])


def roles(w: Wiring) -> dict[str, tuple[str, dict]]:
    """role name -> (trusted service, inline policy), for the components this target runs. `sim`'s
    own pipeline gets exactly the calls its code makes; a described pipeline whose calls `sim` does
    not know gets `described_roles`."""
    if not w.pipeline.own:
        return described_roles(w)
    n = w.names
    out = {n.builder_role: ("lambda.amazonaws.com", builder_policy(w))}
    if w.settings.converter_mode == profiles.GLUE:
        out[n.glue_role] = ("glue.amazonaws.com", glue_policy(w))
    else:
        out[n.converter_role] = ("lambda.amazonaws.com", converter_policy(w))
    out[n.sfn_role] = ("states.amazonaws.com", state_machine_policy(w))
    return out


# What a described pipeline's components may do, on the resources `sim` created for it and nothing
# else: `sim` cannot know which calls another team's code makes, so each component gets the data
# calls of the services the wiring gives it (no IAM, no deletion of buckets or tables).
_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                  "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                  "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]


def _described_data(w: Wiring) -> list[dict]:
    n = w.names
    tables = [w.table_arn(t.id) for t in w.pipeline.tables]
    indexes = [f"{arn}/index/*" for arn in tables]
    buckets = [w.bucket_arn(b) for b in (n.landing_bucket, n.output_bucket)]
    return [
        _allow("Tables", _TABLE_ACTIONS, tables + indexes),
        _allow("Objects", _OBJECT_ACTIONS, [f"{b}/*" for b in buckets]),
        _allow("ListBuckets", ["s3:ListBucket"], buckets),
        _metrics(w),
    ]


def described_roles(w: Wiring) -> dict[str, tuple[str, dict]]:
    n = w.names
    builder = _doc([
        _function_logs(w, n.builder_function),
        _allow("ReceiveLandingEvents", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                        "sqs:ChangeMessageVisibility"], [w.queue_arn(n.queue)]),
        *_described_data(w),
        _allow("StartWorkflows", ["states:StartExecution", "states:ListExecutions"], [w.state_machine_arn()]),
        _allow("ReadWorkflows", ["states:DescribeExecution", "states:StopExecution"], [w.execution_arn_pattern()]),
    ])
    out = {n.builder_role: ("lambda.amazonaws.com", builder)}
    artifacts = w.bucket_arn(n.artifacts_bucket)
    if w.settings.converter_mode == profiles.GLUE:
        out[n.glue_role] = ("glue.amazonaws.com", _doc([
            _allow("Logs", LOG_ACTIONS, [w.log_group_arn(GLUE_LOG_GROUPS)]),
            _allow("ReadJobCode", ["s3:GetObject"], [f"{artifacts}/*"]),
            *_described_data(w),
        ]))
        run = _allow("RunConverterJob", ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns",
                                         "glue:BatchStopJobRun"], [w.glue_job_arn()])
    else:
        out[n.converter_role] = ("lambda.amazonaws.com", _doc([_function_logs(w, n.converter_function),
                                                                *_described_data(w)]))
        run = _allow("InvokeConverter", ["lambda:InvokeFunction"], [w.function_arn(n.converter_function)])
    out[n.sfn_role] = ("states.amazonaws.com", _doc([
        run, *_described_data(w), _allow("AlertOnFailure", ["sns:Publish"], [w.topic_arn()])]))
    return out


def uploader_policy(w: Wiring) -> dict:
    """What a producer needs to land files: put objects into the landing bucket, nothing else."""
    return _doc([_allow("LandFiles", ["s3:PutObject"], [f"{w.bucket_arn(w.names.landing_bucket)}/*"])])


def uploader_trust(w: Wiring) -> dict:
    """Trusted by the account: an identity in it may assume the role when its own policy allows that."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{w.account}:root"}, "Action": "sts:AssumeRole"}]}
