"""A conversion that fails is never silent: the MANIFEST item is marked failed, the workflow
fails, the alerts topic gets a message that names the manifest, and validation fails."""

import json

from sim.validate.run import validate

from .conftest import manifest_items, wait_until


def test_bad_record_fails_the_manifest_and_alerts(project, pipeline, watcher):
    t = project.target
    sqs, sns = t.client("sqs"), t.client("sns")
    inbox = sqs.create_queue(QueueName="test-alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=pipeline.wiring.topic_arn(), Protocol="sqs", Endpoint=inbox_arn,
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    try:
        s3 = t.client("s3")
        s3.put_object(Bucket=project.names.landing_bucket, Key="bad/2026-11-28/ok.ndjson", Body=b'{"a": 1}\n')
        s3.put_object(Bucket=project.names.landing_bucket, Key="bad/2026-11-28/broken.ndjson",
                      Body=b'{"a": 2}\n{"a": SIMCANARY-not-json\n')
        watcher.wait(2, stall_timeout_s=120)

        (item,) = manifest_items(project)
        assert item["status"]["S"] == "failed"
        assert "Glue job run ended FAILED" in item["failure"]["S"]
        execution = t.client("stepfunctions").describe_execution(executionArn=item["execution_arn"]["S"])
        assert execution["status"] == "FAILED"

        def alert():
            msgs = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages", [])
            return msgs[0]["Body"] if msgs else None

        body = wait_until(alert, timeout=30)
        assert item["manifest_id"]["S"] in body and "SIMCANARY" not in body

        verdict = validate(t, project.names, project.cache_dir())
        assert not verdict["pass"] and verdict["manifests_failed"] == 1 and verdict["missing"] == 3
        assert any("failed manifests" in p for p in verdict["problems"])
        assert json.dumps(verdict).count("SIMCANARY") == 0
    finally:
        sns.unsubscribe(SubscriptionArn=sub)
        sqs.delete_queue(QueueUrl=inbox)
