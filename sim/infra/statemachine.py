"""The workflow that converts one manifest, as Amazon States Language.

Glue mode: start the Glue job, wait, poll its run state, and loop until it ends (the
`startJobRun.sync` integration is missing on MiniStack; this polling form works there and on AWS).
Lambda mode (engines without Glue): invoke the converter Lambda as a task.

Retries, all bounded:
- Glue's concurrency limit (`ConcurrentRunsExceeded`) waits for a free run slot instead of failing;
- a converter run that fails is run again inside the workflow, after a backoff that doubles, up to
  `max_runs` runs per execution (the converter overwrites its one output, so a rerun is harmless);
- when the run's state cannot be read (GetJobRun keeps failing), the run may still be going: the
  workflow waits out the job's own timeout before it records a failure, so a redrive can never
  overlap it.

On success the MANIFEST item is marked `succeeded`; on failure it is marked `failed` (and flagged
for the flush's redrive), the alerts topic gets a message, and the execution fails (so the
failed-workflows alarm counts it). Both writes are conditional: only this execution's attempt,
and only from `claiming` or `started`, so a finished status never moves backwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

_TERMINAL_FAILURES = ["FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"]
# Glue's concurrency limit: retried "forever" (the largest MaxAttempts ASL accepts), capped delay.
WAIT_FOR_CAPACITY = {
    "ErrorEquals": ["Glue.ConcurrentRunsExceededException"],
    "IntervalSeconds": 30,
    "MaxAttempts": 99999999,
    "BackoffRate": 1.5,
    "MaxDelaySeconds": 300,
    "JitterStrategy": "FULL",
}


@dataclass(frozen=True)
class RetryPolicy:
    max_runs: int = 2  # converter runs per execution (1 = no retry inside the workflow)
    wait_s: int = 30  # backoff before the second run; doubles after each failed run
    run_limit_s: int = 3600  # the converter's own timeout: a run cannot be going after it


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
    values = {
        ":s": {"S": status},
        ":t": {"S.$": "$$.State.EnteredTime"},
        ":a": {"N.$": "States.Format('{}', $.attempt)"},
        ":claiming": {"S": "claiming"},
        ":started": {"S": "started"},
    }
    if with_failure:
        # Failed: flagged RETRY so the flush redrives it while attempts are left.
        expr = "SET #s = :s, finished_at = :t, failure = :f, open_flag = :retry"
        values[":f"] = {"S.$": "$.failure.text"}
        values[":retry"] = {"S": "RETRY"}
    else:
        expr = "SET #s = :s, finished_at = :t REMOVE open_flag"
    params.update(
        {
            "UpdateExpression": expr,
            # Never create an item (a workflow whose MANIFEST item is gone fails loudly), never
            # move a finished status, never record for another attempt than this execution's.
            "ConditionExpression": "attribute_exists(file_key) AND (#s = :claiming OR #s = :started) "
                                   "AND (attribute_not_exists(attempt) OR attempt = :a)",
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
    # Even when the status could not be recorded (the item moved on), the failure is announced.
    mark_failed["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.mark_error", "Next": "NotifyFailure"}]
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
                "Message.$": "States.Format('manifest {} (date {}) attempt {} failed: {}', $.manifest_id, "
                             "$.date_prefix, $.attempt, $.failure.text)",
            },
            "ResultPath": None,
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "ConversionFailed", "Cause": "The manifest's conversion failed; see the MANIFEST item."},
    }


def glue_definition(job_name: str, table: str, topic_arn: str, poll_seconds: int,
                    retry: RetryPolicy | None = None) -> str:
    retry = retry or RetryPolicy()
    states = {
        "Prepare": {
            "Type": "Pass",
            "Parameters": {"runs": 1, "wait": retry.wait_s},
            "ResultPath": "$.retry",
            "Next": "StartConversion",
        },
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
                WAIT_FOR_CAPACITY,
                {"ErrorEquals": ["Glue.ThrottlingException", "Glue.InternalServiceException"],
                 "IntervalSeconds": 5, "MaxAttempts": 8, "BackoffRate": 2.0, "MaxDelaySeconds": 120},
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
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RunStateUnknown"}],
            "Next": "ConversionDone",
        },
        "RunStateUnknown": {
            "Type": "Pass",
            "Parameters": {"text.$": "States.Format('the Glue run state could not be read: {}', $.error.Error)"},
            "ResultPath": "$.failure",
            "Next": "WaitOutRun",
        },
        # The run may still be going: record the failure only once the job's timeout has ended it.
        "WaitOutRun": {"Type": "Wait", "Seconds": retry.run_limit_s, "Next": "MarkFailed"},
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
            "Next": "RunAgain",
        },
        "RunAgain": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.retry.runs", "NumericLessThan": retry.max_runs, "Next": "BackOff"}],
            "Default": "MarkFailed",
        },
        "BackOff": {"Type": "Wait", "SecondsPath": "$.retry.wait", "Next": "NextRun"},
        "NextRun": {
            "Type": "Pass",
            "Parameters": {"runs.$": "States.MathAdd($.retry.runs, 1)",
                           "wait.$": "States.MathAdd($.retry.wait, $.retry.wait)"},
            "ResultPath": "$.retry",
            "Next": "StartConversion",
        },
        "MarkSucceeded": {**_mark(table, "succeeded", with_failure=False), "Next": "Converted"},
        "Converted": {"Type": "Succeed"},
    }
    states.update(_failure_tail(table, topic_arn))
    return _dump("Convert one manifest with the Glue job, then record the outcome.", "Prepare", states)


def lambda_definition(function_arn: str, table: str, topic_arn: str, retry: RetryPolicy | None = None) -> str:
    retry = retry or RetryPolicy()
    retriers = [
        {
            "ErrorEquals": ["Lambda.TooManyRequestsException", "Lambda.ServiceException"],
            "IntervalSeconds": 5,
            "MaxAttempts": 6,
            "BackoffRate": 2.0,
        }
    ]
    if retry.max_runs > 1:  # a failed or timed-out converter run (a Lambda is over when it fails)
        retriers.append({"ErrorEquals": ["States.ALL"], "IntervalSeconds": retry.wait_s,
                         "MaxAttempts": retry.max_runs - 1, "BackoffRate": 2.0})
    states = {
        "Convert": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
            "ResultSelector": {"records.$": "$.Payload.records"},
            "ResultPath": "$.conversion",
            "Retry": retriers,
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
