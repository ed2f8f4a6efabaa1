"""least-privilege: on an engine that enforces IAM, each role can do its own work and nothing else.

The scenario starts its own MiniStack with `AUTH=true` (sim/engine/enforcing.py) under
`<workdir>/scenarios/least-privilege`, deploys the LocalStack wiring there (the builder AND the
converter run as Lambdas with their roles' session credentials, so every call they make is checked),
and stops it at the end whatever happens. The project's own engine is not touched.

Who acts, and how:
- the pipeline's roles (builder, converter, state machine): sessions from `sts:AssumeRole` on the
  deployed roles, the same kind of ASIA... credentials the Lambdas get. MiniStack lets the account
  root assume a role that trusts a service (on AWS only that service could), which is how the
  scenario gets them;
- a producer: an IAM user whose own policy allows only `sts:AssumeRole` on the uploader role; the
  pipeline's files are landed through that role's session;
- strangers: an IAM user with no policy at all, and keys the engine never issued.
The root key `test` (which every `sim` command signs with) passes every check, so no probe uses it.

Probes (each {"actor", "action", "resource", "expected", "got", "ok"}): the builder cannot read or
list the Parquet output nor write to landing; the converter cannot delete or overwrite a landed
file; the state machine's role reads no data; the stranger and unknown keys cannot land a file; the
stranger cannot assume the uploader role; the uploader lands files and can neither read nor delete
them nor write to the output bucket. Controls (expected "allowed") show each session works, so a
denial means the policy, not a broken session. Then the files landed by the uploader must validate
end to end. Why the landing bucket has no bucket policy: see sim/infra/iam.py.
"""

import json
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sim.engine import enforcing, lambda_python
from sim.infra import iam as policies
from sim.infra.deploy import Deployer
from sim.infra.spec import Settings
from sim.ops.watch import Watcher
from sim.scenario.framework import SCENARIO_BATCH
from sim.validate.run import validate
from sim.workload.upload import upload_generated

NAME = "least-privilege"
ORDER = 9
DESCRIPTION = ("On MiniStack with AUTH=true each function, the state machine and the uploader act with their "
               "own role: calls outside a role are denied (builder reading output, converter deleting landed "
               "files, strangers and unknown keys landing files), the uploader lands files and the run validates")
FILES = 10
DATE = "2026-11-30"
PREFIX = "producer"
DENIED = {"AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "UnrecognizedClientException",
          "InvalidClientTokenId", "SignatureDoesNotMatch"}
VALIDATION_KEYS = ("pass", "files_landed", "files_in_manifests", "manifests", "records_in", "records_out",
                   "duplicates", "missing", "quarantined", "orphans", "problems")


class Identity:
    """Clients for one set of credentials on the enforcing engine."""

    def __init__(self, name: str, endpoint: str, key: str, secret: str, token: str | None = None, arn: str = ""):
        self.name, self.arn = name, arn
        self._session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                              aws_session_token=token, region_name="us-east-1")
        self._endpoint = endpoint
        self._clients: dict = {}

    def client(self, service: str):
        if service not in self._clients:
            config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                            max_pool_connections=16, s3={"addressing_style": "path"})
            self._clients[service] = self._session.client(service, endpoint_url=self._endpoint, config=config)
        return self._clients[service]

    def assume(self, role_arn: str, name: str) -> "Identity":
        resp = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=f"probe-{uuid.uuid4().hex[:8]}")
        c = resp["Credentials"]
        return Identity(name, self._endpoint, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"],
                        resp["AssumedRoleUser"]["Arn"])


def attempt(call) -> tuple[str, str]:
    """("allowed", "") or the error code and message of a refused call."""
    try:
        call()
        return "allowed", ""
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return error.get("Code", "ClientError"), (error.get("Message") or "")[:200]


class Probes:
    def __init__(self):
        self.rows: list[dict] = []

    def __call__(self, actor: Identity, action: str, resource: str, expected: str, call) -> dict:
        got, detail = attempt(call)
        denied = got in DENIED
        ok = (got == "allowed") if expected == "allowed" else denied
        row = {"actor": actor.name, "principal": actor.arn, "action": action, "resource": resource,
               "expected": expected, "got": "denied" if denied else got, "ok": ok}
        if denied:
            row["error"] = got
        if detail and not ok:
            row["detail"] = detail
        self.rows.append(row)
        return row


def _user(iam, endpoint: str, label: str, name: str, policy: dict | None) -> Identity:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="probe", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Identity(label, endpoint, key["AccessKeyId"], key["SecretAccessKey"], arn=arn)


def run(ctx):
    if not ctx.own:
        return ctx.skip("the least-privilege roles are sim's own pipeline's, one per component with exactly the "
                        "calls its code makes; a described pipeline gets roles scoped to what sim created for it")
    started = time.monotonic()
    seconds: dict[str, float] = {}
    workdir = ctx.project.workdir / "scenarios" / NAME
    # The converter's bundle is built for the python3.11 runtime: the engine runs its Lambdas on 3.11.
    with enforcing.engine(workdir, python=lambda_python.engine_python(ctx.project.cache_dir())) as eng:
        target = eng.target
        seconds["engine_start"] = round(time.monotonic() - started, 2)
        deployer = Deployer(target, Settings(target="localstack", batch_size=SCENARIO_BATCH),
                            cache_dir=ctx.project.cache_dir())
        deployer.apply()
        seconds["deploy"] = round(time.monotonic() - started - seconds["engine_start"], 2)
        w, n = deployer.wiring, deployer.names
        landing, output = n.landing_bucket, n.output_bucket
        root = target.client("s3")
        iam, sts = target.client("iam"), target.client("sts")
        admin = Identity("root (test)", eng.endpoint, "test", "test",
                         arn=sts.get_caller_identity()["Arn"])  # only to assume roles and look; never probed

        # Identities. The producer's own policy allows assuming the uploader role and nothing else.
        suffix = uuid.uuid4().hex[:6]
        stranger = _user(iam, eng.endpoint, "IAM user without a policy", f"{n.prefix}-stranger-{suffix}", None)
        producer = _user(iam, eng.endpoint, "producer", f"{n.prefix}-producer-{suffix}", {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Resource": w.role_arn(n.uploader_role)}]})
        unknown = Identity("keys the engine never issued", eng.endpoint, "AKIA" + uuid.uuid4().hex[:16].upper(),
                           uuid.uuid4().hex)
        uploader = producer.assume(w.role_arn(n.uploader_role), "uploader role")
        builder = admin.assume(w.role_arn(n.builder_role), "builder role")
        converter = admin.assume(w.role_arn(n.converter_role), "converter role")
        sfn = admin.assume(w.role_arn(n.sfn_role), "state machine role")

        # The pipeline, fed by the uploader only.
        probe = Probes()
        t = time.monotonic()
        up = {}
        probe(uploader, "s3:PutObject", f"arn:aws:s3:::{landing}/{PREFIX}/{DATE}/* ({FILES} files)", "allowed",
              lambda: up.setdefault("result", upload_generated(uploader.client("s3"), landing, FILES, 4096, seed=7,
                                                               date_prefix=DATE, prefix=PREFIX)))
        uploaded = up.get("result")
        drained = None
        validation = {"pass": False, "problems": ["nothing was landed"]}
        if uploaded:
            try:
                drained = Watcher(target, n).wait(FILES, stall_timeout_s=90)
            except Exception as exc:  # noqa: BLE001 - a stalled run is evidence, validation says the rest
                drained = f"{type(exc).__name__}: {exc}"
            validation = validate(target, n, workdir / "cache")
        seconds["pipeline"] = round(time.monotonic() - t, 2)

        landed = sorted(o["Key"] for o in root.list_objects_v2(Bucket=landing).get("Contents", []))
        parquet = sorted(o["Key"] for o in root.list_objects_v2(Bucket=output, Prefix="parquet/").get("Contents", []))
        landed_key = next((k for k in landed if k.isascii() and " " not in k), f"{PREFIX}/{DATE}/missing.ndjson")
        parquet_key = parquet[0] if parquet else f"parquet/date={DATE}/missing.parquet"
        probe_key = f"{PREFIX}/{DATE}/probe-{suffix}.ndjson"
        body = b'{"probe": 1}\n'

        # The builder: tracks files and writes manifests; never reads the output, never lands files.
        probe(builder, "s3:GetObject", f"arn:aws:s3:::{output}/{parquet_key}", "denied",
              lambda: builder.client("s3").get_object(Bucket=output, Key=parquet_key)["Body"].read())
        probe(builder, "s3:ListBucket", f"arn:aws:s3:::{output} (prefix parquet/)", "denied",
              lambda: builder.client("s3").list_objects_v2(Bucket=output, Prefix="parquet/"))
        probe(builder, "s3:PutObject", f"arn:aws:s3:::{landing}/{probe_key}", "denied",
              lambda: builder.client("s3").put_object(Bucket=landing, Key=probe_key, Body=body))
        probe(builder, "dynamodb:GetItem", w.table_arn(), "allowed",
              lambda: builder.client("dynamodb").get_item(
                  TableName=n.table, Key={"date_prefix": {"S": DATE}, "file_key": {"S": landed_key}}))

        # The converter: reads landed files, writes its own outputs; never removes or rewrites a landed file.
        probe(converter, "s3:DeleteObject", f"arn:aws:s3:::{landing}/{landed_key}", "denied",
              lambda: converter.client("s3").delete_object(Bucket=landing, Key=landed_key))
        probe(converter, "s3:PutObject", f"arn:aws:s3:::{landing}/{landed_key}", "denied",
              lambda: converter.client("s3").put_object(Bucket=landing, Key=landed_key, Body=body))
        probe(converter, "s3:GetObject", f"arn:aws:s3:::{landing}/{landed_key}", "allowed",
              lambda: converter.client("s3").get_object(Bucket=landing, Key=landed_key)["Body"].read())

        # The state machine's role starts the converter and marks the table; it reads no data.
        probe(sfn, "s3:GetObject", f"arn:aws:s3:::{output}/{parquet_key}", "denied",
              lambda: sfn.client("s3").get_object(Bucket=output, Key=parquet_key)["Body"].read())

        # Strangers: an IAM user with no policy, keys nobody issued; and the producer without the uploader role.
        probe(stranger, "s3:PutObject", f"arn:aws:s3:::{landing}/{probe_key}", "denied",
              lambda: stranger.client("s3").put_object(Bucket=landing, Key=probe_key, Body=body))
        probe(stranger, "sts:AssumeRole", w.role_arn(n.uploader_role), "denied",
              lambda: stranger.client("sts").assume_role(RoleArn=w.role_arn(n.uploader_role),
                                                         RoleSessionName="stranger"))
        probe(producer, "s3:PutObject", f"arn:aws:s3:::{landing}/{probe_key}", "denied",
              lambda: producer.client("s3").put_object(Bucket=landing, Key=probe_key, Body=body))
        probe(unknown, "s3:PutObject", f"arn:aws:s3:::{landing}/{probe_key}", "denied",
              lambda: unknown.client("s3").put_object(Bucket=landing, Key=probe_key, Body=body))

        # The uploader lands files and does nothing else.
        probe(uploader, "s3:GetObject", f"arn:aws:s3:::{landing}/{landed_key}", "denied",
              lambda: uploader.client("s3").get_object(Bucket=landing, Key=landed_key)["Body"].read())
        probe(uploader, "s3:DeleteObject", f"arn:aws:s3:::{landing}/{landed_key}", "denied",
              lambda: uploader.client("s3").delete_object(Bucket=landing, Key=landed_key))
        probe(uploader, "s3:PutObject", f"arn:aws:s3:::{output}/parquet/date={DATE}/forged.parquet", "denied",
              lambda: uploader.client("s3").put_object(Bucket=output, Key=f"parquet/date={DATE}/forged.parquet",
                                                       Body=body))

        # What the denials left behind: the landed file intact, no probe object anywhere.
        after = {o["Key"] for o in root.list_objects_v2(Bucket=landing).get("Contents", [])}
        intact = {"landed_file_still_there": landed_key in after, "probe_object_absent": probe_key not in after}

        # A gap, measured: the engine sets no cloudwatch:namespace key, so the namespace condition does not bite here.
        got, _ = attempt(lambda: builder.client("cloudwatch").put_metric_data(
            Namespace="probe/elsewhere", MetricData=[{"MetricName": "Probe", "Value": 1.0}]))
        gaps = [{"what": "cloudwatch:PutMetricData outside the pipeline's namespace, as the builder role (the engine "
                         "sets no cloudwatch:namespace key; AWS would deny it)", "got": got}]

    seconds["total"] = round(time.monotonic() - started, 2)
    records = uploaded.records if uploaded else 0
    pipeline_ok = bool(validation.get("pass")) and validation.get("records_out") == records and records > 0
    evidence = {
        "engine": {"auth": True, "endpoint": eng.endpoint, "workdir": str(workdir), "log": str(eng.log),
                   "wiring": "localstack: the builder and the converter run as Lambdas under their roles"},
        "roles": {name: w.role_arn(name) for name in (n.builder_role, n.converter_role, n.sfn_role, n.uploader_role)},
        "uploader_policy": policies.uploader_policy(w),
        "landing_bucket_policy": None,
        "probes": probe.rows,
        "pipeline": {"uploaded_by": uploader.arn, "files": uploaded.files if uploaded else 0, "records": records,
                     "drain": drained if isinstance(drained, str) else "drained",
                     "validation": {k: validation.get(k) for k in VALIDATION_KEYS}},
        "after_probes": intact,
        "not_enforced_here": [
            *gaps,
            {"what": "the root key `test` (and any 12-digit key) skips every policy, bucket policies included"},
            {"what": "the event source mapping's SQS permissions; a rule's permission to invoke the builder"},
            {"what": "a Glue job runs with the engine's root environment (hence the LocalStack wiring here)"},
            {"what": "a role trusting only a service can be assumed by the account root (how the probes get "
                     "the pipeline roles' sessions)"},
        ],
        "seconds": seconds,
    }
    failed = [f"{p['actor']} {p['action']} on {p['resource']}: expected {p['expected']}, got {p['got']}"
              for p in probe.rows if not p["ok"]]
    findings = list(failed)
    if not pipeline_ok:
        findings.append(f"the pipeline fed by the uploader did not validate: {validation.get('problems')}")
    if not all(intact.values()):
        findings.append(f"a denied call changed the landing bucket: {intact}")
    passed = pipeline_ok and not failed and all(intact.values())
    return ctx.verdict(passed, evidence, findings)
