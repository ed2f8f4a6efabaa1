"""The landing queue and what feeds and drains it: the DLQ on the queue's redrive policy, its
maxReceiveCount and retention, the visibility timeout against the builder's timeout, the event source
mapping with partial batch responses, the landing bucket's notification with the queue policy that lets
only S3 send, and the schedule that flushes partial batches. From plan Phase 1 item 5 (the DLQ, corrected:
on the queue, since Lambda never dead-letters SQS events) and DESIGN.md (S3 -> SQS -> builder, partial
batches flushed by time): a file that keeps failing must reach the DLQ, never vanish or wait forever.
"""

from __future__ import annotations

from sim.check.rules.base import (DEPLOY_FIX, NA, Gap, Snapshot, _as_list, _builder, _days, _doc, _Findings, _int,
                                  check)
from sim.infra.spec import DLQ_RETENTION_S, VISIBILITY_MULTIPLE

# AWS advises maxReceiveCount >= 5 on a queue that feeds Lambda, so throttled batches do not dead-letter.
ADVISED_MAX_RECEIVE = 5


def _landing_mapping(snap: Snapshot, mappings: list) -> dict | None:
    w = snap.wiring
    want_fn = w.function_arn(snap.names.builder_function)
    for m in mappings:
        fn = m.get("FunctionArn", "")
        if m.get("EventSourceArn") == w.queue_arn(snap.names.queue) and (fn == want_fn or fn.startswith(want_fn + ":")):
            return m
    return None


def _redrive(attrs: dict) -> dict | None:
    raw = attrs.get("RedrivePolicy")
    if not raw:
        return None
    try:
        return _doc(raw)
    except ValueError:
        return {"unparsable": raw}


@check("dlq-redrive", "The landing queue dead-letters to the DLQ (redrive policy, not a Lambda DLQ)",
       "plan Phase 1 item 5, corrected: AWS uses a function's dead_letter_config only for asynchronous "
       "invocations, never for SQS-triggered ones; the DLQ belongs on the source queue's redrive policy")
def dlq_redrive(snap: Snapshot):
    f, n, w = _Findings(), snap.names, snap.wiring
    fix = (f"set RedrivePolicy {{deadLetterTargetArn: {w.queue_arn(n.dlq)}, maxReceiveCount: N}} on {n.queue}; "
           + DEPLOY_FIX)
    queue = f.value(snap.queues.get(n.queue, Gap("missing", f"queue {n.queue}")))
    f.value(snap.queues.get(n.dlq, Gap("missing", f"queue {n.dlq}")))
    passed = ""
    if queue is not None:
        policy = _redrive(queue)
        if policy is None:
            f.problem(f"{n.queue} has no redrive policy: an event that keeps failing is retried until the queue's "
                      "retention drops it, silently", fix)
        elif "unparsable" in policy:
            f.problem(f"{n.queue} has a RedrivePolicy that is not JSON: {policy['unparsable']!r}", fix)
        elif policy.get("deadLetterTargetArn") != w.queue_arn(n.dlq):
            f.problem(f"{n.queue} dead-letters to {policy.get('deadLetterTargetArn')}, not {w.queue_arn(n.dlq)}", fix)
        else:
            passed = f"{n.queue} dead-letters to {n.dlq} after {policy.get('maxReceiveCount')} receives"
    builder = _builder(snap)
    if not isinstance(builder, Gap):
        target = (builder.get("DeadLetterConfig") or {}).get("TargetArn")
        if target:
            f.note(f"the builder also has a function DLQ ({target}): Lambda writes to it only for asynchronous "
                   "invocations (the flush schedule, which repeats every minute anyway), never for SQS events")
        else:
            f.note("the builder has no function DLQ (plan item 5's dead_letter_config would never see an SQS event)")
    return f.result(passed)


@check("dlq-max-receive-count", "maxReceiveCount retries a failing event, and dead-letters it before it expires",
       "plan Phase 1 item 5; SQS docs (never 1); AWS Knowledge Center 'lambda-retrying-valid-sqs-messages' "
       "(at least 5 for a Lambda event source)")
def dlq_max_receive_count(snap: Snapshot):
    f, n = _Findings(), snap.names
    queue = f.value(snap.queues.get(n.queue, Gap("missing", f"queue {n.queue}")))
    if queue is None:
        return f.result("")
    policy = _redrive(queue)
    if not policy or "unparsable" in policy:
        return NA, "no usable redrive policy on the landing queue (see dlq-redrive)", ""
    count = _int(policy.get("maxReceiveCount"))
    visibility = _int(queue.get("VisibilityTimeout"), 30)
    retention = _int(queue.get("MessageRetentionPeriod"), 345600)
    fix = f"set maxReceiveCount to {ADVISED_MAX_RECEIVE} (MAX_RECEIVE_COUNT in sim/infra/spec.py), then `sim deploy`"
    if count < 2:
        f.problem(f"maxReceiveCount {count}: one lost receive (a timeout, a throttled batch) dead-letters a file with "
                  "no retry; SQS advises against 1", fix)
    elif count * visibility > retention:
        f.problem(f"maxReceiveCount {count} x visibility timeout {visibility} s = {count * visibility} s is longer "
                  f"than the queue keeps a message ({retention} s): a failing event expires before it reaches "
                  "the DLQ, silently", fix)
    elif count < ADVISED_MAX_RECEIVE:
        f.warn(f"maxReceiveCount {count}: AWS advises at least {ADVISED_MAX_RECEIVE} on a queue feeding Lambda, so "
               "that batches returned while the function is throttled do not reach the DLQ (a file there is not "
               "lost: the DLQ alarm fires and it can be redriven)", fix)
    return f.result(f"maxReceiveCount {count}: {count} attempts over at least {count * visibility} s, "
                    f"within the queue's {_days(retention)} retention")


@check("dlq-retention", "The DLQ keeps messages 14 days, longer than the landing queue",
       "plan Phase 1 item 5 (message_retention_seconds = 1209600); SQS docs: a standard queue keeps the original "
       "enqueue time, so the DLQ must retain longer than its source")
def dlq_retention(snap: Snapshot):
    f, n = _Findings(), snap.names
    fix = f"set MessageRetentionPeriod {DLQ_RETENTION_S} on {n.dlq}; {DEPLOY_FIX}"
    dlq = f.value(snap.queues.get(n.dlq, Gap("missing", f"queue {n.dlq}")))
    queue = snap.queues.get(n.queue)
    if dlq is None:
        return f.result("")
    kept = _int(dlq.get("MessageRetentionPeriod"), 345600)
    if kept < DLQ_RETENTION_S:
        f.problem(f"{n.dlq} keeps messages {_days(kept)}, not 14", fix)
    if isinstance(queue, dict):
        source = _int(queue.get("MessageRetentionPeriod"), 345600)
        if source >= kept:
            f.problem(f"{n.dlq} keeps messages {_days(kept)}, no longer than {n.queue} ({_days(source)}): a message "
                      "that aged in the source queue expires early in the DLQ", fix)
        else:
            f.note(f"{n.queue} keeps {_days(source)}")
    return f.result(f"{n.dlq} keeps messages {_days(kept)}")


@check("visibility-timeout", "The landing queue's visibility timeout is at least 6x the builder's timeout",
       "AWS Lambda docs for SQS event sources (six times the function timeout, plus the batching window); "
       "DESIGN.md")
def visibility_timeout(snap: Snapshot):
    f, n = _Findings(), snap.names
    queue = f.value(snap.queues.get(n.queue, Gap("missing", f"queue {n.queue}")))
    builder = f.value(_builder(snap))
    if queue is None or builder is None:
        return f.result("")
    timeout = _int(builder.get("Timeout"), 3)
    window = 0
    mappings = snap.event_source_mappings
    if isinstance(mappings, list):
        mapping = _landing_mapping(snap, mappings)
        window = _int((mapping or {}).get("MaximumBatchingWindowInSeconds"), 0)
    need = VISIBILITY_MULTIPLE * timeout + window
    have = _int(queue.get("VisibilityTimeout"), 30)
    if have < need:
        f.problem(f"visibility timeout {have} s < {VISIBILITY_MULTIPLE} x builder timeout {timeout} s"
                  + (f" + batching window {window} s" if window else "") + f" = {need} s: a batch still being "
                  "retried after a throttle becomes visible again and is processed twice",
                  f"set VisibilityTimeout >= {need} on {n.queue}; {DEPLOY_FIX}")
    return f.result(f"visibility timeout {have} s >= {VISIBILITY_MULTIPLE} x {timeout} s"
                    + (f" + {window} s window" if window else ""))


@check("event-source-mapping", "The queue feeds the builder with partial batch responses (ReportBatchItemFailures)",
       "AWS Lambda docs (partial batch responses); plan Phase 1 items 1 and 5: a retry re-sends only the failed "
       "events, so one bad file does not drag a whole batch to the DLQ")
def event_source_mapping(snap: Snapshot):
    f, n = _Findings(), snap.names
    mappings = f.value(snap.event_source_mappings)
    if mappings is None:
        return f.result("")
    mapping = _landing_mapping(snap, mappings)
    if mapping is None:
        f.problem(f"no event source mapping from {n.queue} to {n.builder_function}: nothing drains the queue",
                  DEPLOY_FIX)
        return f.result("")
    state = mapping.get("State", "Enabled")
    if state not in ("Enabled", "Enabling", "Creating", "Updating"):
        f.problem(f"the mapping is {state}: the queue is not drained",
                  f"aws lambda update-event-source-mapping --uuid {mapping.get('UUID')} --enabled; {DEPLOY_FIX}")
    if "ReportBatchItemFailures" not in (mapping.get("FunctionResponseTypes") or []):
        f.problem("the mapping lacks FunctionResponseTypes [ReportBatchItemFailures]: the builder's "
                  "batchItemFailures are ignored, one failing event retries the whole batch and its good events "
                  "reach the DLQ with it", f"set FunctionResponseTypes=[ReportBatchItemFailures]; {DEPLOY_FIX}")
    others = [m.get("FunctionArn") for m in mappings if m is not mapping]
    if others:
        f.note(f"the queue also feeds {', '.join(map(str, others))}")
    return f.result(f"{state}, batch size {mapping.get('BatchSize')}, window "
                    f"{mapping.get('MaximumBatchingWindowInSeconds', 0)} s, ReportBatchItemFailures")


@check("landing-notification", "The landing bucket notifies the queue of every new object, and only S3 may send",
       "DESIGN.md (S3 ObjectCreated -> SQS); the queue policy allows s3.amazonaws.com for the landing bucket alone")
def landing_notification(snap: Snapshot):
    f, n, w = _Findings(), snap.names, snap.wiring
    config = f.value(snap.notification)
    queue = f.value(snap.queues.get(n.queue, Gap("missing", f"queue {n.queue}")))
    if config is not None:
        wanted = [q for q in config.get("QueueConfigurations", []) if q.get("QueueArn") == w.queue_arn(n.queue)]
        created = {"s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
                   "s3:ObjectCreated:CompleteMultipartUpload"}
        covering = [q for q in wanted if "s3:ObjectCreated:*" in q.get("Events", []) or created <= set(q.get("Events", []))]
        if not covering:
            f.problem(f"{n.landing_bucket} does not send every s3:ObjectCreated event to {n.queue}: landed files "
                      "would never be tracked", DEPLOY_FIX)
    if queue is not None:
        try:
            policy = _doc(queue.get("Policy") or {})
        except ValueError:
            policy = {}
            f.problem(f"{n.queue}'s policy is not JSON", DEPLOY_FIX)
        s3_allowed, open_statements = False, []
        for st in _as_list(policy.get("Statement")):
            if st.get("Effect") != "Allow":
                continue
            principal = st.get("Principal")
            services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
            anyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
            if anyone and not st.get("Condition"):
                open_statements.append(st.get("Sid") or "(no Sid)")
            actions = [a.lower() for a in _as_list(st.get("Action"))]
            source_arns = [v for cond in (st.get("Condition") or {}).values() if isinstance(cond, dict)
                           for k, vals in cond.items() if k.lower() == "aws:sourcearn" for v in _as_list(vals)]
            if ("s3.amazonaws.com" in services and ("sqs:sendmessage" in actions or "sqs:*" in actions)
                    and w.bucket_arn(n.landing_bucket) in source_arns):
                s3_allowed = True
        if not s3_allowed:
            f.problem(f"{n.queue}'s policy does not let s3.amazonaws.com send for {n.landing_bucket} "
                      "(aws:SourceArn): on AWS, S3 cannot deliver the events", DEPLOY_FIX)
        if open_statements:
            f.problem(f"{n.queue}'s policy lets anyone send, unconditionally (statement {', '.join(open_statements)})",
                      f"remove those statements from {n.queue}'s policy; {DEPLOY_FIX}")
    return f.result(f"{n.landing_bucket} -> {n.queue} on s3:ObjectCreated:*, queue policy scoped to the bucket")


@check("flush-schedule", "A schedule flushes partial batches (a quiet day's tail is not stranded)",
       "DESIGN.md correctness rule 1 (partial batches are flushed by time)")
def flush_schedule(snap: Snapshot):
    f, n, w = _Findings(), snap.names, snap.wiring
    rule = f.value(snap.flush_rule)
    builder_arn = w.function_arn(n.builder_function)
    if rule is not None:
        if rule.get("State") != "ENABLED":
            f.problem(f"rule {n.flush_rule} is {rule.get('State')}: partial batches wait for more files forever",
                      DEPLOY_FIX)
        if not rule.get("ScheduleExpression"):
            f.problem(f"rule {n.flush_rule} has no schedule expression", DEPLOY_FIX)
        targets_ = f.value(snap.flush_targets)
        if targets_ is not None and not any(t.get("Arn", "") == builder_arn or t.get("Arn", "").startswith(builder_arn + ":")
                                            for t in targets_):
            f.problem(f"rule {n.flush_rule} does not target {n.builder_function}", DEPLOY_FIX)
    policy = snap.builder_resource_policy
    if isinstance(policy, Gap):
        f.value(policy)
    else:
        allowed = False
        for st in _as_list((policy or {}).get("Statement")):
            principal = st.get("Principal")
            services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if st.get("Effect") == "Allow" and "events.amazonaws.com" in services and \
                    "lambda:invokefunction" in [a.lower() for a in _as_list(st.get("Action"))]:
                allowed = True
        if not allowed:
            f.problem(f"{n.builder_function}'s resource policy does not let events.amazonaws.com invoke it: on AWS "
                      "the schedule fires and nothing runs", DEPLOY_FIX)
    return f.result(f"{n.flush_rule} ({(rule or {}).get('ScheduleExpression')}) invokes {n.builder_function}")
