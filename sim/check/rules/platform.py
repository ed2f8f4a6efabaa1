"""Around the code: X-Ray tracing (advisory), the network placement in a VPC and its way out to AWS APIs,
and whether the deployed pipeline code is this tree's (advisory). From plan Phase 2 items 7-12, where
tracing is deferred and a VPC is a design choice, and from the Phase 1 items that are code: the
scenarios prove them on this tree, this confirms the same code runs.
"""

from __future__ import annotations

from sim.check.rules.base import NA, Gap, Snapshot, _Findings, check

# What the code calls from inside a VPC, by component (the event source mapping polls SQS from
# Lambda's own network, not from the function's subnets).
VPC_SERVICES = {"builder": ("s3", "dynamodb", "states", "monitoring"),
                "converter": ("s3", "dynamodb", "monitoring"),
                "glue": ("s3", "dynamodb", "monitoring")}


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
