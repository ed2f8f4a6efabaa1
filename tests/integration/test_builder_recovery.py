"""A builder that runs out of time or dies mid-manifest leaves work that the next one finishes."""

import time

from sim.pipeline.builder import Builder, BuilderSettings
from sim.pipeline.state import State

from .conftest import wait_until


def builder_for(project, pipeline, **kw) -> Builder:
    env = pipeline.wiring.builder_environment()
    settings = BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                               state_machine_arn=env["STATE_MACHINE_ARN"], batch_size=5, **kw)
    t = project.target
    return Builder(settings, dynamodb=t.session.resource("dynamodb", endpoint_url=t.endpoint),
                   s3=t.client("s3"), sfn=t.client("stepfunctions"))


def test_past_deadline_builds_nothing_and_frees_the_lease(project, pipeline):
    b = builder_for(project, pipeline)
    for i in range(10):
        b.state.track_file("2026-01-03", f"d/{i}.ndjson", project.names.landing_bucket, 1, "e")
    b.deadline = time.monotonic() - 1
    assert b.build_ready("2026-01-03", flush=False) == []
    later = builder_for(project, pipeline)
    assert len(later.build_ready("2026-01-03", flush=False)) == 2  # the lease was released


def _item(state: State, date: str, mid: str) -> dict:
    return state.table.get_item(Key={"date_prefix": date, "file_key": "MANIFEST#" + mid}, ConsistentRead=True)["Item"]


def _wait_closed(project, arn: str) -> str:
    sfn = project.target.client("stepfunctions")
    return wait_until(lambda: (s := sfn.describe_execution(executionArn=arn)["status"]) != "RUNNING" and s, timeout=120)


def test_a_manifest_left_open_by_a_dead_builder_is_finished_by_the_flush(project, pipeline):
    b = builder_for(project, pipeline, open_manifest_grace_s=0.0)
    state: State = b.state
    s3, bucket = project.target.client("s3"), project.names.landing_bucket
    keys = [f"crash/{i}.ndjson" for i in range(3)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b'{"a": 1}\n')
        state.track_file("2026-01-04", k, bucket, 9, "e")
    # The dead builder got as far as opening the manifest and claiming its files.
    state.open_manifest("2026-01-04", "2026-01-04-deadbuilder", "manifests/date=2026-01-04/2026-01-04-deadbuilder.json")
    for k in keys:
        assert state.claim("2026-01-04", k, "2026-01-04-deadbuilder")
    # An open manifest with no claims at all (died right after opening) is dropped.
    state.open_manifest("2026-01-04", "2026-01-04-empty", "manifests/date=2026-01-04/2026-01-04-empty.json")

    result = b.flush(max_wait_s=3600)
    assert result["recovered"] == ["2026-01-04-deadbuilder"]
    assert state.open_manifests() == []
    item = _item(state, "2026-01-04", "2026-01-04-deadbuilder")
    assert item["execution_arn"].endswith(":2026-01-04-deadbuilder") and item["seal"] == "submit"
    assert "Item" not in state.table.get_item(Key={"date_prefix": "2026-01-04", "file_key": "MANIFEST#2026-01-04-empty"})
    # Sealed: nothing more can be claimed into it, even by a builder that still believes it owns it.
    state.track_file("2026-01-04", "crash/late.ndjson", bucket, 1, "e")
    assert not state.claim("2026-01-04", "crash/late.ndjson", "2026-01-04-deadbuilder")
    state.release("2026-01-04", "crash/late.ndjson", "x")  # still pending: a no-op
    assert state.table.get_item(Key={"date_prefix": "2026-01-04", "file_key": "crash/late.ndjson"})["Item"]["status"] == "pending"

    # The conversion ends: its status is terminal, and exactly succeeded (the files are all there).
    assert _wait_closed(project, item["execution_arn"]) == "SUCCEEDED"
    assert _item(state, "2026-01-04", "2026-01-04-deadbuilder")["status"] == "succeeded"
    # A second recoverer starting the same manifest again after the execution ended (a late
    # mark_started): one execution, and the terminal status is not reset to `started`.
    files = state.files_of_manifest("2026-01-04", "2026-01-04-deadbuilder")
    b._submit("2026-01-04", "2026-01-04-deadbuilder", item["manifest_key"], files)
    execs = project.target.client("stepfunctions").list_executions(stateMachineArn=pipeline.wiring.state_machine_arn())
    assert [e["name"] for e in execs["executions"]].count("2026-01-04-deadbuilder") == 1
    assert _item(state, "2026-01-04", "2026-01-04-deadbuilder")["status"] == "succeeded"
    assert not state.mark_started("2026-01-04", "2026-01-04-deadbuilder", item["execution_arn"], 3)
    assert _item(state, "2026-01-04", "2026-01-04-deadbuilder")["status"] == "succeeded"


def test_no_write_moves_a_finished_status_backwards(project, pipeline):
    b = builder_for(project, pipeline)
    state, day = b.state, "2026-01-05"
    state.open_manifest(day, "m-failed", "manifests/m-failed.json")
    assert state.seal(day, "m-failed", "submit") == "submit"
    assert state.seal(day, "m-failed", "abandon") == "submit"  # the first sealer decided
    assert state.mark_failed_closed(day, "m-failed", 1, "execution found closed as FAILED")
    assert not state.mark_started(day, "m-failed", "arn:x", 1)  # late: failed stays failed
    assert not state.drop_manifest(day, "m-failed")  # only a sealed manifest that never started
    assert _item(state, day, "m-failed")["status"] == "failed"
    # failed -> started only by a recorded redrive, and only once per attempt
    assert not state.begin_redrive(day, "m-failed", 2, "test")  # not failed at attempt 2
    assert state.begin_redrive(day, "m-failed", 1, "test")
    assert not state.begin_redrive(day, "m-failed", 1, "another")
    item = _item(state, day, "m-failed")
    assert (item["status"], int(item["attempt"]), item["open_flag"]) == ("started", 2, "REDRIVE")


def test_out_of_time_between_claim_groups_hands_over_cleanly(project, pipeline):
    """The deadline is checked between claim transactions: what is claimed is submitted, the rest
    stays pending for the next invocation or the flush, and the lease is given back."""
    b = builder_for(project, pipeline)
    day = "2026-01-06"
    for i in range(5):
        b.state.track_file(day, f"late/{i}.ndjson", project.names.landing_bucket, 1, "e")
    answers = iter([False, False, True])  # before the lease, before the manifest, between groups
    b._out_of_time = lambda: next(answers, True)
    (mid,) = b.build_ready(day, flush=False)
    item = _item(b.state, day, mid)
    assert (item["status"], int(item["file_count"])) == ("started", 2)  # claim groups of 5: 2 + 3
    assert sorted(f["file_key"] for f in b.state.files_of_manifest(day, mid)) == ["late/0.ndjson", "late/1.ndjson"]
    assert [p["file_key"] for p in b.state.pending_files(day)] == [f"late/{i}.ndjson" for i in (2, 3, 4)]
    assert b.state.acquire_lock(day, "someone-else", 60)  # the lease was given back
