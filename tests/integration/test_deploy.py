"""Deploy is idempotent: a second run changes nothing; a changed setting changes only its resource."""

from sim.infra.deploy import Deployer


def test_second_deploy_reports_no_change(project, pipeline):
    changes = Deployer(project.target, pipeline.settings).apply()
    assert changes and all(c.action == "unchanged" for c in changes), [c for c in changes if c.action != "unchanged"]


def test_a_changed_setting_updates_only_what_uses_it(project, pipeline):
    settings = project.settings(batch_size=pipeline.settings.batch_size + 1)
    try:
        changes = Deployer(project.target, settings).apply()
        changed = {(c.kind, c.name) for c in changes if c.action != "unchanged"}
        assert changed == {("lambda-function", project.names.builder_function)}
        env = project.target.client("lambda").get_function_configuration(
            FunctionName=project.names.builder_function)["Environment"]["Variables"]
        assert env["MANIFEST_BATCH_SIZE"] == str(settings.batch_size)
    finally:
        Deployer(project.target, pipeline.settings).apply()


def test_deployed_wiring_matches_the_design(project, pipeline):
    t = project.target
    sqs = t.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=project.names.queue)["QueueUrl"],
                                     AttributeNames=["All"])["Attributes"]
    assert '"maxReceiveCount": 3' in attrs["RedrivePolicy"] or '"maxReceiveCount":3' in attrs["RedrivePolicy"]
    fn = t.client("lambda").get_function_configuration(FunctionName=project.names.builder_function)
    assert int(attrs["VisibilityTimeout"]) >= 6 * fn["Timeout"]
    esm = t.client("lambda").list_event_source_mappings(FunctionName=project.names.builder_function)
    (mapping,) = esm["EventSourceMappings"]
    assert mapping["BatchSize"] == 10 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarms = t.client("cloudwatch").describe_alarms(AlarmNamePrefix=project.names.prefix)["MetricAlarms"]
    assert len(alarms) == 3 and all(a["AlarmActions"] == [pipeline.wiring.topic_arn()] for a in alarms)
    note = t.client("s3").get_bucket_notification_configuration(Bucket=project.names.landing_bucket)
    assert note["QueueConfigurations"][0]["QueueArn"].endswith(":" + project.names.queue)
