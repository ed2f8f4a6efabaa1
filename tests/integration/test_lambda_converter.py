"""Where Glue is absent (LocalStack's free edition) the converter runs as a Lambda task.

The LocalStack wiring (`--target localstack`: the state machine with `lambda:invoke` in place of
the Glue polling loop, the converter Lambda packaged with its pinned pyarrow wheels) is deployed
here onto the embedded engine, as a rehearsal, and must give the same verdict. MiniStack runs
Lambda code with its own Python but puts the function's code first on the path, so the converter
really runs with the bundled pyarrow: the Parquet files say which pyarrow wrote them. That needs
the shared engine to run on Python 3.11, the bundle's runtime (on another Python this is skipped;
test_infra_least_privilege.py runs the same wiring on an engine of its own on a python3.11 found
on the machine).
"""

import base64
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim import inject
from sim.engine import lambda_python
from sim.infra import bundle, description, iam, package
from sim.infra.deploy import Deployer
from sim.engine.profiles import LAMBDA_RUNTIME
from sim.infra.spec import Settings
from sim.validate.run import validate
from sim.workload.upload import upload_generated

from .conftest import BATCH, dumps

CACHE = Path(os.environ.get("SIM_TEST_CACHE") or Path(tempfile.gettempdir()) / "sim-test-cache")
BUNDLED_PYARROW = bundle.DEPENDENCIES[0].split("==")[1]
SERVICE_PREFIX = {"s3": "s3", "dynamodb": "dynamodb", "stepfunctions": "states", "sqs": "sqs", "cloudwatch": "cloudwatch"}


def _observed_actions(telemetry: Path) -> dict[str, set[str]]:
    """component -> IAM actions of the calls its invocations made (from the pipeline's telemetry)."""
    out: dict[str, set[str]] = {}
    for line in telemetry.read_text().splitlines():
        rec = json.loads(line)
        for call in rec["calls"]:
            service, op = call.split(".", 1)
            ops = {"CreateMultipartUpload": ["PutObject"], "UploadPart": ["PutObject"],
                   "CompleteMultipartUpload": ["PutObject"],
                   # a transaction is authorized action by action: the builder's are all updates
                   # (the claims, and the manifest's claimed keys under its open-and-unsealed condition)
                   "TransactWriteItems": ["UpdateItem"]}.get(op, [op])
            out.setdefault(rec["component"], set()).update(f"{SERVICE_PREFIX[service]}:{o}" for o in ops)
    return out


def _allowed(policy: dict) -> set[str]:
    return {a for st in policy["Statement"] for a in st["Action"]}


@pytest.mark.skipif(sys.version_info[:2] != lambda_python.VERSION,
                    reason=f"the shared engine runs Lambdas on this Python {sys.version_info[0]}.{sys.version_info[1]}; "
                           f"the converter bundle's wheels are for {LAMBDA_RUNTIME}")
def test_converter_as_a_lambda_task_end_to_end(project, pipeline, watcher, tmp_path):
    telemetry = tmp_path / "telemetry.jsonl"
    lambda_mode = Settings(target="localstack", batch_size=BATCH, log_level="DEBUG", telemetry_file=str(telemetry))
    try:
        deployer = Deployer(project.target, lambda_mode, cache_dir=CACHE)
        changes = deployer.apply()
        changed = {c.name for c in changes if c.action != "unchanged"}
        assert project.names.converter_function in changed and project.names.state_machine in changed
        again = Deployer(project.target, lambda_mode, cache_dir=CACHE).apply()
        assert all(c.action == "unchanged" for c in again), [c for c in again if c.action != "unchanged"]

        sfn = project.target.client("stepfunctions")
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=pipeline.wiring.state_machine_arn())["definition"])
        assert definition["States"]["Convert"]["Resource"] == "arn:aws:states:::lambda:invoke"
        # What the deploy bundles on an emulator: the converter's code, the fault bundle that wraps
        # it, and its requirements (pyarrow for the runtime).
        entries = package.code_entries(description.load().converter.lambda_) + inject.bundle_entries()
        built = bundle.build(CACHE, entries)
        fn = project.target.client("lambda").get_function_configuration(FunctionName=project.names.converter_function)
        assert fn["CodeSha256"] == built.sha256 and fn["Role"].endswith("/" + project.names.converter_role)
        assert built.unzipped_bytes < bundle.UNZIPPED_LIMIT_BYTES
        # The bundle went through S3: the artifacts bucket holds exactly the bytes the function runs.
        uploaded = project.target.client("s3").get_object(Bucket=project.names.artifacts_bucket,
                                                          Key=project.names.converter_bundle_key)["Body"].read()
        assert base64.b64encode(hashlib.sha256(uploaded).digest()).decode() == fn["CodeSha256"]
        deploy_code = Deployer(project.target, lambda_mode, cache_dir=CACHE)._converter_code().args()
        assert "ZipFile" not in deploy_code and deploy_code["S3Key"] == project.names.converter_bundle_key

        n = 2 * BATCH + 3
        up = upload_generated(project.target.client("s3"), project.names.landing_bucket, n, 8 * 1024, seed=5,
                              date_prefix="2026-11-27")
        watcher.wait(n, stall_timeout_s=180)
        verdict = validate(project.target, project.names, project.cache_dir())
        assert verdict["pass"], dumps(verdict)
        assert verdict["records_out"] == up.records and verdict["manifests"] == 3

        s3 = project.target.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=project.names.output_bucket, Prefix="parquet/")["Contents"]]
        assert len(keys) == 3
        for key in keys:
            body = s3.get_object(Bucket=project.names.output_bucket, Key=key)["Body"].read()
            assert f"version {BUNDLED_PYARROW}" in pq.read_metadata(io.BytesIO(body)).created_by

        # Every call the functions made is allowed by their own role (the emulator does not enforce it).
        observed = _observed_actions(telemetry)
        roles = iam.roles(deployer.wiring)
        assert observed.get("builder") and observed.get("converter"), observed
        assert observed["builder"] <= _allowed(roles[project.names.builder_role][1])
        assert observed["converter"] <= _allowed(roles[project.names.converter_role][1])
        assert observed["converter"] | {"s3:ListBucket", "s3:AbortMultipartUpload", "s3:PutObject"} | set(iam.LOG_ACTIONS) \
            >= _allowed(roles[project.names.converter_role][1])
    finally:
        Deployer(project.target, pipeline.settings).apply()
