"""The pipeline's wiring as data: names, settings and the desired configuration of each resource.

What the pipeline brings (code, handler, tables, state machine, converter) comes from its
description (sim/infra/description.py); what `sim` builds around it (buckets, queue and DLQ,
notification, mapping, schedule, alarms, topic) and the placeholders' values come from here. Pure
(no AWS calls), so tests can check the rules that matter: the DLQ sits on the queue's redrive
policy, the visibility timeout is at least six times the builder's timeout, alarms have actions.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field

from sim.core.errors import SimError
from sim.engine import profiles
from sim import inject
from sim.infra import description, placeholders

DEFAULT_PREFIX = "sim-ingest"
DLQ_RETENTION_S = 14 * 24 * 3600
QUEUE_RETENTION_S = 4 * 24 * 3600
MAX_RECEIVE_COUNT = 5  # AWS advises at least 5 on a queue feeding Lambda: throttled batches are returned too
VISIBILITY_MULTIPLE = 6
PENDING_INDEX = "pending-index"
PENDING_AGE_INDEX = "pending-age-index"
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


def default_prefix(pipeline: description.Description | None = None) -> str:
    """`$SIM_PREFIX`, else `sim-<name>` of the pipeline (`sim-ingest` for `sim`'s own): set it for
    every command that talks to that deployment."""
    return check_prefix(os.environ.get("SIM_PREFIX") or (pipeline.default_prefix if pipeline else DEFAULT_PREFIX))


@dataclass(frozen=True)
class Names:
    prefix: str = field(default_factory=default_prefix)

    @classmethod
    def of(cls, pipeline: description.Description) -> "Names":
        return cls(default_prefix(pipeline))

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
    def table(self): return self.table_named("state")  # sim's own table (the first of its description)
    def table_named(self, table_id: str) -> str: return f"{self.prefix}-{table_id}"
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
    def glue_script_key(self): return "glue/glue_entry.py"  # sim's own; see Wiring.glue_script_key
    def alarm(self, what: str) -> str: return f"{self.prefix}-{what}"


@dataclass
class Settings:
    """What a run tunes. Defaults are production-shaped; the target's profile changes only what its
    engine needs (see sim/engine/profiles.py). Fields left None take the pipeline description's
    value (`described`); set, they override it (scenarios shorten timeouts, for instance)."""

    target: str = "ministack"
    environment: str = ""
    log_level: str = ""
    batch_size: int = 200  # files per manifest: ${ManifestBatchSize}
    flush_max_wait_s: int = 3600
    flush_schedule: str | None = None
    builder_timeout_s: int | None = None
    builder_memory_mb: int | None = None
    converter_timeout_s: int | None = None
    converter_memory_mb: int | None = None
    batch_window_s: int | None = None
    glue_max_capacity: float | None = None
    glue_timeout: int | None = None  # in the target's unit: minutes on AWS, seconds on MiniStack
    # AWS: the capacity model (sim/report) reads this. The embedded engine runs one per core instead
    # (profiles.LOCAL_GLUE_CONCURRENT_RUNS, where the measurement is).
    glue_max_concurrent_runs: int | None = None
    gzip_max_bytes: int = 4 * 1024**3  # a .gz landing file stops decompressing here (a gzip bomb)
    lease_s: float | None = None  # ${LeaseSeconds}: a builder's lease or lock lifetime (None: twice its timeout)
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

    def described(self, pipeline: description.Description) -> "Settings":
        """A copy with every field left None taken from the pipeline's description."""
        b, c = pipeline.builder, pipeline.converter
        lam = c.lambda_
        fill = {
            "flush_schedule": b.flush_schedule,
            "builder_timeout_s": b.timeout,
            "builder_memory_mb": b.memory,
            "converter_timeout_s": lam.timeout if lam else 900,
            "converter_memory_mb": lam.memory if lam else 3008,
            "batch_window_s": b.batch_window,
            "glue_max_capacity": c.max_capacity,
            "glue_timeout": c.timeout * 60 // self.profile.glue_timeout_unit_s,
            "glue_max_concurrent_runs": c.max_concurrent_runs,
        }
        out = copy.copy(self)
        out.extra_env = dict(self.extra_env)
        for name, value in fill.items():
            if getattr(out, name) is None:
                setattr(out, name, value)
        return out

    @property
    def profile(self) -> profiles.TargetProfile:
        return profiles.profile(self.target)

    @property
    def converter_mode(self) -> str:
        """LocalStack's free edition has no Glue: the converter runs as a Lambda task there."""
        return self.profile.converter

    @property
    def visibility_timeout_s(self) -> int:
        return VISIBILITY_MULTIPLE * self._need("builder_timeout_s")

    @property
    def run_limit_s(self) -> int:
        """How long a converter run can be going: its timeout, and a minute for the engine to say so."""
        if self.converter_mode == profiles.GLUE:
            limit = self._need("glue_timeout") * self.profile.glue_timeout_unit_s
        else:
            limit = self._need("converter_timeout_s")
        return int(limit) + 60

    def _need(self, name: str):
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"Settings.{name} is taken from the pipeline description: use Settings.described()")
        return value

    def placeholder_values(self) -> dict[str, str]:
        """The settings' placeholders (docs/pipeline-description.md)."""
        timeout = self._need("builder_timeout_s")
        return {
            "ManifestBatchSize": str(self.batch_size),
            "FlushMaxWaitSeconds": str(self.flush_max_wait_s),
            "LogLevel": self.log_level,
            "Environment": self.environment,
            "BuilderTimeout": str(timeout),
            "LeaseSeconds": f"{self.lease_s if self.lease_s is not None else 2 * timeout:g}",
            "PollSeconds": str(self.poll_seconds),
            "ConversionMaxRuns": str(self.conversion_max_runs),
            "ConversionRetries": str(self.conversion_max_runs - 1),
            "ConversionRetryWaitSeconds": str(self.conversion_retry_wait_s),
            "ConverterRunLimitSeconds": str(self.run_limit_s),
            "MaxAttempts": str(self.max_attempts),
            "GzipMaxBytes": str(self.gzip_max_bytes),
        }


def deployed_settings(target: str, pipeline: description.Description | None = None) -> Settings:
    """The settings a plain `sim deploy --target <target>` deploys a pipeline with (`sim`'s own by default)."""
    return Settings(target=target).described(pipeline or description.load())


class Wiring:
    def __init__(self, account: str, region: str, settings: Settings, names: Names | None = None,
                 pipeline: description.Description | None = None):
        self.account = account
        self.region = region
        self.pipeline = pipeline or description.load()
        self.settings = settings.described(self.pipeline)
        self.names = names or Names.of(self.pipeline)
        self.queue_urls: dict[str, str] = {}  # the engine's own URLs, once the deploy has read them

    # -- ARNs ------------------------------------------------------------------------------
    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def queue_arn(self, name: str) -> str: return self.arn("sqs", name)
    def queue_url(self, name: str) -> str: return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
    def role_arn(self, name: str) -> str: return f"arn:aws:iam::{self.account}:role/{name}"
    def function_arn(self, name: str) -> str: return self.arn("lambda", f"function:{name}")
    def state_machine_arn(self) -> str: return self.arn("states", f"stateMachine:{self.names.state_machine}")
    def execution_arn_pattern(self) -> str: return self.arn("states", f"execution:{self.names.state_machine}:*")
    def topic_arn(self) -> str: return self.arn("sns", self.names.topic)
    def table_arn(self, table_id: str | None = None) -> str:
        return self.arn("dynamodb", f"table/{self.table_name(table_id)}")
    def index_arn(self, index: str, table_id: str | None = None) -> str: return f"{self.table_arn(table_id)}/index/{index}"
    def glue_job_arn(self) -> str: return self.arn("glue", f"job/{self.names.glue_job}")
    def log_group_arn(self, group: str) -> str: return self.arn("logs", f"log-group:{group}")
    def bucket_arn(self, name: str) -> str: return f"arn:aws:s3:::{name}"

    def table_name(self, table_id: str | None = None) -> str:
        """A described table's name (the first table when no id is given)."""
        return self.names.table_named(table_id or self.pipeline.tables[0].id)

    def table_names(self) -> list[str]:
        return [self.names.table_named(t.id) for t in self.pipeline.tables]

    # -- placeholders ----------------------------------------------------------------------
    def placeholder_values(self, queue_urls: dict[str, str] | None = None) -> dict[str, str]:
        """Every placeholder's value. Queue URLs are the engine's own when given (an emulator's
        differ from AWS's form); otherwise AWS's form."""
        n = self.names
        urls = queue_urls or self.queue_urls
        values = {
            "Prefix": n.prefix, "Region": self.region, "AccountId": self.account,
            "LandingBucket": n.landing_bucket, "OutputBucket": n.output_bucket, "ManifestBucket": n.output_bucket,
            "ArtifactsBucket": n.artifacts_bucket,
            "QueueUrl": urls.get(n.queue) or self.queue_url(n.queue), "QueueArn": self.queue_arn(n.queue),
            "DlqUrl": urls.get(n.dlq) or self.queue_url(n.dlq), "DlqArn": self.queue_arn(n.dlq),
            "TableName": self.table_name(), "TableArn": self.table_arn(),
            "StateMachineArn": self.state_machine_arn(), "StateMachineName": n.state_machine,
            "GlueJobName": n.glue_job, "ConverterFunctionName": n.converter_function,
            "ConverterFunctionArn": self.function_arn(n.converter_function),
            "BuilderFunctionName": n.builder_function, "BuilderFunctionArn": self.function_arn(n.builder_function),
            "AlertsTopicArn": self.topic_arn(), "MetricsNamespace": n.metrics_namespace,
        }
        for t in self.pipeline.tables:
            values[f"TableName.{t.id}"] = self.table_name(t.id)
            values[f"TableArn.{t.id}"] = self.table_arn(t.id)
        values.update(self.settings.placeholder_values())
        return values

    def substitute(self, text: str, where: str) -> str:
        return placeholders.substitute(text, self.placeholder_values(), where)

    def _substituted(self, values: dict, where: str) -> dict:
        return {k: self.substitute(v, f"{self.pipeline.path}: {where} {k}") for k, v in values.items()}

    # -- encryption at rest -----------------------------------------------------------------
    @staticmethod
    def bucket_encryption() -> dict:
        """SSE-S3: every reader (Lambda, Glue, validation) decrypts without a KMS grant."""
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}

    @staticmethod
    def output_lifecycle_rule() -> dict:
        """The output bucket's rule that aborts multipart uploads a killed converter left behind
        (S3 keeps, and bills, their parts until they are aborted)."""
        return {"ID": "abort-incomplete-multipart-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}

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

    # -- tables ----------------------------------------------------------------------------
    def table_definitions(self) -> list[dict]:
        return [self._table_definition(t) for t in self.pipeline.tables]

    def table_definition(self, table_id: str | None = None) -> dict:
        wanted = table_id or self.pipeline.tables[0].id
        return next(self._table_definition(t) for t in self.pipeline.tables if t.id == wanted)

    def _table_definition(self, table: description.Table) -> dict:
        def keys(hash_key: str, range_key: str) -> list[dict]:
            out = [{"AttributeName": hash_key, "KeyType": "HASH"}]
            if range_key:
                out.append({"AttributeName": range_key, "KeyType": "RANGE"})
            return out

        spec = {
            "TableName": self.table_name(table.id),
            "BillingMode": "PAY_PER_REQUEST",
            # The AWS-managed key (aws/dynamodb): visible in DescribeTable, no key policy to keep.
            "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": table.attribute_type(a)}
                                     for a in table.key_attributes],
            "KeySchema": keys(table.hash_key, table.range_key),
        }
        indexes = []
        for index in table.indexes:
            if index.projection in ("ALL", "KEYS_ONLY"):
                projection = {"ProjectionType": index.projection}
            else:
                projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projection)}
            indexes.append({"IndexName": index.name, "KeySchema": keys(index.hash_key, index.range_key),
                            "Projection": projection})
        if indexes:
            spec["GlobalSecondaryIndexes"] = indexes
        return spec

    def table_ttl(self, table_id: str) -> str:
        return next(t.ttl for t in self.pipeline.tables if t.id == table_id)

    # -- functions -------------------------------------------------------------------------
    def builder_environment(self) -> dict:
        env = self._substituted(self.pipeline.builder.environment, "[builder.environment]")
        env.update(self._telemetry_env())
        env.update(self.settings.extra_env)
        return env

    def _telemetry_env(self) -> dict:
        """Simulator-only switches; empty (so nothing differs) in a production deploy. A pipeline
        other than `sim`'s own writes no telemetry lines itself: on an emulator the fault bundle
        writes them for it (SIM_INJECT_TELEMETRY, sim/inject/telemetry.py); `sim`'s own code
        writes its own, so the bundle is not told to (each call would be counted twice)."""
        env = {}
        if self.settings.telemetry_file:
            env["SIM_TELEMETRY_FILE"] = self.settings.telemetry_file
            if self.injects and not self.pipeline.own:
                env[inject.TELEMETRY_SWITCH] = "1"
        if self.settings.faults:
            env["SIM_FAULTS"] = self.settings.faults
        return env

    @property
    def injects(self) -> bool:
        """On an emulator the fault bundle wraps the pipeline's code (sim/inject): a Lambda's
        handler is the bundle's wrapper and the Glue job's script its launcher, which run the
        described code unchanged and break it where a scenario asks. Never on AWS."""
        return self.settings.profile.emulator

    def _handler_and_env(self, handler: str, process: str, env: dict) -> tuple[str, dict]:
        if not self.injects:
            return handler, env
        return inject.WRAPPER_HANDLER, {**env, **inject.lambda_environment(handler, process)}

    def builder_config(self) -> dict:
        b = self.pipeline.builder
        handler, env = self._handler_and_env(b.handler, "builder", self.builder_environment())
        return {
            "FunctionName": self.names.builder_function,
            "Runtime": b.runtime,
            "Handler": handler,
            "Role": self.role_arn(self.names.builder_role),
            "Timeout": self.settings.builder_timeout_s,
            "MemorySize": self.settings.builder_memory_mb,
            "Environment": {"Variables": env},
        }

    def converter_code(self) -> description.Code:
        lam = self.pipeline.converter.lambda_
        if lam is None:
            raise SimError(f"{self.pipeline.path}: the {self.settings.target} target has no Glue, and the description "
                           "names no Lambda form of the converter ([converter.lambda] and [state_machine] "
                           "definition_without_glue)")
        return lam

    def converter_config(self) -> dict:
        lam = self.converter_code()
        env = self._substituted(lam.environment, "[converter.lambda.environment]")
        env.update(self._telemetry_env())
        handler, env = self._handler_and_env(lam.handler, "converter", env)
        return {
            "FunctionName": self.names.converter_function,
            "Runtime": lam.runtime,
            "Handler": handler,
            "Role": self.role_arn(self.names.converter_role),
            "Timeout": self.settings.converter_timeout_s,
            "MemorySize": self.settings.converter_memory_mb,
            "Environment": {"Variables": env},
        }

    def event_source_mapping(self) -> dict:
        return {
            "EventSourceArn": self.queue_arn(self.names.queue),
            "FunctionName": self.names.builder_function,
            "BatchSize": self.pipeline.builder.batch_size,
            "MaximumBatchingWindowInSeconds": self.settings.batch_window_s,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "Enabled": True,
        }

    # -- the workflow ----------------------------------------------------------------------
    def state_machine_definition(self) -> str:
        """The described ASL for the converter the target runs, placeholders substituted."""
        machine = self.pipeline.state_machine
        path = machine.definition
        if self.settings.converter_mode != profiles.GLUE:
            self.converter_code()  # one clear error when there is no Lambda form
            if machine.definition_without_glue is None:
                raise SimError(f"{self.pipeline.path}: the {self.settings.target} target has no Glue, and "
                               "[state_machine] names no definition_without_glue")
            path = machine.definition_without_glue
        text = self.substitute(path.read_text(encoding="utf-8"), str(path))
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise SimError(f"{path}: not JSON once its placeholders are substituted: {exc}") from None
        if not isinstance(doc, dict) or "StartAt" not in doc or not isinstance(doc.get("States"), dict):
            raise SimError(f"{path}: not a state machine definition (StartAt and States are needed)")
        return json.dumps(doc, indent=2, sort_keys=True)

    def capacity_retry(self) -> dict | None:
        """The workflow's Retry on Glue's ConcurrentRunsExceeded (how long a run waits for a free
        slot), as the deployed definition has it; None when it has none."""
        doc = json.loads(self.state_machine_definition())
        for state in doc["States"].values():
            for retry in state.get("Retry", []):
                if "Glue.ConcurrentRunsExceededException" in retry.get("ErrorEquals", []):
                    return retry
        return None

    # -- glue ------------------------------------------------------------------------------
    @property
    def glue_script_key(self) -> str:
        """Where the described script is uploaded (on an emulator the job runs the launcher, which
        starts this script)."""
        return f"glue/{self.pipeline.converter.script.name}"

    @property
    def glue_launcher_key(self) -> str:
        return f"glue/{inject.LAUNCHER_NAME}"

    INJECT_ZIP_KEY = "pipeline/sim-inject.zip"

    def glue_job(self) -> dict:
        n, s, c = self.names, self.settings, self.pipeline.converter
        arguments = self._substituted(c.arguments, "[converter.arguments]")
        extra = [f"s3://{n.artifacts_bucket}/{n.artifact_zip_key}"] if c.modules else []
        script = f"s3://{n.artifacts_bucket}/{self.glue_script_key}"
        if self.injects:
            names = inject.glue_argument_names(arguments, self.state_machine_definition())
            names += [k.lstrip("-") for k in self._telemetry_env()]
            launcher = inject.glue_default_arguments(script, names, n.glue_job)
            extra.append(f"s3://{n.artifacts_bucket}/{self.INJECT_ZIP_KEY}")
            arguments.update(launcher)
            script = f"s3://{n.artifacts_bucket}/{self.glue_launcher_key}"
        if extra:
            arguments["--extra-py-files"] = ",".join(extra)
        arguments.update({"--" + k: v for k, v in self._telemetry_env().items()})
        return {
            "Name": n.glue_job,
            "Role": self.role_arn(n.glue_role),
            "Command": {
                "Name": "pythonshell",
                "ScriptLocation": script,
                "PythonVersion": c.python_version,
            },
            "DefaultArguments": arguments,
            "MaxCapacity": s.glue_max_capacity,
            "Timeout": s.glue_timeout,
            "MaxRetries": c.max_retries,
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

    def flush_rule(self) -> dict | None:
        """The schedule that sends the builder its flush event; None when the pipeline has none."""
        if not self.settings.flush_schedule or self.pipeline.builder.flush_event is None:
            return None
        return {"Name": self.names.flush_rule, "ScheduleExpression": self.settings.flush_schedule, "State": "ENABLED"}

    def flush_target(self) -> dict:
        return {"Id": "manifest-builder-flush", "Arn": self.function_arn(self.names.builder_function),
                "Input": json.dumps(self.pipeline.builder.flush_event)}

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
                    "AlarmName": n.alarm(a.name),
                    "AlarmDescription": a.description,
                    "Namespace": self.substitute(a.namespace, f"{self.pipeline.path}: [[alarms]] {a.name}"),
                    "MetricName": a.metric,
                    "Dimensions": [],
                    "Statistic": a.statistic,
                    **common,
                    "Threshold": float(a.threshold),
                }
                for a in self.pipeline.alarms
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
