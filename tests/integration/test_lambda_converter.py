"""Where Glue is absent (LocalStack's free edition) the converter runs as a Lambda task.

The same state machine shape with `lambda:invoke` in place of the Glue polling loop, deployed here
onto the embedded engine with the LocalStack settings, must give the same verdict.
"""

import json

from sim.infra.deploy import Deployer
from sim.infra.spec import Settings
from sim.validate.run import validate
from sim.workload.upload import upload_generated

from .conftest import BATCH, dumps


def test_converter_as_a_lambda_task_end_to_end(project, pipeline, watcher):
    lambda_mode = Settings(target="localstack", batch_size=BATCH, log_level="DEBUG")
    try:
        changes = Deployer(project.target, lambda_mode).apply()
        changed = {c.name for c in changes if c.action != "unchanged"}
        assert project.names.converter_function in changed and project.names.state_machine in changed
        sfn = project.target.client("stepfunctions")
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=pipeline.wiring.state_machine_arn())["definition"])
        assert definition["States"]["Convert"]["Resource"] == "arn:aws:states:::lambda:invoke"

        n = 2 * BATCH + 3
        up = upload_generated(project.target.client("s3"), project.names.landing_bucket, n, 8 * 1024, seed=5,
                              date_prefix="2026-11-27")
        watcher.wait(n, stall_timeout_s=120)
        verdict = validate(project.target, project.names, project.cache_dir())
        assert verdict["pass"], dumps(verdict)
        assert verdict["records_out"] == up.records and verdict["manifests"] == 3
    finally:
        Deployer(project.target, pipeline.settings).apply()
