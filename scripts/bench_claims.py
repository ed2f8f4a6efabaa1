"""How fast the builder turns a backlog of pending files into manifests, on the embedded engine.

    .venv/bin/python scripts/bench_claims.py [--files 2000] [--batch 200] [--json]

Starts its own MiniStack in a temporary folder, deploys the pipeline, swaps the workflow for a
one-state stand-in (so conversions do not compete for the CPU), tracks --files pending files of
one date directly in the table (the flush schedule disabled, so nothing else claims), then times `Builder.build_ready(date, flush=False)`: every claim,
manifest object, StartExecution and status write of --files / --batch manifests. It also times
the claim strategies alone on fresh pending files: one conditional UpdateItem at a time, the same
from 16 threads, and TransactWriteItems of 99 claims plus the manifest check.

Run it from another checkout (PYTHONPATH=/path/to/checkout) to measure that checkout's builder:
the script only uses Builder, Settings, State and the deploy, whose signatures are shared.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botocore.exceptions import ClientError

from sim.engine import ministack
from sim.engine.target import Target
from sim.infra.deploy import Deployer
from sim.infra.spec import Settings
from sim.pipeline.builder import Builder, BuilderSettings
from sim.pipeline.state import State

DATE = "2026-12-01"
NOOP = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


def _track(state: State, n: int, prefix: str, bucket: str) -> list[str]:
    keys = [f"{prefix}/{i:06d}.ndjson" for i in range(n)]
    with ThreadPoolExecutor(16) as pool:
        tracked = sum(pool.map(lambda k: state.track_file(DATE, k, bucket, 1024, "e"), keys))
    if tracked != n:
        raise RuntimeError(f"tracked {tracked} of {n} files")
    return keys


def _one_by_one(state: State, keys: list[str], mid: str, threads: int) -> int:
    def claim(key):
        try:
            state.table.update_item(
                Key={"date_prefix": DATE, "file_key": key},
                UpdateExpression="SET #s = :m, manifest_id = :mid REMOVE pending_date",
                ConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":m": "manifested", ":p": "pending", ":mid": mid})
            return 1
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return 0
    if threads == 1:
        return sum(claim(k) for k in keys)
    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(claim, keys))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    engine, _ = ministack.start(workdir)
    try:
        target = Target("ministack", engine.endpoint)
        settings = Settings(target="ministack", batch_size=args.batch)
        deployer = Deployer(target, settings)
        deployer.apply()
        # Only this script's builder may claim: the deployed flush schedule would build from the pool.
        target.client("events").disable_rule(Name=deployer.names.flush_rule)
        sfn = target.client("stepfunctions")
        noop = sfn.create_state_machine(name="bench-noop", definition=json.dumps(NOOP),
                                        roleArn=deployer.wiring.role_arn(deployer.names.sfn_role))["stateMachineArn"]
        env = deployer.wiring.builder_environment()
        ddb = target.session.resource("dynamodb", endpoint_url=target.endpoint, config=None)
        state = State(ddb.Table(env["TABLE_NAME"]))
        bsettings = BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                                    state_machine_arn=noop, batch_size=args.batch)
        builder = Builder(bsettings, dynamodb=ddb, s3=target.client("s3"), sfn=sfn)
        _track(state, args.files, "build", deployer.names.landing_bucket)
        t0 = time.perf_counter()
        built = builder.build_ready(DATE, flush=False)
        build_s = time.perf_counter() - t0
        result = {"files": args.files, "batch": args.batch, "manifests": len(built),
                  "build_ready_s": round(build_s, 2),
                  "files_manifested_per_s": round(len(built) * args.batch / build_s, 1)}
        strategies: dict[str, list] = {}
        claimed: dict[str, list] = {}
        for rnd in range(args.rounds):
            for name, threads in (("update_item_sequential", 1), ("update_item_16_threads", 16)):
                keys = _track(state, args.files, f"{name}-{rnd}", deployer.names.landing_bucket)
                t0 = time.perf_counter()
                n = _one_by_one(state, keys, f"bench-{name}-{rnd}", threads)
                strategies.setdefault(name, []).append(round(n / (time.perf_counter() - t0), 1))
                claimed.setdefault(name, []).append(n)
            if hasattr(state, "claim_files"):
                name, mid = "transact_write_items_99", f"bench-txn-{rnd}"
                keys = _track(state, args.files, f"txn-{rnd}", deployer.names.landing_bucket)
                state.open_manifest(DATE, mid, f"manifests/{mid}.json")
                t0 = time.perf_counter()
                n = 0
                for i in range(0, len(keys), 99):
                    n += len(state.claim_files(DATE, keys[i:i + 99], mid)[0])
                strategies.setdefault(name, []).append(round(n / (time.perf_counter() - t0), 1))
                claimed.setdefault(name, []).append(n)
        result["claims_per_s"] = strategies
        result["claimed_per_round"] = claimed
        print(json.dumps(result, indent=None if args.json else 1))
    finally:
        ministack.stop(workdir)


if __name__ == "__main__":
    main()
