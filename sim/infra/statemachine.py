"""The workflow that converts one manifest, as Amazon States Language.

Glue mode: start the Glue job, wait, poll its run state, and loop until it ends (the
`startJobRun.sync` integration is missing on MiniStack; this polling form works there and on AWS).
Lambda mode (engines without Glue): invoke the converter Lambda as a task.
On success the MANIFEST item is marked `succeeded`; on any failure it is marked `failed`, the
alerts topic gets a message, and the execution fails (so the failed-workflows alarm counts it).
"""

from __future__ import annotations

import json

_TERMINAL_FAILURES = ["FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"]


def _manifest_key_params(table: str) -> dict:
    return {
        "TableName": table,
        "Key": {
            "date_prefix": {"S.$": "$.date_prefix"},
            "file_key": {"S.$": "States.Format('MANIFEST#{}', $.manifest_id)"},
        },
    }


def _mark(table: str, status: str, with_failure: bool) -> dict:
    params = _manifest_key_params(table)
    expr = "SET #s = :s, finished_at = :t"
    values = {":s": {"S": status}, ":t": {"S.$": "$$.State.EnteredTime"}}
    if with_failure:
        expr += ", failure = :f"
        values[":f"] = {"S.$": "$.failure.text"}
    params.update(
        {
            "UpdateExpression": expr,
            # Never create an item: a workflow whose MANIFEST item is gone fails loudly instead.
            "ConditionExpression": "attribute_exists(file_key)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values,
        }
    )
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Parameters": params,
        "ResultPath": None,
        "Retry": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "MaxAttempts": 0},
                  {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}],
    }


def _failure_tail(table: str, topic_arn: str) -> dict:
    mark_failed = _mark(table, "failed", with_failure=True)
    mark_failed["Next"] = "NotifyFailure"
    return {
        "StartFailed": {
            "Type": "Pass",
            "Parameters": {"text.$": "States.Format('conversion could not run: {}', $.error.Error)"},
            "ResultPath": "$.failure",
            "Next": "MarkFailed",
        },
        "MarkFailed": mark_failed,
        "NotifyFailure": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": topic_arn,
                "Subject": "Manifest conversion failed",
                "Message.$": "States.Format('manifest {} (date {}) failed: {}', $.manifest_id, $.date_prefix, $.failure.text)",
            },
            "ResultPath": None,
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "ConversionFailed", "Cause": "The manifest's conversion failed; see the MANIFEST item."},
    }


def glue_definition(job_name: str, table: str, topic_arn: str, poll_seconds: int) -> str:
    states = {
        "StartConversion": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:glue:startJobRun",
            "Parameters": {
                "JobName": job_name,
                "Arguments": {"--manifest_key.$": "$.manifest_key", "--manifest_id.$": "$.manifest_id"},
            },
            "ResultSelector": {"JobRunId.$": "$.JobRunId"},
            "ResultPath": "$.glue",
            "Retry": [
                {
                    "ErrorEquals": ["Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"],
                    "IntervalSeconds": 30,
                    "MaxAttempts": 20,
                    "BackoffRate": 1.5,
                    "MaxDelaySeconds": 300,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "StartFailed"}],
            "Next": "WaitForConversion",
        },
        "WaitForConversion": {"Type": "Wait", "Seconds": poll_seconds, "Next": "GetConversion"},
        "GetConversion": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:glue:getJobRun",
            "Parameters": {"JobName": job_name, "RunId.$": "$.glue.JobRunId"},
            "ResultSelector": {"JobRunState.$": "$.JobRun.JobRunState"},
            "ResultPath": "$.run",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 5, "BackoffRate": 2.0}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "StartFailed"}],
            "Next": "ConversionDone",
        },
        "ConversionDone": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.run.JobRunState", "StringEquals": "SUCCEEDED", "Next": "MarkSucceeded"},
                {
                    "Or": [{"Variable": "$.run.JobRunState", "StringEquals": s} for s in _TERMINAL_FAILURES],
                    "Next": "RunFailed",
                },
            ],
            "Default": "WaitForConversion",
        },
        "RunFailed": {
            "Type": "Pass",
            "Parameters": {"text.$": "States.Format('Glue job run ended {}', $.run.JobRunState)"},
            "ResultPath": "$.failure",
            "Next": "MarkFailed",
        },
        "MarkSucceeded": {**_mark(table, "succeeded", with_failure=False), "Next": "Converted"},
        "Converted": {"Type": "Succeed"},
    }
    states.update(_failure_tail(table, topic_arn))
    return _dump("Convert one manifest with the Glue job, then record the outcome.", "StartConversion", states)


def lambda_definition(function_arn: str, table: str, topic_arn: str) -> str:
    states = {
        "Convert": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
            "ResultSelector": {"records.$": "$.Payload.records"},
            "ResultPath": "$.conversion",
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.TooManyRequestsException", "Lambda.ServiceException"],
                    "IntervalSeconds": 5,
                    "MaxAttempts": 6,
                    "BackoffRate": 2.0,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "StartFailed"}],
            "Next": "MarkSucceeded",
        },
        "MarkSucceeded": {**_mark(table, "succeeded", with_failure=False), "Next": "Converted"},
        "Converted": {"Type": "Succeed"},
    }
    states.update(_failure_tail(table, topic_arn))
    return _dump("Convert one manifest with the converter Lambda, then record the outcome.", "Convert", states)


def _dump(comment: str, start: str, states: dict) -> str:
    return json.dumps({"Comment": comment, "StartAt": start, "States": states}, indent=2, sort_keys=True)
