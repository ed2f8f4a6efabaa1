"""race: many builders at once; every file must end in exactly one manifest."""

import json
import threading
import time
from collections import Counter

from sim.faults.inprocess import in_process_builder
from sim.pipeline.builder import Builder

NAME = "race"
ORDER = 6
DESCRIPTION = ("many builders at once (the mapping's concurrent batches plus parallel flush invocations during a "
               "burst, then parallel flush invocations on one pending pool, each pausing before its first write) "
               "-> every record converted once; the seed plan's builder without conditional claims (item 13), "
               "its builders outliving its lock, shows the double claim")
BURST = 60
POOL = 20
BUILDERS = 4
PAUSE_S = 1.5
# A pause before each builder's first write after reading the pending pool: every builder has read
# the same pool before any claims, so claims that are not conditional collide.
FIRST_WRITES = ("dynamodb.UpdateItem", "dynamodb.TransactWriteItems", "stepfunctions.StartExecution")


def _invoke_flushes(ctx, lam, count: int, stop: threading.Event | None = None,
                    stagger_s: float = 0.0) -> tuple[Counter, list[threading.Thread]]:
    """`count` threads sending the builder its flush event (until `stop`, or once each), started
    `stagger_s` apart."""
    event = json.dumps(ctx.pipeline.builder.flush_event).encode()
    results = Counter()

    def invoker():
        while True:
            resp = lam.invoke(FunctionName=ctx.names.builder_function, Payload=event)
            results["errors" if resp.get("FunctionError") else "ok"] += 1
            if stop is None or stop.is_set():
                return

    threads = [threading.Thread(target=invoker) for _ in range(count)]
    for t in threads:
        t.start()
        time.sleep(stagger_s)
    return results, threads


def _deployed_race(ctx) -> dict:
    """A burst through S3 -> SQS -> Lambda while parallel flush invocations build at the same time."""
    ctx.fresh()
    lam = ctx.target.client("lambda", max_pool=16)
    stop = threading.Event()
    invokes, threads = _invoke_flushes(ctx, lam, BUILDERS, stop)
    try:
        up = ctx.land_generated(BURST, size=1024, seed=61)
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join()
    ctx.wait(BURST, stall_timeout_s=90)
    v = ctx.validate()
    return {"files": BURST, "flush_invocations": dict(invokes), "manifests": v["manifests"],
            "records_generated": up.records, "records_out": v["records_out"], "duplicates": v["duplicates"],
            "missing": v["missing"], "pass": v["pass"]}


def pool_race(ctx, pause_s: float = PAUSE_S, stagger_s: float = 0.0) -> dict:
    """BUILDERS flush invocations on one pending pool of POOL files (manifests large enough that the
    pool waits for the flush), started `stagger_s` apart, each pausing `pause_s` before its first
    write."""
    rules = [{"process": "builder", "call": call, "nth": 1, "action": "delay", "seconds": pause_s, "times": 0}
             for call in FIRST_WRITES]
    ctx.fresh(batch_size=POOL * 5)
    up = ctx.land_generated(POOL, size=1024, seed=62)
    ctx.until(lambda: _queue_idle(ctx), timeout=60, what="the pool's notifications to be tracked")
    time.sleep(2)
    ctx.redeploy(rules=rules, batch_size=POOL * 5)  # the pause only for the racing builders
    lam = ctx.target.client("lambda", max_pool=16)
    invokes, threads = _invoke_flushes(ctx, lam, BUILDERS, stagger_s=stagger_s)
    for t in threads:
        t.join()
    ctx.wait_workflows(timeout=120)
    ctx.redeploy(rules=[], batch_size=POOL * 5)
    ctx.wait(POOL, stall_timeout_s=90)
    v = ctx.validate()
    return {"pipeline": ctx.pipeline.name, "builders": BUILDERS, "files": POOL, "pause_s": pause_s,
            "stagger_s": stagger_s, "flush_invocations": dict(invokes),
            "workflows": v["workflows"], "records_generated": up.records, "records_out": v["records_out"],
            "duplicate_records": v["duplicates"], "missing": v["missing"], "pass": v["pass"]}


def _queue_idle(ctx) -> bool:
    snap = ctx.watcher().snapshot()
    return snap.queue_visible == 0 and snap.queue_in_flight == 0


def _own_pool_race(ctx) -> dict:
    """sim's own builders, in-process, started together on one pending pool, each outliving its
    lease (a lease that has run out when it is taken: every builder gets the date, as builders
    slower than their lease do), and all holding their first claim until every one has read the
    pool and opened its manifest: the same files are claimed by all at once, and only the
    conditional claims keep each in one manifest. What the lease alone would do (send three of
    four builders home) is not what is tested here."""
    ctx.fresh()
    ctx.target.client("s3").put_bucket_notification_configuration(
        Bucket=ctx.names.landing_bucket, NotificationConfiguration={})
    up = ctx.land_generated(POOL, size=1024, seed=62)
    in_process_builder(ctx.target, ctx.wiring).handle_sqs([])  # warm clients; tracks nothing
    tracker = in_process_builder(ctx.target, ctx.wiring)
    for key in up.keys:
        tracker.state.track_file("2026-11-25", key, ctx.names.landing_bucket, 1024, "")
    barrier, first_claims = threading.Barrier(BUILDERS), threading.Barrier(BUILDERS)
    built: list[str] = []
    lock = threading.Lock()
    contest = Counter()

    def build():
        b = in_process_builder(ctx.target, ctx.wiring, Builder, settings={"lease_s": -1.0})
        claim_files, waited = b.state.claim_files, []

        def contested_claim(date_prefix, keys, manifest_id):
            if not waited:  # every builder has read the pool and opened its manifest first
                waited.append(True)
                try:
                    first_claims.wait(timeout=30)
                except threading.BrokenBarrierError:
                    pass
            got, still_open = claim_files(date_prefix, keys, manifest_id)
            with lock:
                contest["wanted"] += len(keys)
                contest["taken_by_another"] += len(keys) - len(got)
            return got, still_open

        b.state.claim_files = contested_claim
        barrier.wait()
        mids = b.build_ready("2026-11-25", flush=False)
        with lock:
            built.extend(mids)

    threads = [threading.Thread(target=build) for _ in range(BUILDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Files a losing builder gave back (it abandons a manifest it could not fill) are built by
    # the next flush, as the schedule would.
    flushed = ctx.watcher().flush(0).get("manifests", [])
    ctx.wait_workflows(timeout=120)
    v = ctx.validate()
    return {"variant": "hardened", "builders": BUILDERS, "files": POOL, "manifests": len(built),
            "manifests_by_the_flush_after": len(flushed), "claims_wanted": contest["wanted"],
            "claims_taken_by_another": contest["taken_by_another"],
            "files_in_two_manifests": v["files_in_two_manifests"], "duplicate_records": v["duplicates"],
            "missing": v["missing"], "records_out": v["records_out"], "records_generated": up.records,
            "pass": v["pass"]}


def run(ctx):
    if ctx.pipeline.builder.flush_event is None:
        return ctx.skip("the description names no flush_event: sim cannot start several builders on one "
                        "pending pool from outside")
    deployed = _deployed_race(ctx)
    evidence = {"deployed": deployed}
    findings = []
    if ctx.own:
        hardened = _own_pool_race(ctx)
        # The seed plan's builder holds a per-date lock of LOCK_SECONDS; builders slower than it
        # share the date (its race): a lock of 1 s, builders 1.2 s apart, each pausing 2.5 s.
        seed = pool_race(ctx.other(ctx.example("pipeline.toml"), {"LOCK_SECONDS": "1"}), pause_s=2.5,
                         stagger_s=1.2)
        evidence.update({"pool_hardened": hardened, "pool_without_conditional_claims": seed})
        if seed["duplicate_records"]:
            findings.append(f"without conditional claims, {BUILDERS} builders outliving the plan's lock converted "
                            f"{seed['duplicate_records']} records of a pool of {POOL} files more than once: the race "
                            "the plan's item 13 fixes")
        if not hardened["claims_taken_by_another"]:
            findings.append("sim's own builders never contested a claim: the case was not set up")
        passed = (deployed["pass"] and deployed["duplicates"] == 0 and hardened["pass"]
                  and hardened["claims_taken_by_another"] > 0 and hardened["files_in_two_manifests"] == 0
                  and hardened["duplicate_records"] == 0
                  and hardened["records_out"] == hardened["records_generated"]
                  and seed["duplicate_records"] > 0)
        return ctx.verdict(passed, evidence, findings)
    pool = pool_race(ctx)
    evidence["pool"] = pool
    if pool["duplicate_records"]:
        findings.append(f"{BUILDERS} builders on one pending pool converted {pool['duplicate_records']} records more "
                        "than once: claims are not conditional where the builders race")
    passed = deployed["pass"] and deployed["duplicates"] == 0 and pool["pass"] and pool["duplicate_records"] == 0
    return ctx.verdict(passed, evidence, findings)
