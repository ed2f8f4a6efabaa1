"""lambda-failure-dlq: a poison message reaches the source queue's DLQ; the plan's Lambda DLQ gets nothing."""

import json
import time

from sim.infra.spec import MAX_RECEIVE_COUNT

NAME = "lambda-failure-dlq"
ORDER = 3
DESCRIPTION = ("a poison message is retried maxReceiveCount times and lands in the source queue's DLQ, good "
               "records of its batch are not held back, the DLQ alarm reaches SNS; a DeadLetterConfig on the "
               "Lambda (the plan's item 5) receives nothing for SQS-triggered failures")
GOOD = 9
POISON = "this message is not an S3 event notification"


def run(ctx):
    deployer = ctx.fresh()
    t = ctx.target
    sqs, lam, cw = t.client("sqs"), t.client("lambda"), t.client("cloudwatch")
    url, dlq_url = ctx.queue_url(), ctx.queue_url(ctx.names.dlq)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    inbox = ctx.inbox()
    cw.set_alarm_state(AlarmName=ctx.names.alarm("dlq-not-empty"), StateValue="OK", StateReason="scenario start")
    # The plan's item 5: a dead-letter queue configured on the function itself.
    plan_dlq_url = sqs.create_queue(QueueName=f"{ctx.names.prefix}-plan-lambda-dlq")["QueueUrl"]
    plan_dlq_arn = sqs.get_queue_attributes(QueueUrl=plan_dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = ctx.names.builder_function
    lam.update_function_configuration(FunctionName=fn, DeadLetterConfig={"TargetArn": plan_dlq_arn})
    try:
        up = ctx.land_generated(GOOD, size=2048, seed=31)
        entries = [{"Id": "poison", "MessageBody": POISON}]
        entries += [{"Id": f"good{i}", "MessageBody": ctx.s3_event_body(k)} for i, k in enumerate(up.keys)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # one batch of ten: the poison among good ones
        started = time.monotonic()

        def in_dlq():
            msgs = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                       AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=1).get("Messages", [])
            return msgs or None

        dlq_msgs = ctx.until(in_dlq, timeout=60, what="the poison message in the DLQ")
        to_dlq_s = time.monotonic() - started
        ctx.wait(GOOD, stall_timeout_s=60)
        v = ctx.validate()

        alarm_msg = ctx.await_alarm(inbox, ctx.names.alarm("dlq-not-empty"))
        sqs_failures_in_plan_dlq = int(sqs.get_queue_attributes(
            QueueUrl=plan_dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
        # Contrast: the same function DLQ does receive a failed asynchronous invocation.
        lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"not": "a supported event"}).encode())

        def async_failure_arrived():
            return int(sqs.get_queue_attributes(QueueUrl=plan_dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"]["ApproximateNumberOfMessages"]) > sqs_failures_in_plan_dlq

        try:
            async_seen = bool(ctx.until(async_failure_arrived, timeout=45, every=1))
        except TimeoutError:
            async_seen = False
    finally:
        lam.update_function_configuration(FunctionName=fn, DeadLetterConfig={})
        sqs.delete_queue(QueueUrl=plan_dlq_url)
    bodies = [m["Body"] for m in dlq_msgs]
    # The count read in the DLQ includes this scenario's own read of it.
    receives = [int(m["Attributes"].get("ApproximateReceiveCount", 0)) - 1 for m in dlq_msgs]
    evidence = {
        "dlq_messages": len(dlq_msgs),
        "dlq_holds_the_poison": bodies == [POISON],
        "receives_before_redrive": receives,
        "max_receive_count": MAX_RECEIVE_COUNT,
        "seconds_to_dlq": round(to_dlq_s, 2),
        "good_records_generated": up.records,
        "good_records_converted": v["records_out"],
        "validation_pass": v["pass"],
        "dlq_alarm": {"name": alarm_msg.get("AlarmName"), "state": alarm_msg.get("NewStateValue")},
        "plan_lambda_dlq_messages_from_sqs_failures": sqs_failures_in_plan_dlq,
        "plan_lambda_dlq_receives_async_failures": async_seen,
        "wiring_redrive_policy": deployer.wiring.queue_attributes()["RedrivePolicy"],
    }
    findings = []
    if len(bodies) > 1:
        findings.append(f"{len(bodies) - 1} good notifications went to the DLQ beside the poison message: the builder "
                        "fails its whole batch for one bad message (no ReportBatchItemFailures answer)")
    if sqs_failures_in_plan_dlq == 0:
        findings.append("the plan's item 5 (dead_letter_config on the Lambda) received 0 messages for a failed "
                        "SQS-triggered invocation" + (" while it did receive a failed asynchronous invocation"
                                                       if async_seen else "")
                        + ": the DLQ belongs on the source queue's redrive policy, as deployed here")
    passed = (bodies == [POISON] and receives == [MAX_RECEIVE_COUNT] and v["records_out"] == up.records
              and alarm_msg.get("NewStateValue") == "ALARM" and sqs_failures_in_plan_dlq == 0
              and not [p for p in v["problems"] if "DLQ" not in p])
    return ctx.verdict(passed, evidence, findings)
