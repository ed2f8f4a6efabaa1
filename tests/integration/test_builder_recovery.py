"""A builder that runs out of time or dies mid-manifest leaves work that the next one finishes."""

import time

from sim.pipeline.builder import Builder, Settings as BuilderSettings
from sim.pipeline.state import State


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


def test_a_manifest_left_open_by_a_dead_builder_is_finished_by_the_flush(project, pipeline):
    b = builder_for(project, pipeline, open_manifest_grace_s=0.0)
    state: State = b.state
    keys = [f"crash/{i}.ndjson" for i in range(3)]
    for k in keys:
        state.track_file("2026-01-04", k, project.names.landing_bucket, 1, "e")
    # The dead builder got as far as opening the manifest and claiming its files.
    state.open_manifest("2026-01-04", "2026-01-04-deadbuilder", "manifests/date=2026-01-04/2026-01-04-deadbuilder.json")
    for k in keys:
        assert state.claim("2026-01-04", k, "2026-01-04-deadbuilder")
    # An open manifest with no claims at all (died right after opening) is dropped.
    state.open_manifest("2026-01-04", "2026-01-04-empty", "manifests/date=2026-01-04/2026-01-04-empty.json")

    result = b.flush(max_wait_s=3600)
    assert result["recovered"] == ["2026-01-04-deadbuilder"]
    assert state.open_manifests() == []
    item = state.table.get_item(Key={"date_prefix": "2026-01-04", "file_key": "MANIFEST#2026-01-04-deadbuilder"})["Item"]
    assert item["status"] in ("started", "succeeded", "failed") and item["execution_arn"].endswith(":2026-01-04-deadbuilder")
    assert "Item" not in state.table.get_item(Key={"date_prefix": "2026-01-04", "file_key": "MANIFEST#2026-01-04-empty"})
    # Starting the same manifest's workflow again (a second recoverer) is harmless: one execution.
    files = state.files_of_manifest("2026-01-04", "2026-01-04-deadbuilder")
    b._submit("2026-01-04", "2026-01-04-deadbuilder", item["manifest_key"], files)
    execs = project.target.client("stepfunctions").list_executions(stateMachineArn=pipeline.wiring.state_machine_arn())
    assert [e["name"] for e in execs["executions"]].count("2026-01-04-deadbuilder") == 1
