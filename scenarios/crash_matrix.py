"""crash-matrix: the crash explorer on the pipeline under test; for sim's own, on the seed plan's two
orderings (examples/seed-plan) and ours, plus the cases that need a real death."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sim.faults import explorer
from sim.faults.boundaries import Boundary, Call

NAME = "crash-matrix"
ORDER = 7
DESCRIPTION = ("record one builder invocation's AWS calls, then kill it (SIGKILL, and by an exception) at every "
               "boundary between two calls, on a clean pipeline each time; redelivery, the flush and recovery on "
               "the production timeline scaled down; every cell judged by validation. For sim's own pipeline also "
               "the seed plan's orderings, executions closed SUCCEEDED, FAILED and ABORTED, a flush killed "
               "mid-redrive, and a builder stalled past its lease")
FILES = 5


def _table(result: dict) -> list[dict]:
    return result["rows"]


def _closed_execution_cell(ctx, outcome: str) -> dict:
    """Kill the builder right after StartExecution; recover only after that execution CLOSED."""
    rules = [Boundary(1, Call("stepfunctions.StartExecution", 1), None).rule("builder", "kill")]
    if outcome == "FAILED":  # every run of the first attempt fails; the redrive's runs succeed
        rules.append({"process": "converter", "action": "kill", "when": "exit",
                      "times": ctx.settings().conversion_max_runs})
    batch = explorer._prepare(ctx, FILES, rules, True, FILES)
    answer = explorer._invoke(ctx, batch.event)
    ctx.wait_workflows(timeout=180)
    sfn = ctx.target.client("stepfunctions")
    closed = [e["status"] for e in sfn.list_executions(stateMachineArn=ctx.wiring.state_machine_arn())["executions"]]
    timeline = explorer.recover(ctx, batch, redeliver=bool(answer["error"]), started=time.monotonic())
    row = explorer.judge(ctx, {"ordering": "hardened", "boundary": "after stepfunctions.StartExecution #1",
                               "crash_point": "after_start_workflow", "mode": "kill", "crashed": bool(answer["error"]),
                               "recovered_after": f"execution closed {outcome}", "executions_closed": closed,
                               **timeline}, batch)
    if closed != [outcome]:
        row["violations"].append(f"the execution closed {closed}, not {outcome}: the case was not set up")
    return row


def _aborted_execution_cell(ctx) -> dict:
    """Kill the builder right after StartExecution, then stop that execution by hand: it closes
    ABORTED and records nothing (unlike SUCCEEDED or FAILED, whose Mark steps record the outcome
    before recovery looks), so recovery must learn it from StartExecution (the execution exists)
    and DescribeExecution (ABORTED), wait out the converter run it may have left (the run limit,
    scaled with the timeline), record the attempt failed and redrive it."""
    limit = max(1, round(ctx.settings().described(ctx.pipeline).run_limit_s / explorer.SCALE))
    rules = [Boundary(1, Call("stepfunctions.StartExecution", 1), None).rule("builder", "kill")]
    batch = explorer._prepare(ctx, FILES, rules, True, FILES,
                              extra_env={"CONVERTER_RUN_LIMIT_SECONDS": str(limit)})
    answer = explorer._invoke(ctx, batch.event)
    sfn = ctx.target.client("stepfunctions")
    first = sfn.list_executions(stateMachineArn=ctx.wiring.state_machine_arn())["executions"]
    for e in first:
        sfn.stop_execution(executionArn=e["executionArn"], cause="stopped by hand (crash matrix)")
    ctx.wait_workflows(timeout=180)
    closed = [sfn.describe_execution(executionArn=e["executionArn"])["status"] for e in first]
    timeline = explorer.recover(ctx, batch, redeliver=bool(answer["error"]), started=time.monotonic())
    table = ctx.target.session.resource("dynamodb", endpoint_url=ctx.target.endpoint).Table(ctx.names.table)
    items = [i for i in table.scan()["Items"] if i.get("record_type") == "MANIFEST"]
    recorded = [str(i.get("last_failure", "")) for i in items]
    row = explorer.judge(ctx, {"ordering": "hardened", "boundary": "after stepfunctions.StartExecution #1",
                               "crash_point": "after_start_workflow", "mode": "kill", "crashed": bool(answer["error"]),
                               "recovered_after": "execution stopped by hand (ABORTED)",
                               "executions_closed": closed, "run_limit_s": limit,
                               "recorded_failure": recorded, **timeline}, batch)
    if closed != ["ABORTED"]:
        row["violations"].append(f"the execution closed {closed}, not ABORTED: the case was not set up")
    if not any("found closed as ABORTED" in r for r in recorded):
        row["violations"].append("recovery never found the execution closed ABORTED (StartExecution, then "
                                 "DescribeExecution): the path was not reached")
    return row


def _redrive_cell(ctx) -> dict:
    """A flush killed between recording a redrive (the MANIFEST item `started` at attempt 2, flag
    REDRIVE) and starting its execution: the next flush must start that very execution (REDRIVE
    recovery), and nothing else can (the item is no longer `failed`)."""
    settings = ctx.settings()
    converter_fails = {"process": "converter", "action": "kill", "when": "exit",
                       "times": settings.conversion_max_runs}
    batch = explorer._prepare(ctx, FILES, [converter_fails], False, FILES, conversion_retry_wait_s=1)
    answer = explorer._invoke(ctx, batch.event)
    ctx.wait_workflows(timeout=180)
    table = ctx.target.session.resource("dynamodb", endpoint_url=ctx.target.endpoint).Table(ctx.names.table)

    def manifest() -> dict:
        items = [i for i in table.scan(ConsistentRead=True)["Items"] if i.get("record_type") == "MANIFEST"]
        return items[0] if len(items) == 1 else {"manifests": len(items)}

    failed_first = manifest().get("status")
    # The flush dies right before the redrive's StartExecution (the rule's own count: the first).
    die = Boundary(1, None, Call("stepfunctions.StartExecution", 1)).rule("builder", "kill")
    same = {"conversion_retry_wait_s": 1, "batch_size": FILES, **explorer.timings(ctx)}  # the scaled timeline kept
    ctx.redeploy(rules=[converter_fails, die], **same)
    died = ""
    try:
        ctx.watcher().flush(3600)
    except Exception as exc:  # noqa: BLE001 - the death is the point
        died = f"{type(exc).__name__}"
    after_death = manifest()
    sfn = ctx.target.client("stepfunctions")
    names_after_death = sorted(e["name"] for e in sfn.list_executions(
        stateMachineArn=ctx.wiring.state_machine_arn())["executions"])
    ctx.redeploy(rules=[], **same)
    timeline = explorer.recover(ctx, batch, redeliver=False, started=time.monotonic())
    executions = sorted((e["name"], e["status"]) for e in sfn.list_executions(
        stateMachineArn=ctx.wiring.state_machine_arn())["executions"])
    row = explorer.judge(ctx, {"ordering": "hardened", "boundary": "flush: before stepfunctions.StartExecution "
                                                                   "of a recorded redrive",
                               "crash_point": "redrive_recorded_not_started", "mode": "kill",
                               "crashed": True, "flush_error": died, "recovered_after": "a redrive recorded, its execution never "
                                                                         "started",
                               "first_invocation_error": answer["error"], "first_attempt": failed_first,
                               "after_death": {k: str(after_death.get(k)) for k in ("status", "attempt", "open_flag")},
                               "executions": executions, **timeline}, batch)
    # Judged by the state the death left (the engine may answer a killed invocation either way).
    set_up = (failed_first == "failed" and after_death.get("open_flag") == "REDRIVE"
              and int(after_death.get("attempt", 0)) == 2 and not any("--redrive-" in n for n in names_after_death))
    if not set_up:
        row["violations"].append("the flush did not die between recording the redrive and starting it: "
                                 "the case was not set up")
    elif [st for n, st in executions if n.endswith("--redrive-2")] != ["SUCCEEDED"]:
        row["violations"].append(f"the recorded redrive was not started and converted by recovery: {executions}")
    return row


def _stalled_past_lease(ctx) -> dict:
    """The builder stalls mid-claims (before its second claim transaction) past its lease and the
    grace; the flush takes its manifest over; the builder resumes and claims nothing more."""
    stall = 2 * explorer.LEASE_S + 6 * explorer.FLUSH_EVERY_S + 2
    rules = [{"process": "builder", "call": "dynamodb.TransactWriteItems", "nth": 2, "action": "delay",
              "seconds": stall, "times": 1}]
    batch = explorer._prepare(ctx, FILES, rules, True, FILES)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(explorer._invoke(ctx, batch.event)))
    started = time.monotonic()
    worker.start()
    taken_over = []
    watcher = ctx.watcher()
    while worker.is_alive():  # the scheduled flush meanwhile
        taken_over += watcher.flush(3600).get("recovered", [])
        time.sleep(explorer.FLUSH_EVERY_S)
    worker.join()
    timeline = explorer.recover(ctx, batch, redeliver=False, started=started)
    row = explorer.judge(ctx, {"ordering": "hardened", "boundary": "before dynamodb.TransactWriteItems #2, stalled",
                               "crash_point": "mid_claims", "mode": "stall", "stalled_s": stall,
                               "taken_over_by_flush": taken_over, **timeline}, batch)
    if result.get("error"):
        row["violations"].append(f"the stalled builder failed: {result['payload'][:200]}")
    if not taken_over:
        row["violations"].append("the flush never took the stalled builder's manifest over: the case was not set up")
    return row


def run(ctx):
    if not ctx.own:
        result = explorer.explore(ctx, ctx.pipeline.name, FILES, progress=ctx.say)
        rows = _table(result)
        broken = [r for r in rows if r["violations"]]
        findings = [f"{r['mode']} {r['boundary']}: {'; '.join(r['violations'])}" for r in broken]
        passed = not result["clean"]["violations"] and all(r["reached"] for r in rows) and not broken
        return ctx.verdict(passed, {"matrix": rows, "explorer": rows, "calls": result["calls"],
                                    "clean_run": result["clean"], "cells": len(rows), "broken_cells": len(broken)},
                           findings)
    # The three orders are three deployments side by side on the engine (their own prefixes),
    # explored at once: each cell waits on its engine more than it computes.
    contexts = {
        "hardened": ctx,
        "seed-original": ctx.other(ctx.example("pipeline.toml")),
        "seed-plan": ctx.other(ctx.example("pipeline.toml"), {"MANIFEST_ORDER": "plan"}, prefix="sim-seed-plan-order"),
    }
    with ThreadPoolExecutor(max_workers=len(contexts)) as pool:
        futures = {o: pool.submit(explorer.explore, c, o, FILES, progress=ctx.say) for o, c in contexts.items()}
        runs = {o: f.result() for o, f in futures.items()}
    matrix = [row for r in runs.values() for row in r["rows"]]
    ctx.say("  kill after StartExecution, recovery after the execution closed SUCCEEDED / FAILED / ABORTED")
    extra = [_closed_execution_cell(ctx, "SUCCEEDED"), _closed_execution_cell(ctx, "FAILED"),
             _aborted_execution_cell(ctx)]
    ctx.say("  a flush killed between recording a redrive and starting its execution")
    extra.append(_redrive_cell(ctx))
    ctx.say("  a builder stalled mid-claims past its lease, then resuming")
    stalled = _stalled_past_lease(ctx)
    hardened = [c for c in matrix + extra if c["ordering"] == "hardened"]
    findings = [f"{c['ordering']} ({c['mode']}) {c['boundary']}: {'; '.join(c['violations'])}"
                for c in matrix if c["violations"] and c["ordering"] != "hardened"]
    findings += [f"hardened ({c['mode']}) {c['boundary']}: {'; '.join(c['violations'])}"
                 for c in hardened + [stalled] if c["violations"]]
    every_point_crashed = all(c.get("reached", c["crashed"]) for c in matrix + extra)
    seeds_show_theirs = all(any(c["violations"] for c in runs[o]["rows"] if c["mode"] == m)
                            for o in ("seed-original", "seed-plan") for m in explorer.MODES)
    clean_runs_pass = all(not r["clean"]["violations"] for r in runs.values())
    passed = (every_point_crashed and seeds_show_theirs and clean_runs_pass
              and all(not c["violations"] for c in hardened) and not stalled["violations"])
    evidence = {
        "matrix": matrix + extra,
        "explorer": matrix,
        "calls": {o: r["calls"] for o, r in runs.items()},
        "clean_runs": {o: r["clean"] for o, r in runs.items()},
        "stalled_past_lease": stalled,
        "cells": len(matrix) + len(extra),
        "broken_cells": {f"{o}/{m}": sum(1 for c in runs[o]["rows"] if c["mode"] == m and c["violations"])
                         for o in runs for m in explorer.MODES},
        "every_point_reached": every_point_crashed,
        "seed_orderings_show_violations": seeds_show_theirs,
    }
    return ctx.verdict(passed, evidence, findings)
