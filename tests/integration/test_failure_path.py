"""Bad lines cost only themselves; a conversion that fails is never silent."""

import json

from sim import inject
from sim.infra.deploy import Deployer
from sim.validate.run import validate

from .conftest import BATCH, dumps, manifest_items, wait_until


def test_bad_lines_are_quarantined_with_reasons_and_the_rest_converted(project, pipeline, watcher):
    t = project.target
    s3 = t.client("s3")
    files = {
        "bad/2026-11-28/mixed.ndjson": b'{"a": 1}\n{"a": SIMCANARY-not-json\n[1, 2]\n{"a": "\xff"}\n{"a": 5}\n',
        "bad/2026-11-28/empty.ndjson": b"",
        "bad/2026-11-28/blank.jsonl": b"\n\n",
        "bad/2026-11-28/long.ndjson": b'{"big": "' + b"x" * (11 * 1024 * 1024) + b'"}\n{"a": 2}\n',
    }
    for key, body in files.items():
        s3.put_object(Bucket=project.names.landing_bucket, Key=key, Body=body)
    # Deleted after landing, before conversion: the whole file is quarantined as gone.
    s3.put_object(Bucket=project.names.landing_bucket, Key="bad/2026-11-28/gone.ndjson", Body=b'{"a": 1}\n')
    s3.delete_object(Bucket=project.names.landing_bucket, Key="bad/2026-11-28/gone.ndjson")
    watcher.wait(len(files) + 1, stall_timeout_s=120)

    verdict = validate(t, project.names, project.cache_dir())
    assert verdict["pass"], dumps(verdict)
    assert verdict["records_in"] == 7 and verdict["records_out"] == 4 and verdict["quarantined"] == 3
    assert verdict["quarantined_files"] == 1
    (q_obj,) = s3.list_objects_v2(Bucket=project.names.output_bucket, Prefix="quarantine/")["Contents"]
    entries = [json.loads(line) for line in
               s3.get_object(Bucket=project.names.output_bucket, Key=q_obj["Key"])["Body"].read().splitlines()]
    got = sorted((e["source_key"].rsplit("/", 1)[-1], e["line"], e["reason"]) for e in entries)
    assert got == sorted([("mixed.ndjson", 2, "invalid JSON"), ("mixed.ndjson", 3, "a JSON array, not an object"),
                          ("mixed.ndjson", 4, "invalid UTF-8"),
                          ("gone.ndjson", None, "object deleted before conversion")])
    (item,) = manifest_items(project)
    assert item["status"]["S"] == "succeeded"
    assert (item["quarantined"]["N"], item["quarantined_files"]["N"]) == ("3", "1")


def test_a_failed_conversion_marks_the_manifest_failed_and_alerts(project, pipeline, watcher):
    t = project.target
    # Both runs of the one attempt fail (the workflow retries a failed run once; no automatic redrive):
    # the converter process is killed after its script ends.
    faults = inject.faults_json(project.workdir / "faults", [
        {"process": "converter", "action": "kill", "when": "exit", "times": 2}])
    Deployer(t, project.settings(batch_size=BATCH, faults=faults, conversion_max_runs=2,
                                 conversion_retry_wait_s=1, max_attempts=1)).apply()
    sqs, sns = t.client("sqs"), t.client("sns")
    inbox = sqs.create_queue(QueueName="test-alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=pipeline.wiring.topic_arn(), Protocol="sqs", Endpoint=inbox_arn,
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    try:
        t.client("s3").put_object(Bucket=project.names.landing_bucket, Key="fail/2026-11-28/a.ndjson",
                                  Body=b'{"a": 1}\n{"a": 2}\n')
        watcher.wait(1, stall_timeout_s=120)
        (item,) = manifest_items(project)
        assert item["status"]["S"] == "failed"
        assert "Glue job run ended FAILED" in item["failure"]["S"]
        execution = t.client("stepfunctions").describe_execution(executionArn=item["execution_arn"]["S"])
        assert execution["status"] == "FAILED"

        def alert():
            msgs = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages", [])
            return msgs[0]["Body"] if msgs else None

        assert item["manifest_id"]["S"] in wait_until(alert, timeout=30)
        verdict = validate(t, project.names, project.cache_dir())
        assert not verdict["pass"] and verdict["manifests_failed"] == 1
        assert any("failed manifests" in p for p in verdict["problems"])
    finally:
        sns.unsubscribe(SubscriptionArn=sub)
        sqs.delete_queue(QueueUrl=inbox)
        Deployer(t, pipeline.settings).apply()
