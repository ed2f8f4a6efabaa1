"""sf-start-failure: StartExecution fails; no orphaned MANIFEST record and no file lost."""

import time

NAME = "sf-start-failure"
ORDER = 2
DESCRIPTION = ("StartExecution throttled twice (a fault at the AWS-call boundary) -> the batch is retried and the "
               "pipeline's own recovery (sim's: the sweeper, under the same execution name) finishes the "
               "manifest; every record converted once, no workflow without its manifest")
FILES = 10
FAILURES = 2
GRACE_S = 5


def run(ctx):
    ctx.fresh(rules=[{"process": "builder", "call": "stepfunctions.StartExecution", "count": "run",
                      "action": "throttle", "times": FAILURES}], record=True,
              extra_env={"OPEN_MANIFEST_GRACE_SECONDS": str(GRACE_S)} if ctx.own else {})
    sqs = ctx.target.client("sqs")
    sqs.set_queue_attributes(QueueUrl=ctx.queue_url(), Attributes={"VisibilityTimeout": "3"})
    mark = ctx.log_mark()
    up = ctx.land_generated(FILES, size=2048, seed=22)
    watcher = ctx.watcher()
    seen_open, recovered = 0, []
    if ctx.own:
        seen_open = ctx.until(lambda: watcher.snapshot().manifests.get("claiming", 0), timeout=60,
                              what="a manifest left open by the failed start")
        time.sleep(GRACE_S + 1)

        def swept() -> bool:  # what the per-minute schedule does, sooner
            recovered.extend(watcher.flush(3600).get("recovered", []))
            snap = watcher.snapshot()
            return snap.tracked == FILES and snap.pending == 0 and snap.manifests_open == 0

        try:
            ctx.until(swept, timeout=90, every=2, what="the sweeper to finish the open manifest")
        except TimeoutError:
            pass  # the wait below names what is left
    ctx.wait(FILES, stall_timeout_s=60)
    v = ctx.validate()
    injected = [c for c in ctx.calls() if c.get("injected") and c["call"] == "stepfunctions.StartExecution"]
    evidence = {
        "start_failures_injected": len(injected),
        "manifests": v["manifests"],
        "workflows": v["workflows"],
        "records_generated": up.records,
        "records_in": v["records_in"],
        "records_out": v["records_out"],
        "duplicates": v["duplicates"],
        "missing": v["missing"],
        "validation_problems": v["problems"],
    }
    passed = v["pass"] and len(injected) == FAILURES and v["records_out"] == up.records
    findings = []
    if ctx.own:
        log = ctx.log_since(mark)
        evidence.update({"open_manifests_seen": seen_open, "recovered_by_sweeper": sorted(set(recovered)),
                         "recoveries_logged": log.count("open_manifest_recovered"),
                         "manifests_without_workflow": v["manifests_without_workflow"],
                         "workflows_without_manifest": v["workflows_without_manifest"],
                         "open_manifests_after": v["open_manifests"]})
        # Whoever holds the date's lease first finishes the open manifest: the sweeper's flush or the
        # retried batch (both run the same recovery); either way the builder logs it.
        recovered_somehow = bool(recovered) or evidence["recoveries_logged"] >= seen_open
        passed = passed and recovered_somehow and v["orphans"] == 0 and v["open_manifests"] == 0
    elif v["missing"]:
        findings.append(f"{v['missing']} records never converted after {FAILURES} failed StartExecution calls")
    return ctx.verdict(passed, evidence, findings)
