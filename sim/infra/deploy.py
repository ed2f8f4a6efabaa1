"""Apply the wiring to an engine (or AWS) idempotently: create what is missing, update what
differs, leave the rest alone, and say which was which.

Each `_ensure_*` step reads the live resource first and writes only on a difference, so a second
deploy with no change in the tree reports every resource `unchanged` (and S3 sends no new test
event, Lambda keeps its version, the queue keeps its messages).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from botocore.exceptions import ClientError

from sim import inject
from sim.core.errors import SimError

from sim.core.polling import wait_until
from sim.engine import profiles
from sim.engine.target import Target
from sim.infra import bundle, description, package
from sim.infra import iam as policies
from sim.infra import aws
from sim.infra.spec import Names, Settings, Wiring

NEW_ROLE_WAIT_S = 60.0  # IAM is eventually consistent: a role made a moment ago may not be assumable yet
INLINE_ZIP_LIMIT = 10 * 1024 * 1024  # larger Lambda packages go through the artifacts bucket


@dataclass
class Change:
    kind: str
    name: str
    action: str  # created | updated | unchanged
    detail: str = ""


@dataclass(frozen=True)
class Code:
    """A Lambda package: sent inline, or already uploaded to S3 (large bundles)."""

    sha256: str  # base64, as Lambda reports CodeSha256
    zip_bytes: bytes | None = None
    s3_bucket: str = ""
    s3_key: str = ""

    def args(self) -> dict:
        if self.zip_bytes is not None:
            return {"ZipFile": self.zip_bytes}
        return {"S3Bucket": self.s3_bucket, "S3Key": self.s3_key}


class ResourceSteps:
    """What deploy and destroy share: one client per service, and a log of changes as they happen."""

    def __init__(self, target: Target, progress: Callable[[Change], None] | None = None):
        self.target = target
        self.progress = progress
        self.changes: list[Change] = []
        self._clients: dict = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.target.client(service)
        return self._clients[service]

    def _emit(self, change: Change) -> None:
        self.changes.append(change)
        if self.progress:
            self.progress(change)


class Deployer(ResourceSteps):
    """Deploys one described pipeline (`sim`'s own when none is given) and what `sim` builds around it."""

    def __init__(self, target: Target, settings: Settings, progress: Callable[[Change], None] | None = None,
                 cache_dir: Path | None = None, pipeline: description.Description | None = None,
                 names: Names | None = None):
        super().__init__(target, progress)
        self.profile = settings.profile
        self.cache_dir = cache_dir
        account = target.client("sts").get_caller_identity()["Account"]
        self.wiring = Wiring(account, target.region, settings, names, pipeline)
        self.settings = self.wiring.settings
        self.pipeline = self.wiring.pipeline
        self.names = self.wiring.names

    def _record(self, kind: str, name: str, action: str, detail: str = "") -> None:
        self._emit(Change(kind, name, action, detail))

    # -- the whole deploy ------------------------------------------------------------------
    def apply(self) -> list[Change]:
        self.changes = []
        self._ensure_roles()
        self._ensure_uploader_role()
        for bucket in (self.names.landing_bucket, self.names.output_bucket, self.names.artifacts_bucket):
            self._ensure_bucket(bucket)
        self._ensure_output_lifecycle()
        self._ensure_topic()
        self._ensure_queue(self.names.dlq, self.wiring.dlq_attributes())
        self._ensure_queue(self.names.queue, self.wiring.queue_attributes())
        sqs = self.client("sqs")
        self.wiring.queue_urls = {q: sqs.get_queue_url(QueueName=q)["QueueUrl"] for q in (self.names.queue,
                                                                                        self.names.dlq)}
        for spec in self.wiring.table_definitions():
            self._ensure_table(spec)
        converters = {profiles.GLUE: self._glue_converter, profiles.LAMBDA: self._lambda_converter}
        converters[self.profile.converter]()
        self._ensure_state_machine(self.wiring.state_machine_definition())
        self._ensure_function(self.wiring.builder_config(), self._lambda_code(self.pipeline.builder, "builder"))
        self._ensure_event_source_mapping()
        self._ensure_notification()
        self._ensure_flush_schedule()
        for alarm in self.wiring.alarms():
            self._ensure_alarm(alarm)
        return self.changes

    # -- code ------------------------------------------------------------------------------
    def _cache(self) -> Path:
        if self.cache_dir is None:
            from sim.core import workdir as wd

            self.cache_dir = wd.resolve(None) / "cache"
        return Path(self.cache_dir)

    def _lambda_code(self, code: description.Code, role: str) -> Code:
        """A function's package: its code, its requirements as wheels for the Lambda platform, and on
        an emulator the fault bundle that wraps it (sim/inject)."""
        entries = package.code_entries(code)
        if self.wiring.injects:
            entries += inject.bundle_entries()
        if code.requirements is None:
            data = package.zip_bytes(entries)
            if len(data) <= INLINE_ZIP_LIMIT:
                return Code(package.code_sha256(data), zip_bytes=data)
            return self._uploaded_code(data, f"pipeline/{role}.zip", f"{len(data)} bytes")
        built = bundle.build(self._cache(), entries, bundle.read_requirements(code.requirements))
        return self._uploaded_code(built.path.read_bytes(), f"pipeline/{role}-bundle.zip",
                                   f"{built.zipped_bytes} bytes, {built.unzipped_bytes} unzipped, "
                                   f"{', '.join(built.dependencies)}", built.sha256)

    def _uploaded_code(self, data: bytes, key: str, detail: str, sha: str | None = None) -> Code:
        bucket = self.names.artifacts_bucket
        self._ensure_object(bucket, key, data, detail=detail)
        return Code(sha or package.code_sha256(data), s3_bucket=bucket, s3_key=key)

    # -- the converter, as the target runs it ----------------------------------------------
    def _glue_converter(self) -> None:
        """The Glue job: its script and extra modules in the artifacts bucket, then the job."""
        converter, bucket = self.pipeline.converter, self.names.artifacts_bucket
        self._ensure_object(bucket, self.wiring.glue_script_key, converter.script.read_bytes())
        if converter.modules:
            self._ensure_object(bucket, self.names.artifact_zip_key,
                                package.zip_bytes(package.module_entries(converter.modules)))
        if self.wiring.injects:  # the launcher starts the described script as Glue does, and breaks it on request
            self._ensure_object(bucket, self.wiring.glue_launcher_key, inject.launcher_bytes())
            self._ensure_object(bucket, self.wiring.INJECT_ZIP_KEY, package.zip_bytes(inject.bundle_entries()))
        self._ensure_glue_security_configuration()
        self._ensure_glue_job()

    def _lambda_converter(self) -> None:
        """The converter Lambda (with its requirements bundled), which the workflow runs as a task."""
        code = self.wiring.converter_code()
        self._ensure_function(self.wiring.converter_config(), self._lambda_code(code, "converter"))

    def _converter_code(self) -> Code:
        """The converter Lambda's package (kept for callers that check what deploy sends)."""
        return self._lambda_code(self.wiring.converter_code(), "converter")

    def resources(self) -> dict:
        """The contract's resource map (`sim status`)."""
        sqs = self.client("sqs")
        return {
            "landing_bucket": self.names.landing_bucket,
            "output_bucket": self.names.output_bucket,
            "queue_url": sqs.get_queue_url(QueueName=self.names.queue)["QueueUrl"],
            "dlq_url": sqs.get_queue_url(QueueName=self.names.dlq)["QueueUrl"],
            "table": self.wiring.table_name(),
            "tables": self.wiring.table_names(),
            "state_machine_arn": self.wiring.state_machine_arn(),
            "alerts_topic_arn": self.wiring.topic_arn(),
            "uploader_role_arn": self.wiring.role_arn(self.names.uploader_role),  # producers assume it to land files
            "pipeline": str(self.pipeline.path),
        }

    # -- IAM -------------------------------------------------------------------------------
    def _ensure_roles(self) -> None:
        for name, (service, policy) in policies.roles(self.wiring).items():
            trust = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
            }
            self._ensure_role(name, trust, policy)

    def _ensure_uploader_role(self) -> None:
        """The producers' role (see iam.py): trusted by the account, not by a service."""
        self._ensure_role(self.names.uploader_role, policies.uploader_trust(self.wiring),
                          policies.uploader_policy(self.wiring),
                          description="Producers assume it to land files in the landing bucket")

    def _ensure_role(self, name: str, trust: dict, policy: dict, description: str = "") -> None:
        """The role trusts exactly `trust` and holds exactly one inline policy, `pipeline`: other
        inline policies are deleted and managed policies detached, so nothing widens it unseen."""
        iam = self.client("iam")

        def doc(value):
            return json.loads(value) if isinstance(value, str) else value

        changed: list[str] = []
        live_trust, action = aws.live(lambda: doc(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"])), "unchanged"
        if live_trust is None:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                            **({"Description": description} if description else {}))
            live_trust, action = trust, "created"
        if live_trust != trust:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
            changed.append("trust")
        live_policy = aws.live(lambda: doc(iam.get_role_policy(RoleName=name, PolicyName="pipeline")["PolicyDocument"]))
        if live_policy != policy:
            iam.put_role_policy(RoleName=name, PolicyName="pipeline", PolicyDocument=json.dumps(policy))
            changed.append("policy")
        for extra in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
            if extra != "pipeline":
                iam.delete_role_policy(RoleName=name, PolicyName=extra)
                changed.append(f"removed inline {extra}")
        for attached in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", []):
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            changed.append(f"detached {attached['PolicyName']}")
        if action == "unchanged" and changed:
            action = "updated"
        self._record("iam-role", name, action, ",".join(changed) if action == "updated" else "")

    # -- storage and messaging -------------------------------------------------------------
    def _ensure_bucket(self, name: str) -> None:
        s3 = self.client("s3")
        if aws.live(lambda: s3.head_bucket(Bucket=name)) is not None:
            self._record("s3-bucket", name, "unchanged")
        else:
            if self.target.region == "us-east-1":
                s3.create_bucket(Bucket=name)
            else:  # every other region must be named when the bucket is made
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.target.region})
            self._record("s3-bucket", name, "created")
        self._ensure_bucket_protection(name)

    def _ensure_bucket_protection(self, name: str) -> None:
        """Default encryption and a public access block, restored when someone changes them."""
        s3 = self.client("s3")
        want_sse, want_block = self.wiring.bucket_encryption(), self.wiring.public_access_block()
        live_sse = aws.live(lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"])
        live_block = aws.live(lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"])
        changed = []
        if not _same_subset(live_sse, want_sse):
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=want_sse)
            changed.append("encryption")
        if not _same_subset(live_block, want_block):
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=want_block)
            changed.append("public-access-block")
        if changed:
            self._record("s3-bucket", name, "updated", ",".join(changed))

    def _ensure_output_lifecycle(self) -> None:
        """The output bucket's rule aborting incomplete multipart uploads, beside any rules of
        the bucket's owner (kept as they are)."""
        s3, bucket, want = self.client("s3"), self.names.output_bucket, self.wiring.output_lifecycle_rule()
        live = aws.live(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) or []
        ours = [r for r in live if r.get("ID") == want["ID"]]
        if len(ours) == 1 and _same_subset(ours[0], want):
            return
        others = [r for r in live if r.get("ID") != want["ID"]]
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": others + [want]})
        self._record("s3-bucket", bucket, "updated", "lifecycle")

    def _ensure_object(self, bucket: str, key: str, body: bytes, detail: str = "") -> None:
        s3 = self.client("s3")
        want = hashlib.md5(body).hexdigest()
        etag = aws.live(lambda: s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"'))
        if etag == want:
            self._record("s3-object", f"{bucket}/{key}", "unchanged")
            return
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        self._record("s3-object", f"{bucket}/{key}", "created" if etag is None else "updated", detail)

    def _ensure_topic(self) -> None:
        sns = self.client("sns")
        arn = self.wiring.topic_arn()
        if aws.live(lambda: sns.get_topic_attributes(TopicArn=arn)) is not None:
            self._record("sns-topic", self.names.topic, "unchanged")
        else:
            sns.create_topic(Name=self.names.topic)
            self._record("sns-topic", self.names.topic, "created")

    def _ensure_queue(self, name: str, attributes: dict) -> None:
        sqs = self.client("sqs")
        url = aws.live(lambda: sqs.get_queue_url(QueueName=name)["QueueUrl"])
        if url is None:
            sqs.create_queue(QueueName=name, Attributes=attributes)
            self._record("sqs-queue", name, "created")
            return
        live = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
        differs = {k: v for k, v in attributes.items() if not _same_attribute(live.get(k), v)}
        if differs:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=differs)
            self._record("sqs-queue", name, "updated", ",".join(sorted(differs)))
        else:
            self._record("sqs-queue", name, "unchanged")

    def _ensure_table(self, spec: dict) -> None:
        ddb = self.client("dynamodb")
        table = aws.live(lambda: ddb.describe_table(TableName=spec["TableName"])["Table"])
        if table is None:
            ddb.create_table(**spec)
            wait_until(lambda: ddb.describe_table(TableName=spec["TableName"])["Table"]["TableStatus"] == "ACTIVE",
                       every=0.2, what=f"table {spec['TableName']} to become active")
            self._ensure_ttl(spec["TableName"])
            self._record("dynamodb-table", spec["TableName"], "created")
            return
        live_keys = sorted((k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", []))
        if live_keys != sorted((k["AttributeName"], k["KeyType"]) for k in spec["KeySchema"]):
            raise SimError(f"table {spec['TableName']} exists with keys {live_keys}, not the described "
                           f"{spec['KeySchema']}: a table's keys cannot change; `sim destroy` it first (its data goes)")
        have = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
        missing = [g for g in spec.get("GlobalSecondaryIndexes", []) if g["IndexName"] not in have]
        for gsi in missing:
            ddb.update_table(
                TableName=spec["TableName"],
                AttributeDefinitions=spec["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": gsi}],
            )
        changed = [g["IndexName"] for g in missing]
        if table.get("SSEDescription", {}).get("Status") not in ("ENABLED", "ENABLING"):
            ddb.update_table(TableName=spec["TableName"], SSESpecification=spec["SSESpecification"])
            changed.append("encryption")
        if self._ensure_ttl(spec["TableName"]):
            changed.append("ttl")
        self._record("dynamodb-table", spec["TableName"], "updated" if changed else "unchanged", ",".join(changed))

    def _ensure_ttl(self, table_name: str) -> bool:
        """The described TTL attribute, switched on; True when it changed."""
        table = next(t for t in self.pipeline.tables if self.wiring.table_name(t.id) == table_name)
        if not table.ttl:
            return False
        ddb = self.client("dynamodb")
        live = aws.live(lambda: ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]) or {}
        if live.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and live.get("AttributeName") == table.ttl:
            return False
        ddb.update_time_to_live(TableName=table_name,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl})
        return True

    # -- compute ---------------------------------------------------------------------------
    def _ensure_function(self, config: dict, code: Code) -> None:
        lam = self.client("lambda")
        name = config["FunctionName"]
        current = aws.live(lambda: lam.get_function_configuration(FunctionName=name))
        if current is None:
            _retry_new_role(lambda: lam.create_function(**config, Code=code.args(), Publish=False))
            self._wait_function(name)
            self._record("lambda-function", name, "created")
            return
        changed = []
        if current.get("CodeSha256") != code.sha256:
            lam.update_function_code(FunctionName=name, **code.args())
            self._wait_function(name)
            changed.append("code")
        differs = [
            k for k in ("Runtime", "Handler", "Role", "Timeout", "MemorySize")
            if current.get(k) != config[k]
        ]
        if current.get("Environment", {}).get("Variables", {}) != config["Environment"]["Variables"]:
            differs.append("Environment")
        if differs:
            _retry_new_role(lambda: lam.update_function_configuration(**config))
            self._wait_function(name)
            changed.extend(differs)
        self._record("lambda-function", name, "updated" if changed else "unchanged", ",".join(changed))

    def _wait_function(self, name: str) -> None:
        lam = self.client("lambda")

        def ready() -> bool:
            cfg = lam.get_function_configuration(FunctionName=name)
            return cfg.get("State", "Active") == "Active" and cfg.get("LastUpdateStatus", "Successful") != "InProgress"

        wait_until(ready, every=0.2, what=f"Lambda function {name} to become active")

    def _ensure_glue_security_configuration(self) -> None:
        """Security configurations cannot be updated in place: a changed one is deleted and made again."""
        glue, spec = self.client("glue"), self.wiring.glue_security_configuration()
        current = aws.live(lambda: glue.get_security_configuration(Name=spec["Name"])["SecurityConfiguration"])
        if current is None:
            glue.create_security_configuration(**spec)
            return self._record("glue-security-configuration", spec["Name"], "created")
        if _same_subset(current.get("EncryptionConfiguration"), spec["EncryptionConfiguration"]):
            return self._record("glue-security-configuration", spec["Name"], "unchanged")
        glue.delete_security_configuration(Name=spec["Name"])
        glue.create_security_configuration(**spec)
        self._record("glue-security-configuration", spec["Name"], "updated")

    def _ensure_glue_job(self) -> None:
        glue = self.client("glue")
        spec = self.wiring.glue_job()
        name = spec["Name"]
        job = aws.live(lambda: glue.get_job(JobName=name)["Job"])
        if job is None:
            glue.create_job(**spec)
            self._record("glue-job", name, "created")
            return
        fields = ("Role", "Command", "DefaultArguments", "MaxCapacity", "Timeout", "MaxRetries", "ExecutionProperty",
                  "SecurityConfiguration")
        # An engine that does not keep a field (MiniStack drops ExecutionProperty) cannot drift on it.
        differs = [f for f in fields if f in job and not _same_subset(job.get(f), spec[f])]
        # An argument the spec no longer sets (telemetry turned off, say) must go: UpdateJob
        # replaces the whole definition, but only a difference makes us call it.
        if "DefaultArguments" not in differs and set(job.get("DefaultArguments") or {}) - set(spec["DefaultArguments"]):
            differs.append("DefaultArguments")
        if differs:
            update = {k: v for k, v in spec.items() if k != "Name"}
            glue.update_job(JobName=name, JobUpdate=update)
            self._record("glue-job", name, "updated", ",".join(differs))
        else:
            self._record("glue-job", name, "unchanged")

    def _ensure_state_machine(self, definition: str) -> None:
        sfn = self.client("stepfunctions")
        arn = self.wiring.state_machine_arn()
        role = self.wiring.role_arn(self.names.sfn_role)
        machine = aws.live(lambda: sfn.describe_state_machine(stateMachineArn=arn))
        if machine is None:
            _retry_new_role(lambda: sfn.create_state_machine(name=self.names.state_machine, definition=definition,
                                                             roleArn=role, type="STANDARD"))
            self._record("state-machine", self.names.state_machine, "created")
            return
        if json.loads(machine["definition"]) != json.loads(definition) or machine.get("roleArn") != role:
            _retry_new_role(lambda: sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role))
            self._record("state-machine", self.names.state_machine, "updated")
        else:
            self._record("state-machine", self.names.state_machine, "unchanged")

    # -- triggers --------------------------------------------------------------------------
    def _ensure_event_source_mapping(self) -> None:
        lam = self.client("lambda")
        spec = self.wiring.event_source_mapping()
        found = lam.list_event_source_mappings(
            EventSourceArn=spec["EventSourceArn"], FunctionName=spec["FunctionName"]
        ).get("EventSourceMappings", [])
        name = f"{self.names.queue}->{self.names.builder_function}"
        if not found:
            _retry_new_role(lambda: lam.create_event_source_mapping(**spec))
            self._record("event-source-mapping", name, "created")
            return
        live = found[0]
        keys = ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes")
        differs = [k for k in keys if live.get(k) != spec[k]]
        if live.get("State") in ("Disabled", "Disabling"):
            differs.append("Enabled")
        if differs:
            update = {k: spec[k] for k in keys}
            lam.update_event_source_mapping(UUID=live["UUID"], Enabled=True, **update)
            self._record("event-source-mapping", name, "updated", ",".join(differs))
        else:
            self._record("event-source-mapping", name, "unchanged")

    def _ensure_notification(self) -> None:
        s3 = self.client("s3")
        bucket = self.names.landing_bucket
        want = self.wiring.bucket_notification()
        live = s3.get_bucket_notification_configuration(Bucket=bucket)
        live_queues = [
            {"Id": q.get("Id"), "QueueArn": q["QueueArn"], "Events": sorted(q["Events"])}
            for q in live.get("QueueConfigurations", [])
        ]
        want_queues = [{**q, "Events": sorted(q["Events"])} for q in want["QueueConfigurations"]]
        if live_queues == want_queues and not live.get("TopicConfigurations") and not live.get("LambdaFunctionConfigurations"):
            self._record("s3-notification", bucket, "unchanged")
            return
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=want)
        self._record("s3-notification", bucket, "updated" if live_queues else "created")

    def _ensure_flush_schedule(self) -> None:
        events, lam = self.client("events"), self.client("lambda")
        rule = self.wiring.flush_rule()
        if rule is None:  # the pipeline has no flush: a rule left from an earlier description goes
            name = self.names.flush_rule
            if aws.live(lambda: events.describe_rule(Name=name)) is not None:
                ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name).get("Targets", [])]
                if ids:
                    events.remove_targets(Rule=name, Ids=ids)
                events.delete_rule(Name=name)
                self._record("schedule-rule", name, "deleted", "the pipeline describes no flush schedule")
            return
        action = "unchanged"
        current = aws.live(lambda: events.describe_rule(Name=rule["Name"]))
        if current is not None:
            if current.get("ScheduleExpression") != rule["ScheduleExpression"] or current.get("State") != rule["State"]:
                events.put_rule(**rule)
                action = "updated"
        else:
            events.put_rule(**rule)
            action = "created"
            try:
                lam.add_permission(
                    FunctionName=self.names.builder_function,
                    StatementId="flush-schedule",
                    Action="lambda:InvokeFunction",
                    Principal="events.amazonaws.com",
                    SourceArn=self.wiring.arn("events", f"rule/{rule['Name']}"),
                )
            except ClientError as perm_exc:
                if aws.error_code(perm_exc) != "ResourceConflictException":
                    raise
        target = self.wiring.flush_target()
        targets = events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", [])
        if not any(t.get("Id") == target["Id"] and t.get("Arn") == target["Arn"] and t.get("Input") == target["Input"]
                   for t in targets):
            events.put_targets(Rule=rule["Name"], Targets=[target])
            action = "updated" if action == "unchanged" else action
        self._record("schedule-rule", rule["Name"], action)

    def _ensure_alarm(self, alarm: dict) -> None:
        cw = self.client("cloudwatch")
        live = cw.describe_alarms(AlarmNames=[alarm["AlarmName"]]).get("MetricAlarms", [])
        if live and all(_same_subset(live[0].get(k), v) for k, v in alarm.items()):
            self._record("cloudwatch-alarm", alarm["AlarmName"], "unchanged")
            return
        cw.put_metric_alarm(**alarm)
        self._record("cloudwatch-alarm", alarm["AlarmName"], "updated" if live else "created")


def _same_attribute(live: str | None, want: str) -> bool:
    if live is None:
        return False
    if want.startswith("{"):
        try:
            return json.loads(live) == json.loads(want)
        except ValueError:
            return False
    return str(live) == str(want)


def _same_subset(live, want) -> bool:
    """True when every key we set has the value we want (the API may add keys of its own)."""
    if isinstance(want, dict):
        return isinstance(live, dict) and all(_same_subset(live.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(live, list) and len(live) == len(want) and all(_same_subset(a, b) for a, b in zip(live, want))
    if isinstance(want, float) or isinstance(live, float):
        return live is not None and abs(float(live) - float(want)) < 1e-9
    return live == want


def _retry_new_role(call: Callable[[], object], timeout: float = NEW_ROLE_WAIT_S):
    """Run `call`, retrying while AWS says a just-created role cannot be assumed or lacks a grant yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", "") or ""
            role_not_ready = aws.error_code(exc) in ("InvalidParameterValueException", "AccessDeniedException") and (
                "role" in message.lower())
            if not role_not_ready or time.monotonic() > deadline:
                raise
            time.sleep(3)


def changes_as_dicts(changes: list[Change]) -> list[dict]:
    return [asdict(c) for c in changes]
