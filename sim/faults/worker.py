"""A builder worker process for the crash matrix's kill mode: it runs one SQS batch through the
builder's real code and dies at the configured boundary (SIGKILL or os._exit), as a Lambda
worker killed by its timeout or the host would: no `finally` runs, a held lease stays held.

    python -m sim.faults.worker < job.json

job.json: {"target": {"name", "endpoint", "region"}, "ordering", "settings": {BuilderSettings
fields}, "faults": {SIM_FAULTS}, "records": [SQS records]}. Exit 0 when the batch finished.
"""

from __future__ import annotations

import json
import logging
import sys


def main() -> int:
    job = json.load(sys.stdin)
    from sim.engine.target import Target
    from sim.faults.seed_builder import SeedBuilder
    from sim.pipeline import faultpoints
    from sim.pipeline.builder import Builder, BuilderSettings

    logging.getLogger("manifest_builder").setLevel(logging.WARNING)
    t = job["target"]
    target = Target(t["name"], t["endpoint"], t["region"])
    settings = BuilderSettings(**job["settings"])
    clients = {"dynamodb": target.session.resource("dynamodb", endpoint_url=target.endpoint),
               "s3": target.client("s3"), "sfn": target.client("stepfunctions")}
    faultpoints.configure(job["faults"])
    if job["ordering"] == "hardened":
        builder = Builder(settings, **clients)
    else:
        builder = SeedBuilder(settings, ordering=job["ordering"], **clients)
    builder.handle_sqs(job["records"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
