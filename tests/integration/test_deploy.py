"""Deploy is idempotent: a second run changes nothing; a changed setting changes only its resource."""

import json

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


def test_an_argument_the_spec_dropped_leaves_the_glue_job(project, pipeline):
    glue = project.target.client("glue")
    name = project.names.glue_job
    job = glue.get_job(JobName=name)["Job"]
    update = {k: job[k] for k in ("Role", "Command", "DefaultArguments") if k in job}
    update["DefaultArguments"] = {**job["DefaultArguments"], "--SIM_LEFT_OVER": "1"}  # as if a setting had set it
    glue.update_job(JobName=name, JobUpdate=update)
    assert "--SIM_LEFT_OVER" in glue.get_job(JobName=name)["Job"]["DefaultArguments"]
    changes = Deployer(project.target, pipeline.settings).apply()
    assert [(c.kind, c.action) for c in changes if c.action != "unchanged"] == [("glue-job", "updated")]
    assert glue.get_job(JobName=name)["Job"]["DefaultArguments"] == pipeline.wiring.glue_job()["DefaultArguments"]


def test_deployed_wiring_matches_the_design(project, pipeline):
    t = project.target
    sqs = t.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=project.names.queue)["QueueUrl"],
                                     AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] in (5, "5")
    fn = t.client("lambda").get_function_configuration(FunctionName=project.names.builder_function)
    assert int(attrs["VisibilityTimeout"]) >= 6 * fn["Timeout"]
    esm = t.client("lambda").list_event_source_mappings(FunctionName=project.names.builder_function)
    (mapping,) = esm["EventSourceMappings"]
    assert mapping["BatchSize"] == 10 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarms = t.client("cloudwatch").describe_alarms(AlarmNamePrefix=project.names.prefix)["MetricAlarms"]
    assert len(alarms) == 6 and all(a["AlarmActions"] == [pipeline.wiring.topic_arn()] for a in alarms)
    note = t.client("s3").get_bucket_notification_configuration(Bucket=project.names.landing_bucket)
    assert note["QueueConfigurations"][0]["QueueArn"].endswith(":" + project.names.queue)


def test_everything_that_holds_data_is_encrypted_at_rest_and_a_deploy_restores_it(project, pipeline):
    t, n = project.target, project.names
    s3, sqs = t.client("s3"), t.client("sqs")
    for bucket in (n.landing_bucket, n.output_bucket, n.artifacts_bucket):
        (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", bucket
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()), bucket
    for queue in (n.queue, n.dlq):
        attrs = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"],
                                         AttributeNames=["All"])["Attributes"]
        assert attrs["SqsManagedSseEnabled"] == "true", queue
    assert t.client("dynamodb").describe_table(TableName=n.table)["Table"]["SSEDescription"]["Status"] == "ENABLED"
    glue = t.client("glue")
    assert glue.get_job(JobName=n.glue_job)["Job"]["SecurityConfiguration"] == n.glue_security_configuration
    config = glue.get_security_configuration(Name=n.glue_security_configuration)["SecurityConfiguration"]
    assert config["EncryptionConfiguration"]["S3Encryption"] == [{"S3EncryptionMode": "SSE-S3"}]

    # (a deleted configuration reads back as SSE-S3, as on AWS since 2023: change it instead)
    s3.put_bucket_encryption(Bucket=n.output_bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    changes = Deployer(project.target, pipeline.settings).apply()
    assert [(c.kind, c.name, c.detail) for c in changes if c.action == "updated"] == [
        ("s3-bucket", n.output_bucket, "encryption")]
    (rule,) = s3.get_bucket_encryption(Bucket=n.output_bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_the_output_bucket_aborts_incomplete_multipart_uploads_and_a_deploy_restores_the_rule(project, pipeline):
    t, n = project.target, project.names
    s3 = t.client("s3")
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=n.output_bucket)["Rules"]
    assert (rule["Status"], rule["AbortIncompleteMultipartUpload"]) == ("Enabled", {"DaysAfterInitiation": 1})
    assert rule["Filter"] == {"Prefix": ""}  # every key the converter writes

    # An owner's own rule is kept; ours, removed by hand, comes back.
    theirs = {"ID": "expire-scratch", "Status": "Enabled", "Filter": {"Prefix": "scratch/"},
              "Expiration": {"Days": 7}}
    s3.put_bucket_lifecycle_configuration(Bucket=n.output_bucket, LifecycleConfiguration={"Rules": [theirs]})
    changes = Deployer(project.target, pipeline.settings).apply()
    assert [(c.kind, c.name, c.detail) for c in changes if c.action == "updated"] == [
        ("s3-bucket", n.output_bucket, "lifecycle")]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=n.output_bucket)["Rules"]}
    assert set(rules) == {"expire-scratch", "abort-incomplete-multipart-uploads"}
    assert not [c for c in Deployer(project.target, pipeline.settings).apply() if c.action != "unchanged"]


def test_a_deploy_takes_back_whatever_widened_a_role(project, pipeline):
    iam, role = project.target.client("iam"), project.names.builder_role
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="debugging", PolicyDocument=json.dumps(wide))
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    changes = Deployer(project.target, pipeline.settings).apply()
    (change,) = [c for c in changes if c.action != "unchanged"]
    assert (change.kind, change.name) == ("iam-role", role)
    assert "removed inline debugging" in change.detail and "detached AdministratorAccess" in change.detail
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["pipeline"]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
