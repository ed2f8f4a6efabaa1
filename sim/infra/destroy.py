"""Remove everything `sim deploy` creates, in dependency order, tolerating what is already gone.

Triggers go first (alarms, the schedule, the bucket notification, the event source mapping) so
nothing starts work while the rest goes; then compute (functions, the state machine, the Glue job),
then data (table, queues, topic, buckets with every object version), then the roles, then the
functions' log groups. Both converters' resources are removed whatever the target runs now, so a
target switched between deploys leaves nothing behind. A second run reports everything `absent`.
"""

from __future__ import annotations

import time
from typing import Callable

from botocore.exceptions import ClientError

from sim.engine.target import Target
from sim.infra.deploy import Change, ResourceSteps, _code, _not_found
from sim.infra.spec import Names, Wiring

GONE_CODES = {"ResourceNotFoundException", "NoSuchEntity", "NoSuchBucket", "NotFound", "404",
              "EntityNotFoundException", "StateMachineDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
              "QueueDoesNotExist", "NotFoundException", "ResourceNotFound"}


def _gone(exc: ClientError) -> bool:
    return _code(exc) in GONE_CODES or _not_found(exc)


class Destroyer(ResourceSteps):
    def __init__(self, target: Target, names: Names | None = None,
                 progress: Callable[[Change], None] | None = None):
        super().__init__(target, progress)
        self.names = names or Names()
        account = target.client("sts").get_caller_identity()["Account"]
        from sim.infra.spec import Settings

        # Only ARNs are taken from the wiring; they do not depend on the target's settings.
        self.wiring = Wiring(account, target.region, Settings(target=target.name), self.names)

    def _record(self, kind: str, name: str, deleted: bool, detail: str = "") -> None:
        self._emit(Change(kind, name, "deleted" if deleted else "absent", detail))

    def _try(self, kind: str, name: str, call: Callable[[], object]) -> None:
        """Run a deletion; a resource already gone is recorded `absent`. A string result is the detail."""
        try:
            result = call()
        except ClientError as exc:
            if not _gone(exc):
                raise
            return self._record(kind, name, False)
        self._record(kind, name, True, result if isinstance(result, str) else "")

    # -- the whole teardown ----------------------------------------------------------------
    def apply(self) -> list[Change]:
        n = self.names
        self._alarms()
        self._flush_schedule()
        self._notification()
        self._event_source_mappings()
        for fn in (n.builder_function, n.converter_function):
            self._try("lambda-function", fn, lambda fn=fn: self.c("lambda").delete_function(FunctionName=fn))
        self._state_machine()
        self._try("glue-job", n.glue_job, self._delete_glue_job)
        self._try("glue-security-configuration", n.glue_security_configuration,
                  lambda: self.c("glue").delete_security_configuration(Name=n.glue_security_configuration))
        self._table()
        for queue in (n.queue, n.dlq):
            self._queue(queue)
        self._topic()
        for bucket in (n.landing_bucket, n.output_bucket, n.artifacts_bucket):
            self._bucket(bucket)
        for role in n.all_roles:
            self._role(role)
        self._role(n.uploader_role)
        for fn in (n.builder_function, n.converter_function):
            group = f"/aws/lambda/{fn}"
            self._try("log-group", group, lambda g=group: self.c("logs").delete_log_group(logGroupName=g))
        return self.changes

    # -- triggers --------------------------------------------------------------------------
    def _alarms(self) -> None:
        cw = self.c("cloudwatch")
        for name in (a["AlarmName"] for a in self.wiring.alarms()):
            live = cw.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
            if live:
                cw.delete_alarms(AlarmNames=[name])
            self._record("cloudwatch-alarm", name, bool(live))

    def _flush_schedule(self) -> None:
        events, rule = self.c("events"), self.names.flush_rule

        def delete():
            events.describe_rule(Name=rule)  # DeleteRule succeeds on a missing rule on some engines: ask first
            ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule).get("Targets", [])]
            if ids:
                events.remove_targets(Rule=rule, Ids=ids)
            events.delete_rule(Name=rule)

        self._try("schedule-rule", rule, delete)

    def _notification(self) -> None:
        s3, bucket = self.c("s3"), self.names.landing_bucket
        try:
            live = s3.get_bucket_notification_configuration(Bucket=bucket)
        except ClientError as exc:
            if not _gone(exc):
                raise
            return self._record("s3-notification", bucket, False)
        has = any(live.get(k) for k in ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"))
        if has:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        self._record("s3-notification", bucket, has)

    def _event_source_mappings(self) -> None:
        lam = self.c("lambda")
        name = f"{self.names.queue}->{self.names.builder_function}"
        queue_arn = self.wiring.queue_arn(self.names.queue)
        try:
            found = lam.list_event_source_mappings(EventSourceArn=queue_arn).get("EventSourceMappings", [])
        except ClientError as exc:
            if not _gone(exc):
                raise
            found = []
        for esm in found:
            try:
                lam.delete_event_source_mapping(UUID=esm["UUID"])
            except ClientError as exc:
                if not _gone(exc) and _code(exc) != "ResourceInUseException":
                    raise
        _wait(lambda: not lam.list_event_source_mappings(EventSourceArn=queue_arn).get("EventSourceMappings"),
              what="the event source mapping to be deleted")
        self._record("event-source-mapping", name, bool(found))

    # -- compute ---------------------------------------------------------------------------
    def _state_machine(self) -> None:
        sfn, arn = self.c("stepfunctions"), self.wiring.state_machine_arn()
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError as exc:
            if not _gone(exc):
                raise
            return self._record("state-machine", self.names.state_machine, False)
        sfn.delete_state_machine(stateMachineArn=arn)
        self._record("state-machine", self.names.state_machine, True)

    def _delete_glue_job(self) -> None:
        glue = self.c("glue")
        glue.get_job(JobName=self.names.glue_job)  # DeleteJob succeeds on a missing job: ask first
        glue.delete_job(JobName=self.names.glue_job)

    # -- data ------------------------------------------------------------------------------
    def _table(self) -> None:
        ddb, name = self.c("dynamodb"), self.names.table

        def delete():
            ddb.delete_table(TableName=name)

            def gone() -> bool:
                try:
                    ddb.describe_table(TableName=name)
                    return False
                except ClientError as exc:
                    if _gone(exc):
                        return True
                    raise

            _wait(gone, timeout=300, what=f"table {name} to be deleted")

        self._try("dynamodb-table", name, delete)

    def _queue(self, name: str) -> None:
        sqs = self.c("sqs")
        self._try("sqs-queue", name, lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"]))

    def _topic(self) -> None:
        sns, arn = self.c("sns"), self.wiring.topic_arn()

        def delete():
            sns.get_topic_attributes(TopicArn=arn)  # DeleteTopic succeeds on a missing topic: ask first
            sns.delete_topic(TopicArn=arn)

        self._try("sns-topic", self.names.topic, delete)

    def _bucket(self, name: str) -> None:
        s3 = self.c("s3")

        def delete() -> str:
            s3.head_bucket(Bucket=name)
            removed = _empty_bucket(s3, name)
            s3.delete_bucket(Bucket=name)
            return f"{removed} object(s)"

        self._try("s3-bucket", name, delete)

    # -- IAM -------------------------------------------------------------------------------
    def _role(self, name: str) -> None:
        iam = self.c("iam")

        def delete():
            iam.get_role(RoleName=name)
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for policy in page.get("PolicyNames", []):
                    iam.delete_role_policy(RoleName=name, PolicyName=policy)
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                for policy in page.get("AttachedPolicies", []):
                    iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=name)

        self._try("iam-role", name, delete)


def _empty_bucket(s3, bucket: str) -> int:
    """Delete every object, version and delete marker, and abort unfinished uploads."""
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                if v.get("VersionId") not in (None, "null")]
        keys += [{"Key": v["Key"]} for v in page.get("Versions", []) if v.get("VersionId") in (None, "null")]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i: i + 1000], "Quiet": True})
        removed += len(keys)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i: i + 1000], "Quiet": True})
        removed += len(keys)
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return removed


def _wait(ready: Callable[[], bool], timeout: float = 60.0, what: str = "resource") -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.5)
