"""Alarms and alerts: the expected CloudWatch alarms exist and watch the right metrics, each notifies
the alerts topic, someone receives the topic, and the workflow runs the converter and publishes a failed
conversion to the topic. From plan Phase 1 items 5 and 6 (DLQ, Lambda-error and failed-conversion alarms,
an e-mailed SNS topic) and DESIGN.md rule 4: a failure is never silent.
"""

from __future__ import annotations

import json

from sim.check.rules.base import DEPLOY_FIX, NA, Gap, Snapshot, _Findings, check


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
