"""The roles are enough, and only just: the pipeline on an engine that enforces IAM.

MiniStack with AUTH=true gives a Lambda its execution role's session credentials and denies calls
outside the role's policy. The LocalStack wiring runs both the builder and the converter as Lambdas,
so here every call they make is checked against the policies sim/infra/iam.py generates: the run
must validate. Then one grant is taken away from the converter and its next manifest must fail,
which shows the engine really is enforcing (so the first result means something). The deployer
itself signs as `test`, which the engine treats as the account's root.
"""

import json
import os
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from sim.engine import enforcing as enforcing_engine, lambda_python
from sim.infra import iam
from sim.infra.deploy import Deployer
from sim.infra.spec import Settings
from sim.ops.watch import Watcher
from sim.validate.run import validate
from sim.workload.upload import upload_generated

from .conftest import dumps, wait_until

CACHE = Path(os.environ.get("SIM_TEST_CACHE") or Path(tempfile.gettempdir()) / "sim-test-cache")


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory):
    # The converter's bundle is built for the python3.11 runtime, and MiniStack runs Lambdas on its own Python.
    if lambda_python.interpreter() is None:
        pytest.skip(lambda_python.missing_reason())
    python = lambda_python.engine_python(CACHE)
    with enforcing_engine.engine(tmp_path_factory.mktemp("auth-engine"), python=python) as eng:
        yield eng.target, eng.workdir


def _manifest_statuses(target, names, date_prefix):
    items = target.client("dynamodb").query(
        TableName=names.table, KeyConditionExpression="date_prefix = :d",
        ExpressionAttributeValues={":d": {"S": date_prefix}})["Items"]
    return [(i["status"]["S"], i.get("failure", {}).get("S", "")) for i in items
            if i.get("record_type", {}).get("S") == "MANIFEST"]


def test_the_generated_roles_let_the_pipeline_run_and_nothing_less_would(enforcing):
    target, workdir = enforcing
    deployer = Deployer(target, Settings(target="localstack", batch_size=5), cache_dir=CACHE)
    deployer.apply()
    names, s3 = deployer.names, target.client("s3")
    stranger = boto3.client("s3", endpoint_url=target.endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):  # the engine checks who signs
        stranger.list_buckets()

    up = upload_generated(s3, names.landing_bucket, 10, 4096, seed=3, date_prefix="2026-11-28")
    Watcher(target, names).wait(10, stall_timeout_s=90)
    verdict = validate(target, names, workdir / "cache")
    assert verdict["pass"], dumps(verdict)
    assert verdict["records_out"] == up.records and verdict["manifests"] == 2
    assert {s for s, _ in _manifest_statuses(target, names, "2026-11-28")} == {"succeeded"}

    # Take one grant away: the converter may no longer write Parquet.
    policy = iam.roles(deployer.wiring)[names.converter_role][1]
    policy["Statement"] = [st for st in policy["Statement"] if st["Sid"] != "WriteParquet"]
    target.client("iam").put_role_policy(RoleName=names.converter_role, PolicyName="pipeline",
                                         PolicyDocument=json.dumps(policy))
    upload_generated(s3, names.landing_bucket, 5, 4096, seed=4, date_prefix="2026-11-29")
    statuses = wait_until(lambda: [s for s in _manifest_statuses(target, names, "2026-11-29")
                                   if s[0] in ("succeeded", "failed")], timeout=120)
    assert [s for s, _ in statuses] == ["failed"], statuses
    assert not s3.list_objects_v2(Bucket=names.output_bucket, Prefix="parquet/date=2026-11-29/").get("Contents")
