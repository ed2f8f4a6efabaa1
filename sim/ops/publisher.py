"""Publish the CloudWatch metrics a local engine does not emit itself, so alarms can fire.

MiniStack emits no AWS/SQS metrics and no AWS/States ExecutionsFailed, and evaluates alarms only
when metric data arrives. This publisher reads queue depths and failed executions and puts them
as the AWS namespaces' metrics, with the dimensions the alarms use. On AWS (and LocalStack, which
emits SQS metrics) it is not needed.
"""

from __future__ import annotations

from sim.infra.spec import Wiring


class MetricsPublisher:
    def __init__(self, target, wiring: Wiring):
        self.wiring = wiring
        self.cw = target.client("cloudwatch")
        self.sqs = target.client("sqs")
        self.sfn = target.client("stepfunctions")
        self.queues = {name: self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
                       for name in (wiring.names.queue, wiring.names.dlq)}
        self.seen_failed: set[str] = set()
        # LocalStack and AWS emit SQS metrics themselves; only an engine without them needs ours.
        self.publish_sqs = not target.profile.native_sqs_metrics

    def tick(self) -> dict:
        """One round: queue depths and newly failed executions; returns what was published."""
        published = {}
        sqs_data = []
        for name, url in self.queues.items() if self.publish_sqs else ():
            depth = int(self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
            published[f"sqs:{name}"] = depth
            sqs_data.append({"MetricName": "ApproximateNumberOfMessagesVisible", "Value": depth, "Unit": "Count",
                             "Dimensions": [{"Name": "QueueName", "Value": name}]})
        if sqs_data:
            self.cw.put_metric_data(Namespace="AWS/SQS", MetricData=sqs_data)
        arn = self.wiring.state_machine_arn()
        try:
            failed = {e["executionArn"] for page in self.sfn.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter="FAILED") for e in page["executions"]}
        except self.sfn.exceptions.StateMachineDoesNotExist:
            failed = set()
        new = failed - self.seen_failed
        self.seen_failed |= failed
        published["states:ExecutionsFailed"] = len(new)
        self.cw.put_metric_data(Namespace="AWS/States", MetricData=[
            {"MetricName": "ExecutionsFailed", "Value": len(new), "Unit": "Count",
             "Dimensions": [{"Name": "StateMachineArn", "Value": arn}]}])
        return published
