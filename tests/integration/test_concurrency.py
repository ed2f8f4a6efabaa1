"""The builder races with itself (MiniStack runs up to 5 batches at once): no file may end up in
two manifests, and manifests are full except when flushed."""

import threading
from collections import Counter

import boto3

from sim.pipeline.builder import Builder, BuilderSettings
from sim.pipeline.state import State
from sim.workload.upload import upload_generated

from .conftest import BATCH, dumps, manifest_items


def test_a_burst_with_concurrent_batches_never_double_claims(project, pipeline, watcher):
    n = 12 * BATCH
    s3 = project.target.client("s3", max_pool=32)
    upload_generated(s3, project.names.landing_bucket, n, 2048, seed=3, date_prefix="2026-11-26", threads=16)
    watcher.wait(n, stall_timeout_s=120)

    items = manifest_items(project)
    counts = [int(i["file_count"]["N"]) for i in items]
    assert sum(counts) == n
    assert all(c == BATCH for c in counts), counts  # n is a multiple of BATCH: no flush was needed

    ddb = project.target.client("dynamodb")
    owners = Counter()
    for page in ddb.get_paginator("scan").paginate(TableName=project.names.table):
        for item in page["Items"]:
            if item.get("record_type", {}).get("S") == "FILE":
                owners[item["manifest_id"]["S"]] += 1
    assert sorted(owners.values()) == sorted(counts)
    from sim.validate.run import validate

    verdict = validate(project.target, project.names, project.cache_dir())
    assert verdict["pass"] and verdict["files_in_two_manifests"] == 0, dumps(verdict)


def test_conditional_claims_let_exactly_one_claimer_win(project, pipeline):
    """Eight claimers race for the same 40 files: each file goes to exactly one of them."""
    table = boto3.resource(
        "dynamodb", endpoint_url=project.target.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    ).Table(project.names.table)
    state = State(table)
    keys = [f"race/{i:03d}.ndjson" for i in range(40)]
    for k in keys:
        assert state.track_file("2026-01-01", k, "b", 1, "e")
    assert not state.track_file("2026-01-01", keys[0], "b", 1, "e")  # a redelivery is refused

    won: dict[str, list[str]] = {}
    barrier = threading.Barrier(8)

    def claimer(mid: str) -> None:
        state.open_manifest("2026-01-01", mid, f"manifests/{mid}.json")
        barrier.wait()
        won[mid] = [k for k in keys if state.claim("2026-01-01", k, mid)]

    threads = [threading.Thread(target=claimer, args=(f"m{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = Counter(k for ks in won.values() for k in ks)
    assert set(winners) == set(keys) and set(winners.values()) == {1}
    assert state.count_pending("2026-01-01") == 0


def test_concurrent_builders_with_the_real_handler_code(project, pipeline):
    """Several Builder instances (the Lambda's code) build from one pending pool at once."""
    target = project.target
    env = pipeline.wiring.builder_environment()
    settings = BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                               state_machine_arn=env["STATE_MACHINE_ARN"], batch_size=10)
    ddb = target.session.resource("dynamodb", endpoint_url=target.endpoint)
    state = State(ddb.Table(project.names.table))
    for i in range(95):
        state.track_file("2026-01-02", f"pool/{i:03d}.ndjson", project.names.landing_bucket, 1, "e")
    built: list[str] = []
    lock = threading.Lock()

    def build() -> None:
        b = Builder(settings, dynamodb=ddb, s3=target.client("s3"), sfn=target.client("stepfunctions"))
        mids = b.build_ready("2026-01-02", flush=False)
        with lock:
            built.extend(mids)

    threads = [threading.Thread(target=build) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 9 and len(set(built)) == 9
    assert state.count_pending("2026-01-02") == 5  # the partial tail waits for a flush
    files = Counter(f["manifest_id"] for mid in built for f in state.files_of_manifest("2026-01-02", mid))
    assert all(files[mid] == 10 for mid in built)
