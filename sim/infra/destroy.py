"""Remove everything `sim deploy` creates, in dependency order, tolerating what is already gone.

Triggers go first (alarms, the schedule, the bucket notification, the event source mapping) so
nothing starts work while the rest goes; then compute (functions, the state machine, the Glue job),
then data (table, queues, topic, buckets with every object version), then the roles, then the
functions' log groups. Both converters' resources are removed whatever the target runs now, so a
target switched between deploys leaves nothing behind. A second run reports everything `absent`.
"""

from __future__ import annotations

from typing import Callable

from botocore.exceptions import ClientError

from sim.core.polling import wait_until
from sim.engine.target import Target
from sim.infra import aws
from sim.infra import description
from sim.infra.deploy import Change, ResourceSteps
from sim.infra.spec import Names, Settings, Wiring


class Destroyer(ResourceSteps):
    def __init__(self, target: Target, names: Names | None = None,
                 progress: Callable[[Change], None] | None = None, pipeline: description.Description | None = None):
        super().__init__(target, progress)
        pipeline = pipeline or description.load()
        self.names = names or Names.of(pipeline)
        account = target.client("sts").get_caller_identity()["Account"]
        # Only ARNs and table names are taken from the wiring; they do not depend on the target's settings.
        self.wiring = Wiring(account, target.region, Settings(target=target.name), self.names, pipeline)

    def _record(self, kind: str, name: str, deleted: bool, detail: str = "") -> None:
        self._emit(Change(kind, name, "deleted" if deleted else "absent", detail))

    def _try(self, kind: str, name: str, call: Callable[[], object]) -> None:
        """Run a deletion; a resource already gone is recorded `absent`. A string result is the detail."""
        result = aws.live(lambda: call() or True)
        if result is None:
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
            self._try("lambda-function", fn, lambda fn=fn: self.client("lambda").delete_function(FunctionName=fn))
        self._state_machine()
        self._try("glue-job", n.glue_job, self._delete_glue_job)
        self._try("glue-security-configuration", n.glue_security_configuration,
                  lambda: self.client("glue").delete_security_configuration(Name=n.glue_security_configuration))
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
            self._try("log-group", group, lambda g=group: self.client("logs").delete_log_group(logGroupName=g))
        return self.changes

    # -- triggers --------------------------------------------------------------------------
    def _alarms(self) -> None:
        cw = self.client("cloudwatch")
        for name in (a["AlarmName"] for a in self.wiring.alarms()):
            live = cw.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
            if live:
                cw.delete_alarms(AlarmNames=[name])
            self._record("cloudwatch-alarm", name, bool(live))

    def _flush_schedule(self) -> None:
        events, rule = self.client("events"), self.names.flush_rule

        def delete():
            events.describe_rule(Name=rule)  # DeleteRule succeeds on a missing rule on some engines: ask first
            ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule).get("Targets", [])]
            if ids:
                events.remove_targets(Rule=rule, Ids=ids)
            events.delete_rule(Name=rule)

        self._try("schedule-rule", rule, delete)

    def _notification(self) -> None:
        s3, bucket = self.client("s3"), self.names.landing_bucket
        live = aws.live(lambda: s3.get_bucket_notification_configuration(Bucket=bucket))
        if live is None:
            return self._record("s3-notification", bucket, False)
        has = any(live.get(k) for k in ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"))
        if has:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        self._record("s3-notification", bucket, has)

    def _event_source_mappings(self) -> None:
        lam = self.client("lambda")
        name = f"{self.names.queue}->{self.names.builder_function}"
        queue_arn = self.wiring.queue_arn(self.names.queue)
        found = aws.live(lambda: lam.list_event_source_mappings(EventSourceArn=queue_arn).get("EventSourceMappings", [])) or []
        for esm in found:
            try:
                aws.live(lambda uuid=esm["UUID"]: lam.delete_event_source_mapping(UUID=uuid))
            except ClientError as exc:
                if aws.error_code(exc) != "ResourceInUseException":
                    raise
        wait_until(lambda: not lam.list_event_source_mappings(EventSourceArn=queue_arn).get("EventSourceMappings"),
                   what="the event source mapping to be deleted")
        self._record("event-source-mapping", name, bool(found))

    # -- compute ---------------------------------------------------------------------------
    def _state_machine(self) -> None:
        sfn, arn = self.client("stepfunctions"), self.wiring.state_machine_arn()
        if aws.live(lambda: sfn.describe_state_machine(stateMachineArn=arn)) is None:
            return self._record("state-machine", self.names.state_machine, False)
        sfn.delete_state_machine(stateMachineArn=arn)
        self._record("state-machine", self.names.state_machine, True)

    def _delete_glue_job(self) -> None:
        glue = self.client("glue")
        glue.get_job(JobName=self.names.glue_job)  # DeleteJob succeeds on a missing job: ask first
        glue.delete_job(JobName=self.names.glue_job)

    # -- data ------------------------------------------------------------------------------
    def _table(self) -> None:
        ddb = self.client("dynamodb")
        for name in self.wiring.table_names():
            def delete(name=name):
                ddb.delete_table(TableName=name)
                wait_until(lambda: aws.live(lambda: ddb.describe_table(TableName=name)) is None, timeout=300,
                           what=f"table {name} to be deleted")

            self._try("dynamodb-table", name, delete)

    def _queue(self, name: str) -> None:
        sqs = self.client("sqs")
        self._try("sqs-queue", name, lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"]))

    def _topic(self) -> None:
        sns, arn = self.client("sns"), self.wiring.topic_arn()

        def delete():
            sns.get_topic_attributes(TopicArn=arn)  # DeleteTopic succeeds on a missing topic: ask first
            sns.delete_topic(TopicArn=arn)

        self._try("sns-topic", self.names.topic, delete)

    def _bucket(self, name: str) -> None:
        s3 = self.client("s3")

        def delete() -> str:
            s3.head_bucket(Bucket=name)
            removed = aws.empty_bucket(s3, name, versions=True)
            s3.delete_bucket(Bucket=name)
            return f"{removed} object(s)"

        self._try("s3-bucket", name, delete)

    # -- IAM -------------------------------------------------------------------------------
    def _role(self, name: str) -> None:
        iam = self.client("iam")

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

