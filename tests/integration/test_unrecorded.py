"""No manifest stays `started` for ever: an execution that closes without recording its outcome is
found by the flush, and a lost MarkSucceeded reply does not fail a conversion that succeeded."""

import json

from sim.pipeline import manifests
from sim.pipeline.state import State

from .test_builder_recovery import _item, _wait_closed, builder_for


def _landed_manifest(project, pipeline, day: str, **kw):
    """Three landed files made into one started manifest by a flush; (builder, manifest id)."""
    b = builder_for(project, pipeline, open_manifest_grace_s=0.0, **kw)
    s3, bucket = project.target.client("s3"), project.names.landing_bucket
    for i in range(3):
        key = f"{day}/stop/{i}.ndjson"
        etag = s3.put_object(Bucket=bucket, Key=key, Body=b'{"a": %d}\n' % i)["ETag"].strip('"')
        b.state.track_file(day, key, bucket, 9, etag)
    (mid,) = b.flush(max_wait_s=0)["manifests"]
    return b, mid


def test_an_execution_stopped_by_hand_is_recorded_failed_and_redriven(project, pipeline):
    day = "2026-01-07"
    b, mid = _landed_manifest(project, pipeline, day, converter_run_limit_s=3600.0)
    state: State = b.state
    item = _item(state, day, mid)
    assert item["status"] == "started"
    sfn = project.target.client("stepfunctions")
    sfn.stop_execution(executionArn=item["execution_arn"], cause="stopped by an operator")
    assert _wait_closed(project, item["execution_arn"]) == "ABORTED"

    # Its converter run may still be going: no redrive until the run limit has passed.
    b.flush(max_wait_s=0)
    item = _item(state, day, mid)
    assert (item["status"], int(item["attempt"])) == ("started", 1)

    b.settings.converter_run_limit_s = 0.0  # the run limit has passed
    result = b.flush(max_wait_s=0)
    assert mid in result["redriven"]
    item = _item(state, day, mid)
    assert (item["status"], int(item["attempt"])) == ("started", 2)
    assert "ABORTED" in item["last_failure"]
    assert _wait_closed(project, item["execution_arn"]) == "SUCCEEDED"
    item = _item(state, day, mid)
    assert item["status"] == "succeeded" and "open_flag" not in item
    assert state.flagged("STARTED") == []


def test_a_lost_mark_succeeded_reply_does_not_fail_the_execution(project, pipeline):
    """MarkSucceeded's update committed and its reply was lost: the retry finds the item already
    succeeded by this very execution, and the execution succeeds. Another execution of the same
    attempt cannot move it (a repeated writer still fails)."""
    day = "2026-01-08"
    b, mid = _landed_manifest(project, pipeline, day)
    state: State = b.state
    item = _item(state, day, mid)
    assert _wait_closed(project, item["execution_arn"]) == "SUCCEEDED"
    item = _item(state, day, mid)
    assert (item["status"], item["succeeded_by"]) == ("succeeded", mid)
    sfn = project.target.client("stepfunctions")
    payload = json.dumps({"manifest_id": mid, "manifest_key": item["manifest_key"], "date_prefix": day,
                          "file_count": 3, "attempt": 1})

    other = sfn.start_execution(stateMachineArn=pipeline.wiring.state_machine_arn(), name=f"{mid}-other",
                                input=payload)["executionArn"]
    assert _wait_closed(project, other) == "FAILED"

    # As if this execution's first MarkSucceeded had committed and its reply been lost.
    replay = f"{mid}-replay"
    state.table.update_item(Key={"date_prefix": day, "file_key": "MANIFEST#" + mid},
                            UpdateExpression="SET succeeded_by = :me", ExpressionAttributeValues={":me": replay})
    arn = sfn.start_execution(stateMachineArn=pipeline.wiring.state_machine_arn(), name=replay,
                              input=payload)["executionArn"]
    assert _wait_closed(project, arn) == "SUCCEEDED"
    assert _item(state, day, mid)["status"] == "succeeded"


def test_recovery_that_finds_the_execution_stopped_waits_out_its_run_before_redriving(project, pipeline):
    """The builder died after StartExecution and the execution was stopped by hand: recovery finds
    it closed ABORTED (StartExecution says it exists), and records the attempt failed only once
    the converter run it may have left can no longer be going."""
    day = "2026-01-09"
    b = builder_for(project, pipeline, open_manifest_grace_s=0.0, converter_run_limit_s=3600.0)
    state: State = b.state
    s3, bucket = project.target.client("s3"), project.names.landing_bucket
    key = f"{day}/dead/0.ndjson"
    etag = s3.put_object(Bucket=bucket, Key=key, Body=b'{"a": 1}\n')["ETag"].strip('"')
    state.track_file(day, key, bucket, 9, etag)
    mid = f"{day}-deadafterstart"
    mkey = f"manifests/date={day}/{mid}.json"
    state.open_manifest(day, mid, mkey)
    assert state.claim(day, key, mid) and state.seal(day, mid, "submit") == "submit"
    files = state.files_of_manifest(day, mid)
    s3.put_object(Bucket=pipeline.wiring.names.output_bucket, Key=mkey,
                  Body=manifests.manifest_document(mid, day, files))
    arn = b._start_workflow(day, mid, mkey, 1)  # ... and the builder dies here
    sfn = project.target.client("stepfunctions")
    sfn.stop_execution(executionArn=arn, cause="stopped by an operator")
    assert _wait_closed(project, arn) == "ABORTED"

    b.flush(max_wait_s=3600)
    assert _item(state, day, mid)["status"] == "claiming"  # its run may still be going: not yet
    b.settings.converter_run_limit_s = 0.0
    result = b.flush(max_wait_s=3600)
    assert mid in result["redriven"]
    item = _item(state, day, mid)
    assert (int(item["attempt"]), item["last_failure"]) == (2, "execution found closed as ABORTED")
    assert _wait_closed(project, item["execution_arn"]) == "SUCCEEDED"
    assert _item(state, day, mid)["status"] == "succeeded"
