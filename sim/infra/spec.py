"""The pipeline's wiring as data: names, settings and the desired configuration of each resource.

Pure (no AWS calls), so tests can check the rules that matter: the DLQ sits on the queue's redrive
policy, the visibility timeout is at least six times the builder's timeout, alarms have actions.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from sim.core.errors import SimError
from sim.engine import profiles
from sim.engine.profiles import LAMBDA_RUNTIME

DEFAULT_PREFIX = "sim-ingest"
BUILDER_HANDLER = "sim.pipeline.builder.handler"
CONVERTER_HANDLER = "sim.pipeline.convert_task.handler"
DLQ_RETENTION_S = 14 * 24 * 3600
QUEUE_RETENTION_S = 4 * 24 * 3600
MAX_RECEIVE_COUNT = 5  # AWS advises at least 5 on a queue feeding Lambda: throttled batches are returned too
VISIBILITY_MULTIPLE = 6
PENDING_INDEX = "pending-index"
OPEN_MANIFEST_INDEX = "open-manifest-index"
# Key prefixes of the output bucket (sim/pipeline/manifests.py writes under them; a unit test keeps
# the two in step), so each role can be given only its own prefix.
MANIFESTS_PREFIX = "manifests/"
PARQUET_PREFIX = "parquet/"
QUARANTINE_PREFIX = "quarantine/"


# It names S3 buckets (global: on a real account `sim-ingest-*` may be taken), roles and functions;
# 40 characters leave room for the longest suffix under every service's name limit.
_PREFIX_RULE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,38}[a-z0-9]$")


def check_prefix(prefix: str) -> str:
    if not _PREFIX_RULE.match(prefix):
        raise SimError(f"prefix {prefix!r}: 3-40 lowercase letters, digits and single hyphens, starting and ending "
                       "with a letter or digit (it names S3 buckets)")
    return prefix


def default_prefix() -> str:
    """`$SIM_PREFIX`, else `sim-ingest`: set it for every command that talks to that deployment."""
    return check_prefix(os.environ.get("SIM_PREFIX") or DEFAULT_PREFIX)


@dataclass(frozen=True)
class Names:
    prefix: str = field(default_factory=default_prefix)

    def __post_init__(self):
        check_prefix(self.prefix)

    @property
    def landing_bucket(self): return f"{self.prefix}-landing"
    @property
    def output_bucket(self): return f"{self.prefix}-output"
    @property
    def artifacts_bucket(self): return f"{self.prefix}-artifacts"
    @property
    def queue(self): return f"{self.prefix}-landing-events"
    @property
    def dlq(self): return f"{self.prefix}-landing-events-dlq"
    @property
    def table(self): return f"{self.prefix}-state"
    @property
    def builder_function(self): return f"{self.prefix}-manifest-builder"
    @property
    def converter_function(self): return f"{self.prefix}-converter"
    @property
    def glue_job(self): return f"{self.prefix}-ndjson-to-parquet"
    @property
    def state_machine(self): return f"{self.prefix}-manifest-workflow"
    @property
    def topic(self): return f"{self.prefix}-alerts"
    @property
    def flush_rule(self): return f"{self.prefix}-flush-schedule"
    @property
    def builder_role(self): return f"{self.prefix}-builder-role"
    @property
    def converter_role(self): return f"{self.prefix}-converter-role"
    @property
    def glue_role(self): return f"{self.prefix}-glue-role"
    @property
    def sfn_role(self): return f"{self.prefix}-sfn-role"
    @property
    def uploader_role(self): return f"{self.prefix}-uploader-role"  # producers assume it to land files
    @property
    def legacy_roles(self): return (f"{self.prefix}-lambda-role",)  # one role for both functions, before roles were split
    @property
    def all_roles(self): return (self.builder_role, self.converter_role, self.glue_role, self.sfn_role, *self.legacy_roles)
    @property
    def glue_security_configuration(self): return f"{self.prefix}-glue-security"
    @property
    def metrics_namespace(self): return f"{self.prefix}/pipeline"
    @property
    def artifact_zip_key(self): return "pipeline/pipeline.zip"
    @property
    def converter_bundle_key(self): return "pipeline/converter-bundle.zip"
    @property
    def glue_script_key(self): return "glue/glue_entry.py"
    def alarm(self, what: str) -> str: return f"{self.prefix}-{what}"


@dataclass
class Settings:
    """What a user tunes. Defaults are production-shaped; the target's profile changes only what
    its engine needs (see sim/engine/profiles.py)."""

    target: str = "ministack"
    environment: str = ""
    log_level: str = ""
    batch_size: int = 200
    flush_max_wait_s: int = 3600
    flush_schedule: str = "rate(1 minute)"
    builder_timeout_s: int = 60
    builder_memory_mb: int = 512
    converter_timeout_s: int = 900
    converter_memory_mb: int = 3008
    batch_window_s: int = 0
    glue_max_capacity: float = 0.0625
    glue_timeout: int = 60
    # AWS: the capacity model (sim/report) reads this. The embedded engine runs one per core instead
    # (profiles.LOCAL_GLUE_CONCURRENT_RUNS, where the measurement is).
    glue_max_concurrent_runs: int = 10
    gzip_max_bytes: int = 4 * 1024**3  # a .gz landing file stops decompressing here (a gzip bomb)
    poll_seconds: int = 30
    # Retries: converter runs per workflow execution (a failed run is run again after a doubling
    # backoff), and attempts per manifest (the flush redrives a failed manifest until then).
    conversion_max_runs: int = 2
    conversion_retry_wait_s: int = 30
    max_attempts: int = 3
    telemetry_file: str = ""  # local engines only: where the pipeline appends per-invocation call counts
    faults: str = ""  # scenarios only: SIM_FAULTS JSON for the builder, converter and Glue job
    extra_env: dict = field(default_factory=dict)

    def __post_init__(self):
        profile = self.profile
        if not self.environment:
            self.environment = profile.environment
        if not self.log_level:
            self.log_level = os.environ.get("SIM_LOG_LEVEL") or (
                "INFO" if self.environment == "production" else "DEBUG"
            )
        for name, value in profile.setting_overrides.items():
            setattr(self, name, value)
        if self.batch_size < 1:
            raise SimError("batch size must be at least 1")
        if self.max_attempts < 1 or self.conversion_max_runs < 1:
            raise SimError("max attempts and conversion runs must be at least 1")
        if not profile.emulator and (self.telemetry_file or self.faults):
            raise SimError(f"telemetry and fault injection are simulator-only; they are never deployed to {self.target}")

    @property
    def profile(self) -> profiles.TargetProfile:
        return profiles.profile(self.target)

    @property
    def converter_mode(self) -> str:
        """LocalStack's free edition has no Glue: the converter runs as a Lambda task there."""
        return self.profile.converter

    @property
    def visibility_timeout_s(self) -> int:
        return VISIBILITY_MULTIPLE * self.builder_timeout_s

    def retry_policy(self):
        """The workflow's own retries; a run cannot outlive the converter's timeout."""
        from sim.infra.statemachine import RetryPolicy

        if self.converter_mode == profiles.GLUE:
            limit = self.glue_timeout * self.profile.glue_timeout_unit_s
        else:
            limit = self.converter_timeout_s
        return RetryPolicy(max_runs=self.conversion_max_runs, wait_s=self.conversion_retry_wait_s,
                           run_limit_s=int(limit) + 60)


class Wiring:
    def __init__(self, account: str, region: str, settings: Settings, names: Names | None = None):
        self.account = account
        self.region = region
        self.settings = settings
        self.names = names or Names()

    # -- ARNs ------------------------------------------------------------------------------
    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def queue_arn(self, name: str) -> str: return self.arn("sqs", name)
    def role_arn(self, name: str) -> str: return f"arn:aws:iam::{self.account}:role/{name}"
    def function_arn(self, name: str) -> str: return self.arn("lambda", f"function:{name}")
    def state_machine_arn(self) -> str: return self.arn("states", f"stateMachine:{self.names.state_machine}")
    def execution_arn_pattern(self) -> str: return self.arn("states", f"execution:{self.names.state_machine}:*")
    def topic_arn(self) -> str: return self.arn("sns", self.names.topic)
    def table_arn(self) -> str: return self.arn("dynamodb", f"table/{self.names.table}")
    def index_arn(self, index: str) -> str: return f"{self.table_arn()}/index/{index}"
    def glue_job_arn(self) -> str: return self.arn("glue", f"job/{self.names.glue_job}")
    def log_group_arn(self, group: str) -> str: return self.arn("logs", f"log-group:{group}")
    def bucket_arn(self, name: str) -> str: return f"arn:aws:s3:::{name}"

    # -- encryption at rest -----------------------------------------------------------------
    @staticmethod
    def bucket_encryption() -> dict:
        """SSE-S3: every reader (Lambda, Glue, validation) decrypts without a KMS grant."""
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}

    @staticmethod
    def public_access_block() -> dict:
        return {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True}

    def glue_security_configuration(self) -> dict:
        """S3 writes by the job are SSE-S3; CloudWatch and bookmark encryption would need a customer key."""
        return {
            "Name": self.names.glue_security_configuration,
            "EncryptionConfiguration": {
                "S3Encryption": [{"S3EncryptionMode": "SSE-S3"}],
                "CloudWatchEncryption": {"CloudWatchEncryptionMode": "DISABLED"},
                "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "DISABLED"},
            },
        }

    # -- queues ----------------------------------------------------------------------------
    # SSE-SQS, not SSE-KMS: S3 cannot send notifications to a queue encrypted with the AWS-managed
    # aws/sqs key (its key policy does not let s3.amazonaws.com use it).
    QUEUE_ENCRYPTION = {"SqsManagedSseEnabled": "true"}

    def dlq_attributes(self) -> dict:
        return {"MessageRetentionPeriod": str(DLQ_RETENTION_S), **self.QUEUE_ENCRYPTION}

    def queue_attributes(self) -> dict:
        n = self.names
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "LandingBucketNotifications",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": self.queue_arn(n.queue),
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": self.bucket_arn(n.landing_bucket)},
                        "StringEquals": {"aws:SourceAccount": self.account},
                    },
                }
            ],
        }
        return {
            "VisibilityTimeout": str(self.settings.visibility_timeout_s),
            "MessageRetentionPeriod": str(QUEUE_RETENTION_S),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": self.queue_arn(n.dlq), "maxReceiveCount": MAX_RECEIVE_COUNT}, sort_keys=True
            ),
            "Policy": json.dumps(policy, sort_keys=True),
            **self.QUEUE_ENCRYPTION,
        }

    # -- table -----------------------------------------------------------------------------
    def table_definition(self) -> dict:
        return {
            "TableName": self.names.table,
            "BillingMode": "PAY_PER_REQUEST",
            # The AWS-managed key (aws/dynamodb): visible in DescribeTable, no key policy to keep.
            "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
            "AttributeDefinitions": [
                {"AttributeName": "date_prefix", "AttributeType": "S"},
                {"AttributeName": "file_key", "AttributeType": "S"},
                {"AttributeName": "pending_date", "AttributeType": "S"},
                {"AttributeName": "open_flag", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "date_prefix", "KeyType": "HASH"},
                {"AttributeName": "file_key", "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": PENDING_INDEX,
                    "KeySchema": [
                        {"AttributeName": "pending_date", "KeyType": "HASH"},
                        {"AttributeName": "file_key", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": OPEN_MANIFEST_INDEX,
                    "KeySchema": [
                        {"AttributeName": "open_flag", "KeyType": "HASH"},
                        {"AttributeName": "file_key", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
            ],
        }

    # -- functions -------------------------------------------------------------------------
    def builder_environment(self) -> dict:
        s = self.settings
        env = {
            "TABLE_NAME": self.names.table,
            "MANIFEST_BUCKET": self.names.output_bucket,
            "STATE_MACHINE_ARN": self.state_machine_arn(),
            "MANIFEST_BATCH_SIZE": str(s.batch_size),
            "FLUSH_MAX_WAIT_SECONDS": str(s.flush_max_wait_s),
            "LOCK_LEASE_SECONDS": str(2 * s.builder_timeout_s),
            "MANIFEST_MAX_ATTEMPTS": str(s.max_attempts),
            "LOG_LEVEL": s.log_level,
            "ENVIRONMENT": s.environment,
            "METRICS_NAMESPACE": self.names.metrics_namespace,
        }
        env.update(self._telemetry_env())
        env.update(s.extra_env)
        return env

    def _telemetry_env(self) -> dict:
        """Simulator-only switches; empty (so nothing differs) in a production deploy."""
        env = {}
        if self.settings.telemetry_file:
            env["SIM_TELEMETRY_FILE"] = self.settings.telemetry_file
        if self.settings.faults:
            env["SIM_FAULTS"] = self.settings.faults
        return env

    def builder_config(self) -> dict:
        return {
            "FunctionName": self.names.builder_function,
            "Runtime": LAMBDA_RUNTIME,
            "Handler": BUILDER_HANDLER,
            "Role": self.role_arn(self.names.builder_role),
            "Timeout": self.settings.builder_timeout_s,
            "MemorySize": self.settings.builder_memory_mb,
            "Environment": {"Variables": self.builder_environment()},
        }

    def converter_config(self) -> dict:
        return {
            "FunctionName": self.names.converter_function,
            "Runtime": LAMBDA_RUNTIME,
            "Handler": CONVERTER_HANDLER,
            "Role": self.role_arn(self.names.converter_role),
            "Timeout": self.settings.converter_timeout_s,
            "MemorySize": self.settings.converter_memory_mb,
            "Environment": {
                "Variables": {
                    "TABLE_NAME": self.names.table,
                    "MANIFEST_BUCKET": self.names.output_bucket,
                    "OUTPUT_BUCKET": self.names.output_bucket,
                    "LOG_LEVEL": self.settings.log_level,
                    "METRICS_NAMESPACE": self.names.metrics_namespace,
                    "GZIP_MAX_BYTES": str(self.settings.gzip_max_bytes),
                    **self._telemetry_env(),
                }
            },
        }

    def event_source_mapping(self) -> dict:
        return {
            "EventSourceArn": self.queue_arn(self.names.queue),
            "FunctionName": self.names.builder_function,
            "BatchSize": 10,
            "MaximumBatchingWindowInSeconds": self.settings.batch_window_s,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "Enabled": True,
        }

    # -- glue ------------------------------------------------------------------------------
    def glue_job(self) -> dict:
        n, s = self.names, self.settings
        return {
            "Name": n.glue_job,
            "Role": self.role_arn(n.glue_role),
            "Command": {
                "Name": "pythonshell",
                "ScriptLocation": f"s3://{n.artifacts_bucket}/{n.glue_script_key}",
                "PythonVersion": "3.9",
            },
            "DefaultArguments": {
                "--manifest_bucket": n.output_bucket,
                "--output_bucket": n.output_bucket,
                "--table_name": n.table,
                "--extra-py-files": f"s3://{n.artifacts_bucket}/{n.artifact_zip_key}",
                "--LOG_LEVEL": s.log_level,
                "--METRICS_NAMESPACE": n.metrics_namespace,
                "--GZIP_MAX_BYTES": str(s.gzip_max_bytes),
                "library-set": "analytics",
                **{"--" + k: v for k, v in self._telemetry_env().items()},
            },
            "MaxCapacity": s.glue_max_capacity,
            "Timeout": s.glue_timeout,
            "MaxRetries": 0,
            "ExecutionProperty": {"MaxConcurrentRuns": s.glue_max_concurrent_runs},
            "SecurityConfiguration": n.glue_security_configuration,
        }

    # -- notifications, schedule, alarms ---------------------------------------------------
    def bucket_notification(self) -> dict:
        return {
            "QueueConfigurations": [
                {
                    "Id": "landing-to-queue",
                    "QueueArn": self.queue_arn(self.names.queue),
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        }

    def flush_rule(self) -> dict:
        return {"Name": self.names.flush_rule, "ScheduleExpression": self.settings.flush_schedule, "State": "ENABLED"}

    def flush_target(self) -> dict:
        return {"Id": "manifest-builder-flush", "Arn": self.function_arn(self.names.builder_function),
                "Input": json.dumps({"action": "flush"})}

    def alarms(self) -> list[dict]:
        n, topic = self.names, self.topic_arn()
        common = {
            "EvaluationPeriods": 1,
            "Period": 300,
            "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [topic],
            "ActionsEnabled": True,
        }
        return [
            {
                "AlarmName": n.alarm("dlq-not-empty"),
                "AlarmDescription": "The landing events DLQ holds messages: files that could not be tracked.",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": n.dlq}],
                "Statistic": "Maximum",
                **common,
            },
            {
                "AlarmName": n.alarm("builder-errors"),
                "AlarmDescription": "The manifest builder Lambda raised errors.",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": n.builder_function}],
                "Statistic": "Sum",
                **common,
            },
            *(
                {
                    "AlarmName": n.alarm(name),
                    "AlarmDescription": description,
                    "Namespace": n.metrics_namespace,
                    "MetricName": metric,
                    "Dimensions": [],
                    "Statistic": "Sum",
                    **common,
                }
                for name, metric, description in (
                    ("quarantined-records", "QuarantinedRecords",
                     "Landed lines were quarantined (not JSON objects, invalid UTF-8, a truncated gzip tail): "
                     "see quarantine/ in the output bucket."),
                    ("quarantined-files", "QuarantinedFiles",
                     "Whole landed files were quarantined (deleted before conversion, not gzip data, a gzip "
                     "stream cut short): see quarantine/ in the output bucket."),
                    ("overwritten-files", "OverwrittenFiles",
                     "A landed key was overwritten with new content after it was put in a manifest: the new "
                     "content is not converted. Land corrections under a new key."),
                )
            ),
            {
                "AlarmName": n.alarm("failed-workflows"),
                "AlarmDescription": "A manifest's conversion workflow failed.",
                "Namespace": "AWS/States",
                "MetricName": "ExecutionsFailed",
                "Dimensions": [{"Name": "StateMachineArn", "Value": self.state_machine_arn()}],
                "Statistic": "Sum",
                **common,
            },
        ]
