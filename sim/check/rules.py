"""The rules of `sim check`, pure: each judges a `Snapshot` of the live resources (read by live.py)
against the desired wiring (`sim.infra.spec.Wiring`) and common practice, and never calls AWS.

A value the engine could not give is a `Gap` in the snapshot. A missing resource fails its check
(`sim deploy` makes it); an API the engine does not implement makes the check not_applicable, with
the engine named as the reason; a read that was denied or broke fails, saying so.

Statuses: pass, fail, warn (advisory: reported, never fails the run), not_applicable (with why).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable
from urllib.parse import unquote

from sim.infra import targets
from sim.infra.spec import DLQ_RETENTION_S, VISIBILITY_MULTIPLE, Wiring

PASS, FAIL, WARN, NA = "pass", "fail", "warn", "not_applicable"
STATUSES = (PASS, FAIL, WARN, NA)

DEPLOY_FIX = "run `sim deploy` (it restores the desired wiring)"
READ_FIX = ("run `sim check` with credentials that may read the pipeline's configuration "
            "(e.g. the SecurityAudit managed policy)")
# Python logging level names the pipeline accepts (sim/pipeline/logs.py falls back to INFO otherwise).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL")
# AWS advises maxReceiveCount >= 5 on a queue that feeds Lambda, so throttled batches do not dead-letter.
ADVISED_MAX_RECEIVE = 5
# Actions whose API takes no resource ARN: "Resource": "*" is the only form. The value is the
# condition key that must then scope the grant (None: the service offers none).
UNSCOPABLE_ACTIONS = {
    "cloudwatch:putmetricdata": "cloudwatch:namespace",
    "xray:puttracesegments": None,
    "xray:puttelemetryrecords": None,
    "xray:getsamplingrules": None,
    "xray:getsamplingtargets": None,
}
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
SECRET_WORDS = ("SECRET", "PASSWORD", "PASSWD", "TOKEN", "PRIVATE", "CREDENTIAL", "API_KEY", "APIKEY")
# What the code calls from inside a VPC, by component (the event source mapping polls SQS from
# Lambda's own network, not from the function's subnets).
VPC_SERVICES = {"builder": ("s3", "dynamodb", "states", "monitoring"),
                "converter": ("s3", "dynamodb", "monitoring"),
                "glue": ("s3", "dynamodb", "monitoring")}


# -- the snapshot ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gap:
    """A value the engine did not give. kind: missing | unsupported | denied | error; `what` names the
    resource, `api` the call that could not read it."""

    kind: str
    what: str
    message: str = ""
    api: str = ""

    def describe(self) -> str:
        call = self.api or "the read"
        if self.kind == "missing":
            return f"{self.what} does not exist"
        if self.kind == "unsupported":
            return f"the engine does not answer {self.api or self.what}" + (f" ({self.message})" if self.message else "")
        if self.kind == "denied":
            return f"{call} on {self.what} was denied: {self.message}"
        return f"{call} on {self.what} failed: {self.message}"


@dataclass
class RoleState:
    role: Any = None       # GetRole's Role (with AssumeRolePolicyDocument), or a Gap
    inline: Any = None     # policy name -> document, or a Gap
    attached: Any = None   # managed policy ARN -> document (or a Gap), or a Gap


@dataclass
class Snapshot:
    """Everything the rules read; each value may be a Gap. Built by live.read, or by hand in tests."""

    wiring: Wiring
    target: str = "ministack"
    emulator: bool = True
    buckets: dict = field(default_factory=dict)        # name -> {"exists", "encryption", "public_access_block"}
    account_public_access_block: Any = None           # dict, None (not set) or a Gap
    notification: Any = None                          # the landing bucket's notification configuration
    queues: dict = field(default_factory=dict)         # name -> attributes
    table: Any = None                                 # DescribeTable's Table
    functions: dict = field(default_factory=dict)      # expected function name -> configuration
    event_source_mappings: Any = None                 # mappings of the landing queue
    glue_job: Any = None                              # GetJob's Job (None: not this target's converter)
    glue_security: Any = None                         # the security configuration the job names (None: none named)
    state_machine: Any = None                         # DescribeStateMachine
    topic: Any = None                                 # GetTopicAttributes' Attributes
    subscriptions: Any = None                         # the topic's subscriptions
    alarms: Any = None                                # metric and composite alarms named with the prefix
    roles: dict = field(default_factory=dict)          # role name -> RoleState
    flush_rule: Any = None                            # DescribeRule
    flush_targets: Any = None                         # the rule's targets
    builder_resource_policy: Any = None               # the builder's resource policy document (None: none)
    vpcs: dict = field(default_factory=dict)           # vpc id -> {"endpoints": [...], "nat_gateways": [...]}
    glue_connection_vpcs: dict = field(default_factory=dict)  # Glue connection name -> vpc id
    code: dict = field(default_factory=dict)           # artifact label -> {"live": digest, "want": digest}

    @property
    def names(self):
        return self.wiring.names

    @property
    def glue_mode(self) -> bool:
        return self.wiring.settings.converter_mode == targets.GLUE

    def expected_functions(self) -> list[str]:
        n = self.names
        return [n.builder_function] + ([] if self.glue_mode else [n.converter_function])


@dataclass
class Result:
    id: str
    title: str
    status: str
    detail: str
    fix: str
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


# -- collecting findings -----------------------------------------------------------------------
class _Findings:
    """What one check found: problems (fail), warnings, notes, and parts the engine cannot answer."""

    def __init__(self):
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.fixes: list[str] = []
        self.unsupported: list[str] = []
        self.checked = False

    def value(self, x, fix: str = DEPLOY_FIX):
        """`x` itself, or None after recording why it is missing."""
        if isinstance(x, Gap):
            if x.kind == "unsupported":
                self.unsupported.append(x.describe())
            else:
                self.problem(x.describe(), fix if x.kind == "missing" else READ_FIX)
            return None
        self.checked = True
        return x

    def problem(self, text: str, fix: str = "") -> None:
        self.problems.append(text)
        self._fix(fix)

    def warn(self, text: str, fix: str = "") -> None:
        self.warnings.append(text)
        self._fix(fix)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def _fix(self, fix: str) -> None:
        if fix and fix not in self.fixes:
            self.fixes.append(fix)

    def result(self, passed: str) -> tuple[str, str, str]:
        tail = self.notes + ([f"not checked: {'; '.join(self.unsupported)}"] if self.unsupported else [])
        if self.problems:
            return FAIL, _join(self.problems + self.warnings + tail), "; ".join(self.fixes)
        if self.warnings:
            return WARN, _join(self.warnings + tail), "; ".join(self.fixes)
        if self.unsupported and not self.checked:
            return NA, _join(self.unsupported + self.notes), ""
        return PASS, _join([passed] + tail), ""


def _join(parts: list[str]) -> str:
    return "; ".join(p for p in parts if p)


# -- registry ----------------------------------------------------------------------------------
CHECKS: list[tuple[str, str, str, Callable[[Snapshot], tuple[str, str, str]]]] = []


def check(check_id: str, title: str, source: str):
    def register(fn):
        CHECKS.append((check_id, title, source, fn))
        return fn

    return register


def evaluate(snap: Snapshot) -> list[Result]:
    results = []
    for check_id, title, source, fn in CHECKS:
        try:
            status, detail, fix = fn(snap)
        except Exception as exc:  # a bug in one rule must not hide the others
            status, detail, fix = FAIL, f"the check itself broke: {type(exc).__name__}: {exc}", "report a bug in sim check"
        results.append(Result(check_id, title, status, detail, fix, source))
    return results


def summary(results: list[Result], target: str = "", endpoint: str | None = None) -> dict:
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    return {"pass": counts[FAIL] == 0, "target": target, "endpoint": endpoint, "counts": counts,
            "checks": [r.as_dict() for r in results]}


# -- helpers -----------------------------------------------------------------------------------
def _as_list(x) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _doc(x) -> dict:
    """A policy document as a dict (IAM may hand it over URL-encoded, SQS as a JSON string)."""
    if isinstance(x, dict):
        return x
    if not x:
        return {}
    text = x if x.lstrip().startswith("{") else unquote(x)
    return json.loads(text)


def _int(x, default: int = 0) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return default


def _days(seconds: int) -> str:
    return f"{seconds / 86400:g} days"


def _builder(snap: Snapshot):
    return snap.functions.get(snap.names.builder_function, Gap("missing", f"function {snap.names.builder_function}"))


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


# -- DLQ and the queue (plan Phase 1 item 5) -----------------------------------------------------
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


# -- alarms and alerts (plan Phase 1 items 5 and 6) ---------------------------------------------
def _project_alarms(snap: Snapshot, alarms: list) -> list[dict]:
    prefix = snap.names.prefix + "-"
    return [a for a in alarms if a.get("AlarmName", "").startswith(prefix)]


def _dims(alarm: dict) -> set:
    return {(d.get("Name"), d.get("Value")) for d in alarm.get("Dimensions") or []}


@check("alarms-expected", "The expected alarms exist and watch the right metrics",
       "plan Phase 1 item 5 (DLQ not empty) and item 6 (Lambda errors, failed conversions); the quarantine and "
       "overwrite alarms make DESIGN.md rule 4 (no silent failure) hold for bad input")
def alarms_expected(snap: Snapshot):
    f = _Findings()
    alarms = f.value(snap.alarms)
    if alarms is None:
        return f.result("")
    live = {a.get("AlarmName"): a for a in alarms}
    wanted = snap.wiring.alarms()
    for want in wanted:
        name = want["AlarmName"]
        have = live.get(name)
        if have is None:
            f.problem(f"alarm {name} does not exist ({want.get('AlarmDescription', '')})", DEPLOY_FIX)
            continue
        differs = []
        for key in ("Namespace", "MetricName", "ComparisonOperator"):
            if have.get(key) != want.get(key):
                differs.append(f"{key} {have.get(key)!r} (want {want.get(key)!r})")
        if _dims(have) != _dims(want):
            differs.append(f"Dimensions {sorted(_dims(have))} (want {sorted(_dims(want))})")
        if have.get("Threshold") is None or abs(float(have["Threshold"]) - float(want["Threshold"])) > 1e-9:
            differs.append(f"Threshold {have.get('Threshold')} (want {want['Threshold']})")
        if differs:
            f.problem(f"alarm {name} watches something else: {', '.join(differs)}", DEPLOY_FIX)
    return f.result(f"{len(wanted)} alarms: {', '.join(a['AlarmName'] for a in wanted)}")


@check("alarm-actions", "Every alarm notifies the alerts topic",
       "plan Phase 1 item 6 (alarm_actions = [alerts topic])")
def alarm_actions(snap: Snapshot):
    f = _Findings()
    alarms = f.value(snap.alarms)
    if alarms is None:
        return f.result("")
    ours = _project_alarms(snap, alarms)
    if not ours:
        return NA, "no alarms of this pipeline exist (see alarms-expected)", ""
    topic = snap.wiring.topic_arn()
    fix = f"put the alarm again with AlarmActions [{topic}] and ActionsEnabled true; {DEPLOY_FIX}"
    for alarm in ours:
        name = alarm.get("AlarmName")
        actions = alarm.get("AlarmActions") or []
        if not actions:
            f.problem(f"{name} has no alarm action: it changes state and tells nobody", fix)
        for action in actions:
            if action != topic:
                f.problem(f"{name} sends to {action}, not the alerts topic", fix)
        if alarm.get("ActionsEnabled") is False:
            f.problem(f"{name} has its actions disabled", fix)
    return f.result(f"{len(ours)} alarms, each with an enabled action on {snap.names.topic} and no other")


@check("alerts-topic", "The alerts topic exists and someone receives it",
       "plan Phase 1 item 6 (SNS topic, e-mail subscription) and its success criterion 'email alerts when errors "
       "occur'")
def alerts_topic(snap: Snapshot):
    f, n = _Findings(), snap.names
    topic = f.value(snap.topic)
    if topic is None:
        return f.result("")
    subs = snap.subscriptions
    if isinstance(subs, Gap):
        f.value(subs)
        return f.result(f"{n.topic} exists")
    confirmed = [s for s in subs or [] if str(s.get("SubscriptionArn", "")).startswith("arn:")]
    pending = [s for s in subs or [] if s not in confirmed]
    if confirmed:
        who = ", ".join(sorted({f"{s.get('Protocol')}:{s.get('Endpoint')}" for s in confirmed}))
        return f.result(f"{n.topic} exists; {len(confirmed)} confirmed subscriber(s): {who}")
    if snap.emulator:
        f.note("no subscriber: on a local engine nobody subscribes (the scenarios subscribe a queue of their own to "
               "read alerts); on AWS this check fails until someone does")
        return f.result(f"{n.topic} exists")
    f.problem(f"{n.topic} has no confirmed subscriber" + (f" ({len(pending)} pending confirmation)" if pending else "")
              + ": alarms reach the topic and nobody", f"aws sns subscribe --topic-arn {snap.wiring.topic_arn()} "
              "--protocol email --notification-endpoint <alert address>, then confirm the e-mail")
    return f.result("")


def _walk_states(node):
    """Every Task-like state of an ASL definition, nested branches and Map iterators included."""
    if isinstance(node, dict):
        if "Resource" in node and "Type" in node:
            yield node
        for value in node.values():
            yield from _walk_states(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_states(value)


@check("workflow", "The workflow runs the converter and alerts the topic when a conversion fails",
       "DESIGN.md correctness rule 4 (a failure is never silent); plan Phase 1 item 6")
def workflow(snap: Snapshot):
    f, n, w = _Findings(), snap.names, snap.wiring
    sm = f.value(snap.state_machine)
    if sm is None:
        return f.result("")
    try:
        definition = json.loads(sm.get("definition") or "{}")
    except ValueError:
        f.problem("the state machine's definition is not JSON", DEPLOY_FIX)
        return f.result("")
    tasks = list(_walk_states(definition))
    alerts = [t for t in tasks if t.get("Resource", "").startswith("arn:aws:states:::sns:publish")
              and (t.get("Parameters") or {}).get("TopicArn") == w.topic_arn()]
    if not alerts:
        f.problem(f"no state publishes to {n.topic}: a failed conversion only shows as a failed execution",
                  DEPLOY_FIX)
    if snap.glue_mode:
        runs = [t for t in tasks if "glue:startJobRun" in t.get("Resource", "")
                and (t.get("Parameters") or {}).get("JobName") == n.glue_job]
        converter = f"Glue job {n.glue_job}"
    else:
        arn = w.function_arn(n.converter_function)
        runs = [t for t in tasks if t.get("Resource") == arn or (
            t.get("Resource", "").startswith("arn:aws:states:::lambda:invoke")
            and (t.get("Parameters") or {}).get("FunctionName") in (arn, n.converter_function))]
        converter = f"function {n.converter_function}"
    if not runs:
        f.problem(f"no state runs the {converter}", DEPLOY_FIX)
    return f.result(f"{n.state_machine} runs the {converter} and publishes failures to {n.topic}")


# -- logging (plan Phase 1 item 3) ----------------------------------------------------------------
@check("log-level", "LOG_LEVEL is set on every function and on the Glue job",
       "plan Phase 1 item 3 (LOG_LEVEL: INFO in production, DEBUG elsewhere)")
def log_level(snap: Snapshot):
    f, n = _Findings(), snap.names
    seen, environment = [], ""

    def judge(where: str, level, fix: str) -> None:
        if not level:
            f.problem(f"{where} has no LOG_LEVEL: the level cannot be changed per environment", fix)
        elif str(level).upper() not in LOG_LEVELS:
            f.problem(f"{where} has LOG_LEVEL={level!r}, not a level name: the code falls back to INFO", fix)
        else:
            seen.append(f"{where} {level}")

    for name in snap.expected_functions():
        config = f.value(snap.functions.get(name, Gap("missing", f"function {name}")))
        if config is None:
            continue
        env = (config.get("Environment") or {}).get("Variables") or {}
        environment = environment or env.get("ENVIRONMENT", "")
        judge(name, env.get("LOG_LEVEL"), f"set LOG_LEVEL on {name}; {DEPLOY_FIX}")
    if snap.glue_mode:
        job = f.value(snap.glue_job if snap.glue_job is not None else Gap("missing", f"Glue job {n.glue_job}"))
        if job is not None:
            judge(f"job {n.glue_job} (--LOG_LEVEL)", (job.get("DefaultArguments") or {}).get("--LOG_LEVEL"),
                  f"set the default argument --LOG_LEVEL on {n.glue_job}; {DEPLOY_FIX}")
    if environment == "production" and any(s.upper().endswith(" DEBUG") for s in seen):
        f.warn("DEBUG in production: the plan sets INFO there (the pipeline logs counts, keys and ids at any level, "
               "but DEBUG multiplies the log volume CloudWatch bills)",
               "`sim deploy --log-level INFO` (or drop the override)")
    return f.result(", ".join(seen) + (f" (ENVIRONMENT={environment})" if environment else ""))


# -- encryption at rest (plan Phase 2 items 8-12; common practice) -------------------------------
@check("s3-encryption", "Every bucket has default encryption",
       "plan Phase 2 (security items 8-12); common practice (S3 default encryption, SSE-S3 or SSE-KMS)")
def s3_encryption(snap: Snapshot):
    f = _Findings()
    done = []
    for name, info in snap.buckets.items():
        if f.value(info.get("exists", True)) is None:
            continue
        config = f.value(info.get("encryption"), f"put default encryption on {name}; {DEPLOY_FIX}")
        if isinstance(info.get("encryption"), Gap):
            continue
        rules = (config or {}).get("Rules") or []
        algorithms = [(r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") for r in rules]
        good = [a for a in algorithms if a in SSE_ALGORITHMS]
        if not good:
            f.problem(f"{name} has no default encryption", f"put_bucket_encryption on {name} (AES256); {DEPLOY_FIX}")
        else:
            done.append(f"{name} {good[0]}")
    if not snap.emulator:
        f.note("S3 encrypts every new object with SSE-S3 since January 2023 even without a rule; the rule makes it explicit")
    return f.result(", ".join(done))


@check("s3-public-access", "Every bucket blocks public access",
       "plan Phase 2 (security); common practice (S3 Block Public Access, all four settings)")
def s3_public_access(snap: Snapshot):
    f = _Findings()
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    account = snap.account_public_access_block
    account_blocks = isinstance(account, dict) and all(account.get(k) for k in flags)
    done = []
    for name, info in snap.buckets.items():
        if f.value(info.get("exists", True)) is None:
            continue
        block = info.get("public_access_block")
        if isinstance(block, Gap):
            f.value(block)
            continue
        f.checked = True
        off = [k for k in flags if not (block or {}).get(k)]
        if not off:
            done.append(name)
        elif account_blocks:
            done.append(f"{name} (by the account-level block)")
        else:
            f.problem(f"{name} does not block public access ({', '.join(off)} off)" if block else
                      f"{name} has no public access block", f"put_public_access_block on {name} (all four true); "
                      + DEPLOY_FIX)
    return f.result("all four settings on " + ", ".join(done))


@check("sqs-encryption", "Both queues are encrypted at rest", "plan Phase 2 (security); common practice (SSE-SQS or SSE-KMS)")
def sqs_encryption(snap: Snapshot):
    f, n = _Findings(), snap.names
    done = []
    for name in (n.queue, n.dlq):
        attrs = f.value(snap.queues.get(name, Gap("missing", f"queue {name}")))
        if attrs is None:
            continue
        if attrs.get("KmsMasterKeyId"):
            done.append(f"{name} SSE-KMS ({attrs['KmsMasterKeyId']})")
        elif str(attrs.get("SqsManagedSseEnabled", "")).lower() == "true":
            done.append(f"{name} SSE-SQS")
        else:
            f.problem(f"{name} is not encrypted at rest",
                      f"set SqsManagedSseEnabled=true on {name} (SSE-SQS: S3 can still send to it; the AWS-managed "
                      f"aws/sqs key would stop S3 notifications); {DEPLOY_FIX}")
    return f.result(", ".join(done))


@check("dynamodb-encryption", "The state table is encrypted at rest", "plan Phase 2 (security); common practice")
def dynamodb_encryption(snap: Snapshot):
    f, n = _Findings(), snap.names
    table = f.value(snap.table)
    if table is None:
        return f.result("")
    sse = table.get("SSEDescription")
    if not sse:
        return f.result(f"{n.table} shows no SSEDescription: DynamoDB encrypts every table at rest, and this form "
                        "means an AWS-owned key (free, invisible to the account; the deploy asks for the "
                        "AWS-managed key aws/dynamodb, which shows here and in CloudTrail)")
    status = sse.get("Status")
    if status in ("ENABLED", "ENABLING", "UPDATING"):
        return f.result(f"{n.table} {sse.get('SSEType', 'KMS')} {status}"
                        + (f" with {sse['KMSMasterKeyArn']}" if sse.get("KMSMasterKeyArn") else ""))
    f.problem(f"{n.table} encryption is {status}" + (" (the customer key is unusable: the table becomes "
              "inaccessible)" if status == "INACCESSIBLE_ENCRYPTION_CREDENTIALS" else ""),
              f"restore the key or update_table SSESpecification Enabled=true; {DEPLOY_FIX}")
    return f.result("")


@check("glue-security-configuration", "The Glue job names a security configuration that exists and encrypts S3",
       "plan Phase 2 items 8-12 ('Glue security configuration')")
def glue_security_configuration(snap: Snapshot):
    f, n = _Findings(), snap.names
    if not snap.glue_mode:
        return NA, f"no Glue job on {snap.target}: the converter runs as a Lambda task there", ""
    job = f.value(snap.glue_job if snap.glue_job is not None else Gap("missing", f"Glue job {n.glue_job}"))
    if job is None:
        return f.result("")
    name = job.get("SecurityConfiguration")
    fix = f"create security configuration {n.glue_security_configuration} (S3 SSE-S3) and name it in the job; {DEPLOY_FIX}"
    if not name:
        f.problem(f"job {n.glue_job} names no security configuration: what it writes is encrypted only by the "
                  "bucket default", fix)
        return f.result("")
    config = f.value(snap.glue_security if snap.glue_security is not None else
                     Gap("missing", f"security configuration {name}"), fix)
    if config is None:
        return f.result("")
    enc = config.get("EncryptionConfiguration") or {}
    modes = [e.get("S3EncryptionMode") for e in enc.get("S3Encryption") or []]
    if not any(m and m != "DISABLED" for m in modes):
        f.problem(f"security configuration {name} does not encrypt S3 (modes {modes or 'none'})", fix)
    cw = (enc.get("CloudWatchEncryption") or {}).get("CloudWatchEncryptionMode", "DISABLED")
    bm = (enc.get("JobBookmarksEncryption") or {}).get("JobBookmarksEncryptionMode", "DISABLED")
    f.note(f"CloudWatch logs {cw}, job bookmarks {bm} (both need a customer KMS key; the job logs counts and keys "
           "only and uses no bookmarks)")
    return f.result(f"job {n.glue_job} uses {name}: S3 {', '.join(m for m in modes if m)}")


def _aws_managed_sns_key(key: str) -> bool:
    return key.endswith("alias/aws/sns")


@check("sns-encryption", "The alerts topic's encryption does not stop alarms from publishing",
       "plan Phase 2 (security); CloudWatch docs: alarms cannot publish to a topic encrypted with the AWS-managed "
       "key aws/sns")
def sns_encryption(snap: Snapshot):
    f, n = _Findings(), snap.names
    topic = f.value(snap.topic)
    if topic is None:
        return f.result("")
    key = topic.get("KmsMasterKeyId")
    if not key:
        return NA, (f"{n.topic} is not encrypted, on purpose: CloudWatch alarms cannot publish to a topic "
                    "encrypted with the AWS-managed key aws/sns (that needs a customer key and a key policy for "
                    "cloudwatch.amazonaws.com), and alert messages carry ids and counts, no record content"), ""
    if _aws_managed_sns_key(key):
        f.problem(f"{n.topic} is encrypted with the AWS-managed key aws/sns: CloudWatch alarms cannot publish to it, "
                  "so every alarm is silent", f"use a customer key whose policy allows cloudwatch.amazonaws.com "
                  f"kms:GenerateDataKey* and kms:Decrypt, or remove KmsMasterKeyId from {n.topic}")
        return f.result("")
    f.note("the key policy must let cloudwatch.amazonaws.com (alarms) and the state machine's role "
           "use it (kms:GenerateDataKey*, kms:Decrypt)")
    return f.result(f"{n.topic} encrypted with customer key {key}")


@check("lambda-env-encryption", "Function environments hold no secrets (KMS for environment variables)",
       "plan Phase 2 items 8-12 ('KMS encryption for Lambda env vars', deferred to Phase 3)")
def lambda_env_encryption(snap: Snapshot):
    f = _Findings()
    done = []
    for name in snap.expected_functions():
        config = f.value(snap.functions.get(name, Gap("missing", f"function {name}")))
        if config is None:
            continue
        key = config.get("KMSKeyArn")
        env = (config.get("Environment") or {}).get("Variables") or {}
        secret = [k for k in env if any(word in k.upper() for word in SECRET_WORDS)]
        if secret and not key:
            f.problem(f"{name} keeps {', '.join(secret)} in its environment under the default key",
                      "move secrets to Secrets Manager or SSM Parameter Store (SecureString), or set a customer "
                      "KMSKeyArn on the function")
        done.append(f"{name} {'customer key ' + key if key else 'AWS-managed key'}")
    return f.result(", ".join(done) + ": Lambda encrypts environment variables at rest with the AWS-managed key "
                    "aws/lambda; these hold names, ARNs and settings, no secrets, so a customer key would only add "
                    "key control")


# -- IAM (common practice: least privilege) --------------------------------------------------------
def _role_name(arn) -> str:
    return str(arn or "").rsplit("/", 1)[-1]


def _component_roles(snap: Snapshot, f: _Findings) -> dict[str, tuple[str, str]]:
    """component -> (live role name, expected role name)."""
    n, out = snap.names, {}
    builder = f.value(_builder(snap))
    if builder is not None:
        out[f"function {n.builder_function}"] = (_role_name(builder.get("Role")), n.builder_role)
    if snap.glue_mode:
        job = f.value(snap.glue_job if snap.glue_job is not None else Gap("missing", f"Glue job {n.glue_job}"))
        if job is not None:
            out[f"job {n.glue_job}"] = (_role_name(job.get("Role")), n.glue_role)
    else:
        conv = f.value(snap.functions.get(n.converter_function, Gap("missing", f"function {n.converter_function}")))
        if conv is not None:
            out[f"function {n.converter_function}"] = (_role_name(conv.get("Role")), n.converter_role)
    sm = f.value(snap.state_machine)
    if sm is not None:
        out[f"state machine {n.state_machine}"] = (_role_name(sm.get("roleArn")), n.sfn_role)
    return out


def trust_principals(document) -> list[str]:
    """Who may assume a role: 'Service:x', 'AWS:y', 'Federated:z' or '*'."""
    out = []
    for st in _as_list(_doc(document).get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if principal == "*":
            out.append("*")
        elif isinstance(principal, dict):
            for kind, values in principal.items():
                out += [f"{kind}:{v}" for v in _as_list(values)]
    return out


def desired_roles(w: Wiring) -> dict[str, tuple[str, dict]]:
    """role name -> (the one principal that may assume it, its inline policy): the components' roles
    and the producers' uploader role (trusted by the account, see sim/infra/iam.py)."""
    from sim.infra import iam

    out = {name: (f"Service:{service}", policy) for name, (service, policy) in w.roles().items()}
    out[w.names.uploader_role] = (f"AWS:arn:aws:iam::{w.account}:root", iam.uploader_policy(w))
    return out


@check("iam-own-roles", "Each function, the job and the state machine has its own role, trusted by its service only "
       "(the uploader role by the account)",
       "common practice (least privilege: one role per component); sim/infra/iam.py")
def iam_own_roles(snap: Snapshot):
    f = _Findings()
    components = _component_roles(snap, f)
    users: dict[str, list[str]] = {}
    for component, (live, want) in components.items():
        users.setdefault(live, []).append(component)
        if live != want:
            f.problem(f"{component} runs as {live or 'no role'}, not its own role {want}",
                      f"give {component} role {want}; {DEPLOY_FIX}")
    for role, who in users.items():
        if len(who) > 1:
            f.problem(f"{' and '.join(who)} share role {role}: each gets the other's grants", DEPLOY_FIX)
    account = snap.wiring.account
    for name, (principal, _) in desired_roles(snap.wiring).items():
        state = snap.roles.get(name)
        role = f.value(state.role if state else Gap("missing", f"role {name}"))
        if role is None:
            continue
        same = {principal, f"AWS:{account}"} if principal.endswith(f"::{account}:root") else {principal}
        principals = trust_principals(role.get("AssumeRolePolicyDocument") or {})
        extra = [p for p in principals if p not in same]
        if extra:
            f.problem(f"role {name} can also be assumed by {', '.join(extra)}", DEPLOY_FIX)
        if not same & set(principals):
            f.problem(f"role {name} does not trust {principal}: its users cannot assume it", DEPLOY_FIX)
    return f.result(", ".join(f"{c} -> {live}" for c, (live, _) in components.items())
                    + f"; {snap.names.uploader_role} trusted by the account only")


def _condition_values(statement: dict, key: str) -> list[str]:
    out = []
    for operator, block in (statement.get("Condition") or {}).items():
        if isinstance(block, dict):
            for k, v in block.items():
                if k.lower() == key.lower():
                    out += [str(x) for x in _as_list(v)]
    return out


def statement_problems(statement: dict) -> list[str]:
    """Why one policy statement is broader than least privilege (empty: it is not)."""
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    if "NotAction" in statement:
        problems.append("NotAction allows every action but the listed ones")
    if "NotResource" in statement:
        problems.append("NotResource allows every resource but the listed ones")
    actions = [str(a) for a in _as_list(statement.get("Action"))]
    resources = [str(r) for r in _as_list(statement.get("Resource"))]
    for action in actions:
        if "*" in action:
            problems.append(f"wildcard action {action!r}")
    if "*" in resources:
        scopable = [a for a in actions if a.lower() not in UNSCOPABLE_ACTIONS]
        if scopable:
            problems.append(f'"Resource": "*" for {", ".join(scopable)} (these take resource ARNs)')
        for action in actions:
            key = UNSCOPABLE_ACTIONS.get(action.lower())
            if key and not [v for v in _condition_values(statement, key) if v.strip("*")]:
                problems.append(f'{action} on "*" without a {key} condition')
    for resource in resources:
        parts = resource.split(":", 5)
        if resource != "*" and len(parts) == 6 and (parts[5] in ("*", "*/*") or "*" in parts[3] or "*" in parts[4]):
            problems.append(f"resource {resource!r} spans every resource of its service")
    return problems


def _norm_condition(condition) -> str:
    norm = {}
    for operator, block in (condition or {}).items():
        if isinstance(block, dict):
            norm[operator.lower()] = {k.lower(): sorted(str(v) for v in _as_list(vals)) for k, vals in block.items()}
    return json.dumps(norm, sort_keys=True)


def grants(document) -> set[tuple[str, str, str]]:
    """(action, resource, condition) triples an Allow policy grants; actions lower-cased (IAM ignores case)."""
    out = set()
    for st in _as_list(_doc(document).get("Statement")):
        if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
            continue
        cond = _norm_condition(st.get("Condition"))
        for action in _as_list(st.get("Action")):
            for resource in _as_list(st.get("Resource")):
                out.add((str(action).lower(), str(resource), cond))
    return out


def _covers(have: tuple[str, str, str], want: tuple[str, str, str]) -> bool:
    return (fnmatch.fnmatchcase(want[0], have[0]) and fnmatch.fnmatchcase(want[1], have[1])
            and (have[2] == want[2] or have[2] == "{}"))


def _live_documents(f: _Findings, name: str, state: RoleState | None) -> list[tuple[str, dict]] | None:
    """(label, document) of every policy on a role, inline and attached; None when unreadable."""
    if state is None:
        f.value(Gap("missing", f"role {name}"))
        return None
    if f.value(state.role) is None:
        return None
    inline, attached = f.value(state.inline), f.value(state.attached)
    if inline is None or attached is None:
        return None
    docs = [(f"inline policy {p}", _doc(d)) for p, d in inline.items()]
    for arn, doc in attached.items():
        doc = f.value(doc)
        if doc is not None:
            docs.append((f"managed policy {arn}", _doc(doc)))
    return docs


def _fmt_grant(g: tuple[str, str, str]) -> str:
    return f"{g[0]} on {g[1]}" + (f" if {g[2]}" if g[2] != "{}" else "")


@check("iam-least-privilege", "Role policies grant no wildcard and nothing beyond the wiring",
       "common practice (least privilege); sim/infra/iam.py generates the grants each component's code needs")
def iam_least_privilege(snap: Snapshot):
    f = _Findings()
    summary_ = []
    for name, (_, desired) in desired_roles(snap.wiring).items():
        docs = _live_documents(f, name, snap.roles.get(name))
        if docs is None:
            continue
        want = grants(desired)
        count = 0
        for label, doc in docs:
            for st in _as_list(doc.get("Statement")):
                for problem in statement_problems(st):
                    f.problem(f"role {name}, {label}" + (f" ({st['Sid']})" if st.get("Sid") else "") + f": {problem}",
                              f"scope the statement to the resources it needs; {DEPLOY_FIX} for the pipeline policy")
            extra = sorted(grants(doc) - want)
            count += len(grants(doc))
            if extra:
                shown = ", ".join(_fmt_grant(g) for g in extra[:4]) + (f" and {len(extra) - 4} more" if len(extra) > 4 else "")
                f.problem(f"role {name}, {label} grants beyond the wiring: {shown}",
                          "remove grants the code does not use (`sim deploy` rewrites the `pipeline` policy; other "
                          "inline and attached policies must be removed by hand)")
        summary_.append(f"{name} {count} grant{'s' if count != 1 else ''}")
    return f.result(", ".join(summary_) + "; only cloudwatch:PutMetricData uses \"*\", held to the pipeline's "
                    "namespace by a condition")


@check("iam-grants-complete", "Each role grants every call its component's code makes",
       "sim/infra/iam.py (the grants the code needs); a missing grant fails the pipeline at run time on AWS")
def iam_grants_complete(snap: Snapshot):
    f = _Findings()
    done = []
    for name, (_, desired) in desired_roles(snap.wiring).items():
        docs = _live_documents(f, name, snap.roles.get(name))
        if docs is None:
            continue
        have = set().union(*(grants(doc) for _, doc in docs)) if docs else set()
        missing = sorted(g for g in grants(desired) if not any(_covers(h, g) for h in have))
        if missing:
            shown = ", ".join(_fmt_grant(g) for g in missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            f.problem(f"role {name} lacks {shown}", DEPLOY_FIX)
        else:
            done.append(name)
    return f.result(f"{', '.join(done)} grant what their code calls")


# -- tracing, VPC, deployed code (plan Phase 2 items 7-12) ----------------------------------------
@check("tracing", "X-Ray tracing on the functions and the workflow (advisory)",
       "plan Phase 2 items 8-12 ('X-Ray tracing', deferred to Phase 3 unless compliance requires it): advisory, "
       "a warning never fails the run")
def tracing(snap: Snapshot):
    f, n = _Findings(), snap.names
    off, on = [], []
    for name in snap.expected_functions():
        config = f.value(snap.functions.get(name, Gap("missing", f"function {name}")))
        if config is None:
            continue
        mode = (config.get("TracingConfig") or {}).get("Mode", "PassThrough")
        (on if mode == "Active" else off).append(f"{name} {mode}")
    sm = f.value(snap.state_machine)
    if sm is not None:
        tc = sm.get("tracingConfiguration")
        if tc is None and snap.emulator:
            f.note(f"the engine does not report {n.state_machine}'s tracingConfiguration")
        elif (tc or {}).get("enabled"):
            on.append(f"{n.state_machine} enabled")
        else:
            off.append(f"{n.state_machine} disabled")
    if off:
        f.warn(f"X-Ray is off: {', '.join(off)} (the plan defers X-Ray; a failed manifest is still traced by its "
               "execution history, the MANIFEST item and the logs' ids)",
               "to turn it on: TracingConfig Mode=Active on the functions, tracingConfiguration enabled on the state "
               "machine, and xray:PutTraceSegments/PutTelemetryRecords (Resource \"*\": X-Ray cannot be scoped) in "
               "the function roles")
    return f.result(", ".join(on))


@check("vpc", "Network placement (VPC) and the way out to AWS APIs",
       "plan Phase 2 item 7 (VPC only if compliance requires it)")
def vpc(snap: Snapshot):
    f, n, region = _Findings(), snap.names, snap.wiring.region
    if snap.emulator:
        return NA, (f"{snap.target} runs no VPCs: functions and jobs reach the engine directly. On AWS, item 7 is "
                    "a design choice; inside a VPC the builder needs NAT or VPC endpoints for S3, DynamoDB, Step "
                    "Functions and CloudWatch (the queue is polled by Lambda's own mapping, outside the VPC)"), ""
    placed: dict[str, str] = {}  # component -> vpc id
    for name in snap.expected_functions():
        config = snap.functions.get(name)
        if isinstance(config, dict) and (config.get("VpcConfig") or {}).get("SubnetIds"):
            placed["builder" if name == n.builder_function else "converter"] = config["VpcConfig"].get("VpcId", "")
    if snap.glue_mode and isinstance(snap.glue_job, dict):
        for conn in (snap.glue_job.get("Connections") or {}).get("Connections") or []:
            vpc_id = f.value(snap.glue_connection_vpcs.get(conn, Gap("missing", f"Glue connection {conn}")))
            if vpc_id:
                placed["glue"] = vpc_id
    if not placed:
        return NA, ("nothing runs in a VPC: a design choice (plan item 7: only if compliance requires a private "
                    "network); the functions and the job use AWS's public endpoints over TLS"), ""
    for component, vpc_id in placed.items():
        info = snap.vpcs.get(vpc_id, {})
        nats = f.value(info.get("nat_gateways", Gap("missing", f"NAT gateways of {vpc_id}")))
        endpoints = f.value(info.get("endpoints", Gap("missing", f"VPC endpoints of {vpc_id}")))
        if nats is None or endpoints is None:
            continue
        if any(g.get("State") == "available" for g in nats):
            f.note(f"{component} in {vpc_id} goes out through a NAT gateway")
            continue
        have = {e.get("ServiceName") for e in endpoints if e.get("State", "available").lower() == "available"}
        missing = [s for s in VPC_SERVICES[component] if f"com.amazonaws.{region}.{s}" not in have]
        if missing:
            f.problem(f"{component} runs in {vpc_id} with no NAT gateway and no endpoint for {', '.join(missing)}: "
                      "its calls time out", f"add VPC endpoints for {', '.join(missing)} in {vpc_id} (gateway "
                      "endpoints for S3 and DynamoDB are free), or a NAT gateway")
    return f.result("in a VPC with a way out: " + ", ".join(f"{c} {v}" for c, v in placed.items()))


@check("deployed-code", "The deployed pipeline code is this tree's (advisory)",
       "plan Phase 1 items 1, 2 and 4 (and Phase 3 item 13) are code: the scenarios prove them on this tree; "
       "this confirms the same code runs")
def deployed_code(snap: Snapshot):
    f = _Findings()
    same, stale = [], []
    for label, pair in snap.code.items():
        live = f.value(pair.get("live"))
        if live is None:
            continue
        (same if live == pair.get("want") else stale).append(label)
    if stale:
        f.warn(f"{', '.join(stale)} differ from this tree's sim/pipeline: what the scenarios proved is not what runs",
               "`sim deploy`")
    return f.result(", ".join(same) + " match this tree")
