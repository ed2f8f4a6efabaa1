"""Read the deployed resources into a `rules.Snapshot`: every read is one boto3 call through the
project's Target, and every failure becomes a `Gap` saying what could not be read and why, so the
rules decide (a missing resource fails, an API the engine lacks is not applicable) and nothing here
raises except when the engine cannot be reached at all.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from sim.check import rules
from sim.check.rules import Gap, RoleState, Snapshot
from sim.infra import package
from sim.infra.spec import Wiring

_MISSING = {"NoSuchBucket", "NotFound", "404", "NoSuchKey", "ResourceNotFoundException", "NoSuchEntity",
            "EntityNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue",
            "QueueDoesNotExist", "StateMachineDoesNotExist", "NotFoundException", "InvalidVpcID.NotFound",
            "InvalidSubnetID.NotFound"}
_UNSUPPORTED = {"InvalidAction", "NotImplemented", "NotImplementedException", "UnknownOperationException",
                "UnknownOperation", "UnsupportedOperation", "UnsupportedOperationException", "InvalidRequestAction"}
_UNSUPPORTED_WORDS = ("unknown action", "not implemented", "not valid for this endpoint", "not supported",
                      "unknown operation")
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
           "AuthorizationErrorException", "UnauthorizedAccess"}


def classify(exc: ClientError, api: str, what: str) -> Gap:
    """Tell a missing resource from an engine that lacks the API, a denied read and anything else."""
    err = exc.response.get("Error", {}) or {}
    code, message = str(err.get("Code", "")), str(err.get("Message", "") or "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _UNSUPPORTED or status == 501 or any(w in message.lower() for w in _UNSUPPORTED_WORDS):
        return Gap("unsupported", what, api=api, message=f"{code}: {message}".strip(": "))
    if code.isdigit() and not message and code != "404":
        return Gap("unsupported", what, api=api, message=f"HTTP {code} with no error body")
    if code in _MISSING:
        return Gap("missing", what, api=api, message=message)
    if code in _DENIED:
        return Gap("denied", what, api=api, message=f"{code}: {message}")
    return Gap("error", what, api=api, message=f"{code}: {message}")


def _clean(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


class _Reader:
    def __init__(self, target):
        self.target = target
        self._clients: dict = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.target.client(service)
        return self._clients[service]

    def get(self, api: str, what: str, call: Callable[[], Any], absent: tuple[str, ...] = ()) -> Any:
        """call(), or None when its error code says 'not configured' (`absent`), or a Gap naming `what`
        (the resource) and `api` (the call that could not read it)."""
        try:
            return call()
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in absent:
                return None
            return classify(exc, api, what)
        except BotoCoreError as exc:
            return Gap("error", what, api=api, message=str(exc))


def _ok(x) -> bool:
    return x is not None and not isinstance(x, Gap)


def read(project) -> Snapshot:
    """Everything `sim check` judges, read from the project's engine (or account)."""
    target = project.target
    r = _Reader(target)
    account = r.client("sts").get_caller_identity()["Account"]  # unreachable engine: the command reports it
    wiring = Wiring(account, target.region, project.settings(), project.names)
    n = wiring.names
    snap = Snapshot(wiring=wiring, target=target.name, emulator=target.profile.emulator)

    _read_storage(r, snap, account)
    _read_compute(r, snap)
    _read_alerts(r, snap)
    _read_roles(r, snap)
    _read_network(r, snap)
    _read_code(r, snap)
    snap.flush_rule = r.get("DescribeRule", f"rule {n.flush_rule}", lambda: _clean(r.client("events").describe_rule(Name=n.flush_rule)))
    if _ok(snap.flush_rule):
        snap.flush_targets = r.get("ListTargetsByRule", f"targets of rule {n.flush_rule}",
                                   lambda: r.client("events").list_targets_by_rule(Rule=n.flush_rule).get("Targets", []))
    return snap


def _read_storage(r: _Reader, snap: Snapshot, account: str) -> None:
    n, s3 = snap.names, r.client("s3")
    for bucket in (n.landing_bucket, n.output_bucket, n.artifacts_bucket):
        exists = r.get("HeadBucket", f"bucket {bucket}", lambda: s3.head_bucket(Bucket=bucket) and True)
        info = {"exists": exists}
        if exists is True:
            info["encryption"] = r.get(
                "GetBucketEncryption", f"default encryption of {bucket}",
                lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
                absent=("ServerSideEncryptionConfigurationNotFoundError",))
            info["public_access_block"] = r.get(
                "GetPublicAccessBlock", f"public access block of {bucket}",
                lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
                absent=("NoSuchPublicAccessBlockConfiguration",))
        snap.buckets[bucket] = info
    if not snap.emulator:
        snap.account_public_access_block = r.get(
            "GetPublicAccessBlock", "the account's public access block",
            lambda: r.client("s3control").get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"],
            absent=("NoSuchPublicAccessBlockConfiguration",))
    if snap.buckets[n.landing_bucket]["exists"] is True:
        snap.notification = r.get("GetBucketNotificationConfiguration", f"notifications of {n.landing_bucket}",
                                  lambda: _clean(s3.get_bucket_notification_configuration(Bucket=n.landing_bucket)))
    else:
        snap.notification = snap.buckets[n.landing_bucket]["exists"]

    sqs = r.client("sqs")
    for queue in (n.queue, n.dlq):
        url = r.get("GetQueueUrl", f"queue {queue}", lambda: sqs.get_queue_url(QueueName=queue)["QueueUrl"])
        snap.queues[queue] = url if isinstance(url, Gap) else r.get(
            "GetQueueAttributes", f"attributes of {queue}",
            lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {}))
    snap.table = r.get("DescribeTable", f"table {n.table}", lambda: r.client("dynamodb").describe_table(TableName=n.table)["Table"])


def _read_compute(r: _Reader, snap: Snapshot) -> None:
    n, w, lam = snap.names, snap.wiring, r.client("lambda")
    for name in snap.expected_functions():
        snap.functions[name] = r.get("GetFunctionConfiguration", f"function {name}",
                                     lambda: _clean(lam.get_function_configuration(FunctionName=name)))
    snap.event_source_mappings = r.get(
        "ListEventSourceMappings", f"event source mappings of {n.queue}",
        lambda: [m for page in lam.get_paginator("list_event_source_mappings").paginate(
            EventSourceArn=w.queue_arn(n.queue)) for m in page.get("EventSourceMappings", [])])
    if _ok(snap.functions.get(n.builder_function)):
        policy = r.get("GetPolicy", f"resource policy of {n.builder_function}", lambda: lam.get_policy(FunctionName=n.builder_function)["Policy"],
                       absent=("ResourceNotFoundException",))
        snap.builder_resource_policy = json.loads(policy) if isinstance(policy, str) else policy
    else:
        snap.builder_resource_policy = snap.functions.get(n.builder_function)  # its Gap: no function, no policy
    if snap.glue_mode:
        glue = r.client("glue")
        snap.glue_job = r.get("GetJob", f"Glue job {n.glue_job}", lambda: glue.get_job(JobName=n.glue_job)["Job"])
        name = snap.glue_job.get("SecurityConfiguration") if _ok(snap.glue_job) else None
        if name:
            snap.glue_security = r.get("GetSecurityConfiguration", f"security configuration {name} (named by the job)",
                                       lambda: glue.get_security_configuration(Name=name)["SecurityConfiguration"])
    snap.state_machine = r.get("DescribeStateMachine", f"state machine {n.state_machine}",
                               lambda: _clean(r.client("stepfunctions").describe_state_machine(
                                   stateMachineArn=w.state_machine_arn())))


def _read_alerts(r: _Reader, snap: Snapshot) -> None:
    n, w, sns, cw = snap.names, snap.wiring, r.client("sns"), r.client("cloudwatch")
    snap.topic = r.get("GetTopicAttributes", f"topic {n.topic}",
                       lambda: sns.get_topic_attributes(TopicArn=w.topic_arn())["Attributes"])
    if _ok(snap.topic):
        snap.subscriptions = r.get(
            "ListSubscriptionsByTopic", f"subscriptions of {n.topic}",
            lambda: [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=w.topic_arn())
                     for s in page.get("Subscriptions", [])])

    def alarms():
        out = []
        for page in cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix=n.prefix + "-",
                                                                  AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            out += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
        return out

    snap.alarms = r.get("DescribeAlarms", f"alarms {n.prefix}-*", alarms)


def _read_roles(r: _Reader, snap: Snapshot) -> None:
    iam = r.client("iam")
    for name in rules.desired_roles(snap.wiring):
        state = RoleState(role=r.get("GetRole", f"role {name}", lambda: iam.get_role(RoleName=name)["Role"]))
        if not _ok(state.role):
            snap.roles[name] = state
            continue

        def inline():
            names = [p for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
                     for p in page.get("PolicyNames", [])]
            return {p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"] for p in names}

        def attached():
            arns = [p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
                    for p in page.get("AttachedPolicies", [])]
            return {arn: r.get("GetPolicyVersion", f"managed policy {arn}", lambda arn=arn: iam.get_policy_version(
                PolicyArn=arn, VersionId=iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])
                ["PolicyVersion"]["Document"]) for arn in arns}

        state.inline = r.get("GetRolePolicy", f"inline policies of {name}", inline)
        state.attached = r.get("ListAttachedRolePolicies", f"managed policies of {name}", attached)
        snap.roles[name] = state


def _read_network(r: _Reader, snap: Snapshot) -> None:
    """Only on AWS: the VPCs the functions and the job run in, with their endpoints and NAT gateways."""
    if snap.emulator:
        return
    vpc_ids = {f["VpcConfig"]["VpcId"] for f in snap.functions.values()
               if _ok(f) and (f.get("VpcConfig") or {}).get("SubnetIds") and f["VpcConfig"].get("VpcId")}
    ec2 = r.client("ec2")
    if _ok(snap.glue_job):
        for conn in (snap.glue_job.get("Connections") or {}).get("Connections") or []:
            def vpc_of(conn=conn):
                c = r.client("glue").get_connection(Name=conn, HidePassword=True)["Connection"]
                subnet = (c.get("PhysicalConnectionRequirements") or {}).get("SubnetId")
                if not subnet:
                    return None
                return ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]

            snap.glue_connection_vpcs[conn] = r.get("GetConnection", f"Glue connection {conn}", vpc_of)
            if _ok(snap.glue_connection_vpcs[conn]):
                vpc_ids.add(snap.glue_connection_vpcs[conn])
    for vpc_id in sorted(vpc_ids):
        flt = [{"Name": "vpc-id", "Values": [vpc_id]}]
        snap.vpcs[vpc_id] = {
            "endpoints": r.get("DescribeVpcEndpoints", f"VPC endpoints of {vpc_id}",
                               lambda: ec2.describe_vpc_endpoints(Filters=flt).get("VpcEndpoints", [])),
            "nat_gateways": r.get("DescribeNatGateways", f"NAT gateways of {vpc_id}",
                                  lambda: ec2.describe_nat_gateways(Filter=flt).get("NatGateways", [])),
        }


def _read_code(r: _Reader, snap: Snapshot) -> None:
    """Digests of the deployed code beside the digests of this tree's (see sim/infra/package.py)."""
    n = snap.names
    zip_bytes = package.build_zip()
    want_sha = package.code_sha256(zip_bytes)
    for name in snap.expected_functions():
        if name == n.converter_function and snap.wiring.settings.profile.bundles_converter_dependencies:
            continue  # the converter bundle carries wheels built elsewhere; its digest is not this tree's alone
        config = snap.functions.get(name)
        live = config.get("CodeSha256") if _ok(config) else config
        snap.code[f"function {name}"] = {"live": live, "want": want_sha}
    if snap.glue_mode:
        s3 = r.client("s3")
        for key, body in ((n.artifact_zip_key, zip_bytes), (n.glue_script_key, package.glue_script())):
            etag = r.get("HeadObject", f"object {n.artifacts_bucket}/{key}",
                         lambda key=key: s3.head_object(Bucket=n.artifacts_bucket, Key=key)["ETag"].strip('"'))
            snap.code[f"Glue job's {key}"] = {"live": etag, "want": hashlib.md5(body).hexdigest()}
