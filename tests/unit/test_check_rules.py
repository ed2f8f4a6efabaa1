"""The rules of `sim check` on hand-built snapshots: a snapshot made from the desired wiring passes,
and each way of breaking it fails exactly the check that is about it, with a fix."""

import copy
import json

import pytest
from botocore.exceptions import ClientError

from sim.check import rules
from sim.check.live import classify
from sim.check.rules import FAIL, NA, PASS, WARN, Gap, RoleState, Snapshot, statement_problems
from sim.infra import iam
from sim.infra.spec import Settings, Wiring

ACCOUNT = "000000000000"
PAB = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
SSE = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def wiring(target="ministack", **kw) -> Wiring:
    return Wiring(ACCOUNT, "us-east-1", Settings(target=target, **kw))


def trust(service: str) -> dict:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def good(target="ministack", **kw) -> Snapshot:
    """What a correct deployment of the desired wiring looks like when read back."""
    w = wiring(target, **kw)
    n = w.names
    profile = w.settings.profile
    snap = Snapshot(wiring=w, target=target, emulator=profile.emulator)
    for bucket in (n.landing_bucket, n.output_bucket, n.artifacts_bucket):
        snap.buckets[bucket] = {"exists": True, "encryption": copy.deepcopy(SSE), "public_access_block": dict(PAB)}
    snap.notification = w.bucket_notification()
    snap.queues = {n.queue: {**w.queue_attributes(), "SqsManagedSseEnabled": "true"},
                   n.dlq: {**w.dlq_attributes(), "VisibilityTimeout": "30", "SqsManagedSseEnabled": "true"}}
    snap.table = {"TableName": n.table, "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS"}}
    snap.functions[n.builder_function] = {**w.builder_config(), "TracingConfig": {"Mode": "PassThrough"},
                                          "CodeSha256": "abc"}
    snap.event_source_mappings = [{**w.event_source_mapping(), "UUID": "u-1", "State": "Enabled",
                                   "FunctionArn": w.function_arn(n.builder_function)}]
    if w.settings.converter_mode == "glue":
        snap.glue_job = {**w.glue_job(), "SecurityConfiguration": f"{n.prefix}-glue-security"}
        snap.glue_security = {"Name": f"{n.prefix}-glue-security",
                              "EncryptionConfiguration": {"S3Encryption": [{"S3EncryptionMode": "SSE-S3"}]}}
        definition = w.state_machine_definition()
    else:
        snap.functions[n.converter_function] = {**w.converter_config(), "TracingConfig": {"Mode": "PassThrough"}}
        definition = w.state_machine_definition()
    snap.state_machine = {"roleArn": w.role_arn(n.sfn_role), "definition": definition,
                          "tracingConfiguration": {"enabled": False}}
    snap.topic = {"TopicArn": w.topic_arn()}
    snap.subscriptions = []
    snap.alarms = copy.deepcopy(w.alarms())
    snap.roles = {name: RoleState(role={"RoleName": name, "AssumeRolePolicyDocument": trust(service)},
                                  inline={"pipeline": copy.deepcopy(policy)}, attached={})
                  for name, (service, policy) in iam.roles(w).items()}
    snap.roles[n.uploader_role] = RoleState(
        role={"RoleName": n.uploader_role, "AssumeRolePolicyDocument": iam.uploader_trust(w)},
        inline={"pipeline": iam.uploader_policy(w)}, attached={})
    snap.flush_rule = w.flush_rule()
    snap.flush_targets = [w.flush_target()]
    snap.builder_resource_policy = {"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "lambda:InvokeFunction",
        "Resource": w.function_arn(n.builder_function)}]}
    snap.code = {f"function {n.builder_function}": {"live": "abc", "want": "abc"}}
    return snap


def results(snap: Snapshot) -> dict:
    return {r.id: r for r in rules.evaluate(snap)}


def failing(snap: Snapshot) -> list[str]:
    return [r.id for r in rules.evaluate(snap) if r.status == FAIL]


def only_failure(snap: Snapshot, check_id: str):
    """The one failing check, which must be `check_id`, and it must say how to fix it."""
    assert failing(snap) == [check_id]
    result = results(snap)[check_id]
    assert result.fix
    return result


# -- the desired wiring passes -------------------------------------------------------------------
@pytest.mark.parametrize("target", ["ministack", "localstack"])
def test_the_desired_wiring_fails_no_check(target):
    snap = good(target)
    by_id = results(snap)
    assert failing(snap) == []
    assert {r.status for r in by_id.values()} <= {PASS, WARN, NA}
    for check_id in ("dlq-redrive", "dlq-retention", "visibility-timeout", "event-source-mapping", "alarms-expected",
                     "alarm-actions", "alerts-topic", "log-level", "s3-encryption", "s3-public-access",
                     "sqs-encryption", "dynamodb-encryption", "iam-own-roles", "iam-least-privilege",
                     "iam-grants-complete", "workflow", "flush-schedule", "landing-notification"):
        assert by_id[check_id].status == PASS, (check_id, by_id[check_id].detail)
    assert by_id["tracing"].status == WARN  # X-Ray is off and advisory
    assert by_id["vpc"].status == NA and "no VPCs" in by_id["vpc"].detail
    assert by_id["sns-encryption"].status == NA and "aws/sns" in by_id["sns-encryption"].detail
    summary = rules.summary(rules.evaluate(snap), target=target)
    assert summary["pass"] is True and summary["counts"][FAIL] == 0
    assert len(summary["checks"]) == len(rules.CHECKS)
    assert all(set(c) >= {"id", "title", "status", "detail", "fix", "source"} for c in summary["checks"])


def test_every_check_names_its_source():
    assert all(source for _, _, source, _ in rules.CHECKS)
    assert len({check_id for check_id, _, _, _ in rules.CHECKS}) == len(rules.CHECKS)


# -- DLQ and queue ---------------------------------------------------------------------------------
def test_a_queue_without_redrive_fails_dlq_redrive_only():
    snap = good()
    del snap.queues[snap.names.queue]["RedrivePolicy"]
    result = only_failure(snap, "dlq-redrive")
    assert "no redrive policy" in result.detail and "RedrivePolicy" in result.fix
    assert results(snap)["dlq-max-receive-count"].status == NA


def test_a_function_dlq_does_not_replace_the_redrive_policy():
    snap = good()
    del snap.queues[snap.names.queue]["RedrivePolicy"]
    snap.functions[snap.names.builder_function]["DeadLetterConfig"] = {"TargetArn": "arn:aws:sqs:us-east-1:0:x"}
    result = only_failure(snap, "dlq-redrive")
    assert "asynchronous" in result.detail


def test_redrive_to_another_queue_fails():
    snap = good()
    snap.queues[snap.names.queue]["RedrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:0:elsewhere", "maxReceiveCount": 3})
    assert "elsewhere" in only_failure(snap, "dlq-redrive").detail


@pytest.mark.parametrize("count, status", [(1, FAIL), (3, WARN), (5, PASS), (1000, FAIL)])
def test_max_receive_count(count, status):
    snap = good()
    q = snap.queues[snap.names.queue]
    q["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": snap.wiring.queue_arn(snap.names.dlq),
                                     "maxReceiveCount": count})
    result = results(snap)["dlq-max-receive-count"]
    assert result.status == status, result.detail
    if count == 1000:  # 1000 x 360 s outlasts the 4-day retention: the message would expire silently
        assert "expires before it reaches the DLQ" in result.detail


def test_dlq_retention_shorter_than_14_days_or_than_the_source_fails():
    snap = good()
    snap.queues[snap.names.dlq]["MessageRetentionPeriod"] = str(4 * 86400)
    result = only_failure(snap, "dlq-retention")
    assert "not 14" in result.detail and "no longer than" in result.detail


def test_visibility_timeout_below_six_times_the_builder_timeout_plus_window_fails():
    snap = good()
    snap.queues[snap.names.queue]["VisibilityTimeout"] = "300"
    assert "360 s" in only_failure(snap, "visibility-timeout").detail
    snap = good()
    snap.event_source_mappings[0]["MaximumBatchingWindowInSeconds"] = 30
    assert "390 s" in only_failure(snap, "visibility-timeout").detail


def test_event_source_mapping_needs_partial_batch_responses_and_must_be_enabled():
    snap = good()
    snap.event_source_mappings[0]["FunctionResponseTypes"] = []
    assert "ReportBatchItemFailures" in only_failure(snap, "event-source-mapping").detail
    snap = good()
    snap.event_source_mappings[0]["State"] = "Disabled"
    assert "Disabled" in only_failure(snap, "event-source-mapping").detail
    snap = good()
    snap.event_source_mappings = []
    assert "nothing drains" in only_failure(snap, "event-source-mapping").detail


def test_landing_notification_and_queue_policy():
    snap = good()
    snap.notification = {}
    assert "never be tracked" in only_failure(snap, "landing-notification").detail
    snap = good()
    policy = json.loads(snap.queues[snap.names.queue]["Policy"])
    policy["Statement"].append({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                                "Resource": "*"})
    snap.queues[snap.names.queue]["Policy"] = json.dumps(policy)
    assert "anyone" in only_failure(snap, "landing-notification").detail
    snap = good()
    del snap.queues[snap.names.queue]["Policy"]
    assert "s3.amazonaws.com" in only_failure(snap, "landing-notification").detail


def test_flush_schedule_must_be_enabled_target_the_builder_and_be_allowed_to_invoke():
    snap = good()
    snap.flush_rule["State"] = "DISABLED"
    only_failure(snap, "flush-schedule")
    snap = good()
    snap.flush_targets = [{"Id": "x", "Arn": "arn:aws:lambda:us-east-1:0:function:other"}]
    only_failure(snap, "flush-schedule")
    snap = good()
    snap.builder_resource_policy = None
    assert "events.amazonaws.com" in only_failure(snap, "flush-schedule").detail


# -- alarms and alerts -------------------------------------------------------------------------------
def test_an_alarm_without_actions_fails_alarm_actions_only():
    snap = good()
    snap.alarms[0]["AlarmActions"] = []
    result = only_failure(snap, "alarm-actions")
    assert snap.alarms[0]["AlarmName"] in result.detail and "tells nobody" in result.detail


def test_an_alarm_sending_elsewhere_or_disabled_fails():
    snap = good()
    snap.alarms[1]["AlarmActions"] = ["arn:aws:sns:us-east-1:0:someone-else"]
    assert "not the alerts topic" in only_failure(snap, "alarm-actions").detail
    snap = good()
    snap.alarms[1]["ActionsEnabled"] = False
    assert "disabled" in only_failure(snap, "alarm-actions").detail


def test_a_missing_or_misdirected_alarm_fails_alarms_expected():
    snap = good()
    gone = snap.alarms.pop(0)["AlarmName"]
    assert gone in only_failure(snap, "alarms-expected").detail
    snap = good()
    snap.alarms[0]["Dimensions"] = [{"Name": "QueueName", "Value": "some-other-queue"}]
    assert "Dimensions" in only_failure(snap, "alarms-expected").detail
    snap = good()
    snap.alarms = []
    assert failing(snap) == ["alarms-expected"]
    assert results(snap)["alarm-actions"].status == NA


def test_alerts_topic_subscribers_locally_and_on_aws():
    assert "nobody subscribes" in results(good())["alerts-topic"].detail
    snap = good("aws")
    assert "no confirmed subscriber" in only_failure(snap, "alerts-topic").detail
    snap.subscriptions = [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "a@b"}]
    assert "pending" in only_failure(snap, "alerts-topic").detail
    snap.subscriptions = [{"SubscriptionArn": snap.wiring.topic_arn() + ":1", "Protocol": "email", "Endpoint": "a@b"}]
    assert results(snap)["alerts-topic"].status == PASS


def test_sns_encryption_with_the_aws_managed_key_silences_alarms():
    snap = good()
    snap.topic["KmsMasterKeyId"] = "alias/aws/sns"
    assert "cannot publish" in only_failure(snap, "sns-encryption").detail
    snap.topic["KmsMasterKeyId"] = "arn:aws:kms:us-east-1:0:key/abc"
    assert results(snap)["sns-encryption"].status == PASS


def test_workflow_without_a_failure_alert_fails():
    snap = good()
    definition = json.loads(snap.state_machine["definition"])
    definition["States"].pop("NotifyFailure")
    snap.state_machine["definition"] = json.dumps(definition)
    assert snap.names.topic in only_failure(snap, "workflow").detail


# -- LOG_LEVEL -----------------------------------------------------------------------------------------
def test_log_level_missing_invalid_or_missing_on_the_glue_job_fails():
    snap = good()
    del snap.functions[snap.names.builder_function]["Environment"]["Variables"]["LOG_LEVEL"]
    assert "no LOG_LEVEL" in only_failure(snap, "log-level").detail
    snap = good()
    snap.functions[snap.names.builder_function]["Environment"]["Variables"]["LOG_LEVEL"] = "LOUD"
    assert "falls back to INFO" in only_failure(snap, "log-level").detail
    snap = good()
    del snap.glue_job["DefaultArguments"]["--LOG_LEVEL"]
    assert "--LOG_LEVEL" in only_failure(snap, "log-level").detail


def test_debug_in_production_is_a_warning():
    snap = good("aws", log_level="DEBUG")
    result = results(snap)["log-level"]
    assert result.status == WARN and "production" in result.detail
    assert results(good("aws"))["log-level"].status == PASS  # INFO is the production default


# -- encryption at rest -----------------------------------------------------------------------------------
def test_bucket_without_default_encryption_or_public_access_block_fails():
    snap = good()
    snap.buckets[snap.names.output_bucket]["encryption"] = None
    assert snap.names.output_bucket in only_failure(snap, "s3-encryption").detail
    snap = good()
    snap.buckets[snap.names.landing_bucket]["public_access_block"] = {**PAB, "RestrictPublicBuckets": False}
    assert "RestrictPublicBuckets" in only_failure(snap, "s3-public-access").detail


def test_account_level_public_access_block_covers_a_bucket_without_one():
    snap = good("aws")
    snap.subscriptions = [{"SubscriptionArn": "arn:aws:sns:x", "Protocol": "email", "Endpoint": "a"}]
    snap.buckets[snap.names.landing_bucket]["public_access_block"] = None
    assert "s3-public-access" in failing(snap)
    snap.account_public_access_block = dict(PAB)
    assert results(snap)["s3-public-access"].status == PASS


def test_unencrypted_queue_fails_and_kms_counts():
    snap = good()
    snap.queues[snap.names.dlq]["SqsManagedSseEnabled"] = "false"
    assert snap.names.dlq in only_failure(snap, "sqs-encryption").detail
    snap.queues[snap.names.dlq]["KmsMasterKeyId"] = "alias/custom"
    assert results(snap)["sqs-encryption"].status == PASS


def test_table_without_sse_description_is_encrypted_with_an_aws_owned_key():
    snap = good()
    del snap.table["SSEDescription"]
    result = results(snap)["dynamodb-encryption"]
    assert result.status == PASS and "AWS-owned key" in result.detail
    snap.table["SSEDescription"] = {"Status": "INACCESSIBLE_ENCRYPTION_CREDENTIALS"}
    only_failure(snap, "dynamodb-encryption")


def test_glue_security_configuration():
    snap = good()
    snap.glue_job["SecurityConfiguration"] = ""
    assert "names no security configuration" in only_failure(snap, "glue-security-configuration").detail
    snap = good()
    snap.glue_security = Gap("missing", "security configuration x")
    assert "does not exist" in only_failure(snap, "glue-security-configuration").detail
    snap = good()
    snap.glue_security["EncryptionConfiguration"]["S3Encryption"] = [{"S3EncryptionMode": "DISABLED"}]
    assert "does not encrypt S3" in only_failure(snap, "glue-security-configuration").detail
    assert results(good("localstack"))["glue-security-configuration"].status == NA


def test_secret_looking_environment_variable_without_a_customer_key_fails():
    snap = good()
    snap.functions[snap.names.builder_function]["Environment"]["Variables"]["DB_PASSWORD"] = "x"
    assert "DB_PASSWORD" in only_failure(snap, "lambda-env-encryption").detail


# -- IAM ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("statement, needle", [
    ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "wildcard action"),
    ({"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*"]}, "wildcard action 's3:*'"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "s3:GetObject"),
    ({"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}, "cloudwatch:namespace"),
    ({"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
      "Condition": {"StringLike": {"cloudwatch:namespace": "*"}}}, "cloudwatch:namespace"),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}, "NotAction"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"}, "every resource"),
    ({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:q"}, "every resource"),
])
def test_broad_statements_are_named(statement, needle):
    problems = statement_problems(statement)
    assert problems and any(needle in p for p in problems), problems


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/manifests/*"},
    {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
     "Condition": {"StringEquals": {"cloudwatch:namespace": "sim-ingest/pipeline"}}},
    {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
    {"Effect": "Deny", "Action": "*", "Resource": "*"},
])
def test_scoped_statements_pass(statement):
    assert statement_problems(statement) == []


def test_a_star_action_added_to_a_role_fails_least_privilege_only():
    snap = good()
    name = snap.names.builder_role
    snap.roles[name].inline["pipeline"]["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    result = only_failure(snap, "iam-least-privilege")
    assert name in result.detail and "wildcard action" in result.detail and "beyond the wiring" in result.detail


def test_an_extra_scoped_grant_or_a_managed_policy_is_beyond_the_wiring():
    snap = good()
    snap.roles[snap.names.glue_role].inline["extra"] = {"Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::elsewhere/*"}]}
    assert "arn:aws:s3:::elsewhere/*" in only_failure(snap, "iam-least-privilege").detail
    snap = good()
    snap.roles[snap.names.sfn_role].attached = {"arn:aws:iam::aws:policy/Basic": {"Statement": [
        {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}]}}
    assert "managed policy" in only_failure(snap, "iam-least-privilege").detail


def test_the_uploader_role_is_trusted_by_the_account_and_may_only_land_files():
    snap = good()
    name = snap.names.uploader_role
    snap.roles[name].inline["pipeline"]["Statement"].append(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{snap.names.output_bucket}/*"})
    assert name in only_failure(snap, "iam-least-privilege").detail
    snap = good()
    snap.roles[name].role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {"AWS": "*"}
    assert "AWS:*" in only_failure(snap, "iam-own-roles").detail
    snap = good()
    snap.roles[name].role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {"AWS": ACCOUNT}
    assert failing(snap) == []  # IAM may show the account as its id instead of its root ARN


def test_a_removed_grant_fails_grants_complete_only():
    snap = good()
    statements = snap.roles[snap.names.builder_role].inline["pipeline"]["Statement"]
    statements[:] = [s for s in statements if s.get("Sid") != "StartWorkflows"]
    assert "states:startexecution" in only_failure(snap, "iam-grants-complete").detail


def test_a_shared_role_or_a_foreign_trust_fails_own_roles():
    snap = good()
    snap.functions[snap.names.builder_function]["Role"] = snap.wiring.role_arn(snap.names.glue_role)
    result = only_failure(snap, "iam-own-roles")
    assert "share role" in result.detail and "not its own role" in result.detail
    snap = good()
    doc = snap.roles[snap.names.sfn_role].role["AssumeRolePolicyDocument"]
    doc["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                             "Action": "sts:AssumeRole"})
    assert "999999999999" in only_failure(snap, "iam-own-roles").detail


# -- tracing, VPC, code -------------------------------------------------------------------------------------
def test_tracing_is_advisory():
    snap = good()
    assert results(snap)["tracing"].status == WARN and "tracing" not in failing(snap)
    snap.functions[snap.names.builder_function]["TracingConfig"]["Mode"] = "Active"
    snap.state_machine["tracingConfiguration"] = {"enabled": True}
    assert results(snap)["tracing"].status == PASS


def _aws_in_vpc(nat=False, endpoints=()):
    snap = good("aws")
    snap.subscriptions = [{"SubscriptionArn": "arn:aws:sns:x", "Protocol": "email", "Endpoint": "a"}]
    snap.functions[snap.names.builder_function]["VpcConfig"] = {"SubnetIds": ["s-1"], "VpcId": "vpc-1"}
    snap.vpcs["vpc-1"] = {"nat_gateways": [{"State": "available"}] if nat else [],
                          "endpoints": [{"ServiceName": f"com.amazonaws.us-east-1.{s}", "State": "available"}
                                        for s in endpoints]}
    return snap


def test_vpc_is_a_design_choice_and_inside_one_the_builder_needs_a_way_out():
    assert results(good("aws"))["vpc"].status == NA
    snap = _aws_in_vpc()
    detail = only_failure(snap, "vpc").detail
    assert all(s in detail for s in ("s3", "dynamodb", "states", "monitoring"))
    assert results(_aws_in_vpc(nat=True))["vpc"].status == PASS
    assert results(_aws_in_vpc(endpoints=("s3", "dynamodb", "states", "monitoring")))["vpc"].status == PASS


def test_stale_deployed_code_is_a_warning():
    snap = good()
    snap.code[f"function {snap.names.builder_function}"]["live"] = "old"
    result = results(snap)["deployed-code"]
    assert result.status == WARN and "sim deploy" in result.fix


# -- what the engine could not give --------------------------------------------------------------------------
def test_an_api_the_engine_lacks_is_not_applicable_and_a_missing_resource_fails():
    snap = good()
    snap.topic = Gap("unsupported", "topic t", "InvalidAction: Unknown action", api="GetTopicAttributes")
    by_id = results(snap)
    assert by_id["alerts-topic"].status == NA and "does not answer GetTopicAttributes" in by_id["alerts-topic"].detail
    assert by_id["sns-encryption"].status == NA
    snap = good()
    snap.topic = Gap("missing", f"topic {snap.names.topic}")
    assert set(failing(snap)) == {"alerts-topic", "sns-encryption"}  # both read the topic
    assert "does not exist" in results(snap)["alerts-topic"].detail and "sim deploy" in results(snap)["alerts-topic"].fix
    snap = good()
    snap.alarms = Gap("denied", "alarms", "AccessDenied: no", api="DescribeAlarms")
    assert results(snap)["alarm-actions"].status == FAIL and "SecurityAudit" in results(snap)["alarm-actions"].fix


def test_a_partly_unanswered_check_still_passes_on_what_it_read():
    snap = good()
    snap.buckets[snap.names.artifacts_bucket]["public_access_block"] = Gap("unsupported", "pab", api="GetPublicAccessBlock")
    result = results(snap)["s3-public-access"]
    assert result.status == PASS and "not checked" in result.detail


def test_a_malformed_snapshot_never_raises():
    snap = good()
    snap.functions[snap.names.builder_function] = "not a configuration"
    snap.queues[snap.names.queue]["VisibilityTimeout"] = "soon"
    out = rules.evaluate(snap)
    assert len(out) == len(rules.CHECKS)
    assert any("the check itself broke" in r.detail for r in out)


def _client_error(code, message="", status=400):
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Op")


@pytest.mark.parametrize("code, message, status, kind", [
    ("InvalidAction", "Unknown action: GetDataProtectionPolicy", 400, "unsupported"),
    ("InvalidAction", "The action ListDeadLetterSourceQueues is not valid for this endpoint.", 400, "unsupported"),
    ("InternalError", "", 501, "unsupported"),
    ("400", "", 400, "unsupported"),
    ("ResourceNotFoundException", "Function not found", 404, "missing"),
    ("AWS.SimpleQueueService.NonExistentQueue", "", 400, "missing"),
    ("EntityNotFoundException", "Security configuration x not found", 400, "missing"),
    ("AccessDenied", "no", 403, "denied"),
    ("ThrottlingException", "slow down", 400, "error"),
])
def test_errors_are_classified(code, message, status, kind):
    gap = classify(_client_error(code, message, status), "Op", "thing")
    assert gap.kind == kind and gap.what == "thing" and gap.api == "Op"
