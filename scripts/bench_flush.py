"""What one scheduled flush costs against the size of the backlog, on the embedded engine.

    .venv/bin/python scripts/bench_flush.py [--files 1000 100000] [--batch 200] [--json]

For each --files size: starts its own MiniStack in a temporary folder, deploys the pipeline, swaps
the workflow for a one-state stand-in (conversions would compete for the CPU) and disables the
flush schedule (only this script's builder claims), writes that many pending file items of one
date straight into the table (BatchWriteItem, as tracking leaves them: FILE items and the date's
DATE item, all tracked two hours ago so a partial batch is due), then runs one flush as the
scheduled event does, with the deadline the builder's handler derives from the function's timeout
in the pipeline description. It reports the flush's wall time, the manifests it started, and
every DynamoDB read it made: requests, items read, the ConsumedCapacity the engine reports
(ReturnConsumedCapacity=TOTAL on each read; MiniStack charges 0.5 per request whatever it reads)
and the read units DynamoDB would charge for the items returned (4 KB units, half for eventually
consistent reads). `overhead_items_read` is what the flush read besides the one query of a
manifest's worth of pending files that each manifest costs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sim.engine import ministack
from sim.engine.target import Target
from sim.infra.deploy import Deployer
from sim.infra.spec import Settings
from sim.load.backlog import ReadMeter, write_backlog
from sim.pipeline import builder as builder_module
from sim.pipeline.builder import Builder, BuilderSettings

DATE = "2026-12-01"
NOOP = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


class _Context:
    """What the handler reads of a Lambda context: the time left at the start of the invocation."""

    def __init__(self, timeout_s: int):
        self.ends = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self.ends - time.monotonic()) * 1000)


def measure(files: int, batch: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-flush-"))
    engine, _ = ministack.start(workdir)
    try:
        target = Target("ministack", engine.endpoint)
        deployer = Deployer(target, Settings(target="ministack", batch_size=batch))
        deployer.apply()
        target.client("events").disable_rule(Name=deployer.names.flush_rule)
        sfn = target.client("stepfunctions")
        noop = sfn.create_state_machine(name="bench-noop", definition=json.dumps(NOOP),
                                        roleArn=deployer.wiring.role_arn(deployer.names.sfn_role))["stateMachineArn"]
        env = deployer.wiring.builder_environment()
        ddb = target.session.resource("dynamodb", endpoint_url=target.endpoint)
        settings = BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                                   state_machine_arn=noop, batch_size=batch)
        table = ddb.Table(env["TABLE_NAME"])
        t0 = time.perf_counter()
        written = write_backlog(table, DATE, files, deployer.names.landing_bucket, tracked_at=time.time() - 7200)
        write_s = time.perf_counter() - t0
        timeout_s = deployer.pipeline.builder.timeout
        context = _Context(timeout_s)
        b = Builder(settings, dynamodb=ddb, s3=target.client("s3"), sfn=sfn, deadline=builder_module._deadline(context))
        with ReadMeter(table.meta.client) as meter:
            t0 = time.perf_counter()
            result = b.flush(settings.flush_max_wait_s)
            flush_s = time.perf_counter() - t0
        return {"pending_files": written, "batch": batch, "write_backlog_s": round(write_s, 1),
                "function_timeout_s": timeout_s, "flush_s": round(flush_s, 1),
                "within_timeout": flush_s < timeout_s, "manifests": len(result["manifests"]),
                "files_manifested": len(result["manifests"]) * batch, "reads": meter.summary(),
                "overhead_items_read": meter.items_read - batch * len(result["manifests"])}
    finally:
        ministack.stop(workdir)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [measure(n, args.batch) for n in args.files]
    print(json.dumps(results, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
