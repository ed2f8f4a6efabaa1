"""What one scheduled flush reads does not grow with the backlog: pending files written straight
into the table (as tracking leaves them), then one flush, its every DynamoDB read metered."""

import time
from decimal import Decimal

from sim.load.backlog import ReadMeter, write_backlog
from sim.pipeline.builder import Builder, BuilderSettings
from sim.pipeline.state import DATES, MANIFEST_PREFIX, SUCCEEDED, State

NOOP = '{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}'
BATCH = 200
MANIFESTS = 2  # the flush runs out of time after this many, at every backlog size


def _builder(project, pipeline, noop_arn: str) -> Builder:
    env = pipeline.wiring.builder_environment()
    settings = BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                               state_machine_arn=noop_arn, batch_size=BATCH)
    t = project.target
    return Builder(settings, dynamodb=t.session.resource("dynamodb", endpoint_url=t.endpoint),
                   s3=t.client("s3"), sfn=t.client("stepfunctions"))


def _metered_flush(b: Builder) -> tuple[dict, dict]:
    """One flush whose clock runs out after MANIFESTS manifests (the same work at every size)."""
    built = []
    build_one = b._build_one

    def counting(*args, **kw):
        mid = build_one(*args, **kw)
        if mid:
            built.append(mid)
        return mid

    b._build_one = counting
    b._out_of_time = lambda: len(built) >= MANIFESTS
    with ReadMeter(b.state.table.meta.client) as meter:
        result = b.flush(max_wait_s=3600)
    return result, meter.summary()


def _finish(state: State, manifest_ids: list[str]) -> None:
    """What each manifest's execution does at its end (MarkSucceeded: succeeded, no flag left), so
    the next measurement does not also read this one's manifests in flight."""
    for mid in manifest_ids:
        state.table.update_item(Key={"date_prefix": mid[:10], "file_key": MANIFEST_PREFIX + mid},
                                UpdateExpression="SET #s = :s REMOVE open_flag",
                                ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": SUCCEEDED})


def test_a_flush_reads_the_same_at_1000_and_10000_pending_files(project, pipeline):
    sfn = project.target.client("stepfunctions")
    noop = sfn.create_state_machine(name="flush-cost-noop", definition=NOOP,
                                    roleArn=pipeline.wiring.role_arn(pipeline.names.sfn_role))["stateMachineArn"]
    # Only this test's builders may claim: the deployed schedule would flush the backlog too.
    project.target.client("events").disable_rule(Name=pipeline.names.flush_rule)
    bucket = project.names.landing_bucket
    seen = {}
    for date, files in (("2026-02-01", 1_000), ("2026-02-02", 10_000)):
        b = _builder(project, pipeline, noop)
        assert write_backlog(b.state.table, date, files, bucket, tracked_at=time.time() - 7200) == files
        result, reads = _metered_flush(b)
        assert len(result["manifests"]) == MANIFESTS and all(m.startswith("2026-02-01") for m in result["manifests"])
        seen[files] = reads
        _finish(b.state, result["manifests"])
    small, large = seen[1_000], seen[10_000]
    # The second flush also looks at the second date (one more registered date: O(dates)), and
    # builds from the first, which still has pending files: a constant, not 9,000 more files.
    assert large["requests"] - small["requests"] <= 3, seen
    assert large["items_read"] - small["items_read"] <= 3, seen
    assert large["engine_read_units"] - small["engine_read_units"] <= 1.5, seen
    assert abs(large["estimated_read_units"] - small["estimated_read_units"]) <= 4, seen
    assert large["items_read"] < BATCH * (MANIFESTS + 2), seen  # a manifest's worth per manifest, no scan
    assert "Scan" not in large["by_operation"], seen


def test_the_date_registry_never_misses_a_date_with_pending_files(project, pipeline):
    b = _builder(project, pipeline, pipeline.wiring.state_machine_arn())
    state, bucket, day = b.state, project.names.landing_bucket, "2026-02-03"

    def registered():
        return {i["file_key"] for i in state.registered_dates()}

    def age(seconds):  # as if nobody had touched the date for that long
        state.table.update_item(Key={"date_prefix": DATES, "file_key": day}, UpdateExpression="SET touched_at = :t",
                                ExpressionAttributeValues={":t": Decimal(str(round(time.time() - seconds, 3)))})

    state.track_file(day, "r/0.ndjson", bucket, 1, "e")
    assert day in registered() and day in state.pending_dates()
    state.open_manifest(day, f"{day}-m", "manifests/m.json")
    assert state.claim(day, "r/0.ndjson", f"{day}-m")
    # Nothing pending any more, but touched a moment ago: a tracker may be about to put a file.
    assert state.pending_dates(idle_margin_s=0) == {} and day in registered()
    age(3600)
    assert state.pending_dates(idle_margin_s=120) == {} and day not in registered()
    # A file given back to pending registers its date again before it is pending.
    state.release(day, "r/0.ndjson", f"{day}-m")
    assert day in registered() and day in state.pending_dates()
    # A date with a pending file stays however long nobody touched it.
    age(3600)
    assert day in state.pending_dates(idle_margin_s=120) and day in registered()
    # The manifest's files are read by key from its item, not from the date.
    assert [f["file_key"] for f in state.files_of_manifest(day, f"{day}-m")] == []
    state.open_manifest(day, f"{day}-n", "manifests/n.json")
    assert state.claim(day, "r/0.ndjson", f"{day}-n")
    assert [f["file_key"] for f in state.files_of_manifest(day, f"{day}-n")] == ["r/0.ndjson"]


def _noop(project, pipeline, name: str) -> str:
    sfn = project.target.client("stepfunctions")
    return sfn.create_state_machine(name=name, definition=NOOP,
                                    roleArn=pipeline.wiring.role_arn(pipeline.names.sfn_role))["stateMachineArn"]


def test_recovering_a_manifest_reads_its_files_not_its_date(project, pipeline):
    project.target.client("events").disable_rule(Name=pipeline.names.flush_rule)
    b = _builder(project, pipeline, _noop(project, pipeline, "flush-cost-recover"))
    b.settings.open_manifest_grace_s = 0.0
    state, day = b.state, "2026-02-04"
    write_backlog(state.table, day, 5_000, project.names.landing_bucket, tracked_at=time.time())
    # A builder died after claiming three files into its manifest.
    mid = f"{day}-deadbuilder"
    state.open_manifest(day, mid, f"manifests/date={day}/{mid}.json")
    assert len(state.claim_files(day, [f"backlog/{i:07d}.ndjson" for i in range(3)], mid)[0]) == 3
    with ReadMeter(state.table.meta.client) as meter:
        assert b.recover_open_manifests() == [mid]
    reads = meter.summary()
    assert reads["items_read"] <= 10, reads  # the open manifest, its item, its three files
    assert state.manifest(day, mid)["status"] == "started" and int(state.manifest(day, mid)["file_count"]) == 3


def test_recovery_leaves_the_flush_time_to_build(project, pipeline):
    """Recovery stops at half the time the flush has; the rest builds manifests."""
    project.target.client("events").disable_rule(Name=pipeline.names.flush_rule)
    b = _builder(project, pipeline, _noop(project, pipeline, "flush-cost-budget"))
    state, day = b.state, "2026-02-05"
    failed = [f"{day}-failed{i:02d}" for i in range(80)]
    for mid in failed:  # eighty failed manifests with attempts left: more than the flush has time for
        state.open_manifest(day, mid, f"manifests/date={day}/{mid}.json")
        assert state.seal(day, mid, "submit") == "submit"
        assert state.mark_failed_closed(day, mid, 1, "execution found closed as FAILED")
    write_backlog(state.table, day, 3, project.names.landing_bucket, tracked_at=time.time() - 7200)
    ticks = iter(range(10_000))
    b.clock = lambda: float(next(ticks))  # one second per look at the clock
    b.deadline = 60.0
    result = b.flush(max_wait_s=3600)
    assert 0 < len(result["redriven"]) < len(failed), result
    assert len(result["manifests"]) == 1, result
