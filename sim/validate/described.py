"""`sim validate` for a pipeline `sim` did not write: what can be judged from outside it.

Records: the lineage-free multiset check (multiset.py) under the description's output settings.
State: what any pipeline shows without `sim` knowing its DynamoDB schema: every workflow execution
ended and none failed, the DLQ is empty. The checks that need `sim`'s own schema (files in exactly
one manifest, orphaned claims, open manifests) are reported as not applicable, with the reason,
never as passed. The document keeps the contract's keys (sim/core/contract.py); a count that
cannot be known from outside is None.
"""

from __future__ import annotations

import time
from typing import Callable

from sim.pipeline.events import is_landing_key
from sim.validate import multiset

NOT_APPLICABLE = ("files in exactly one manifest, claims and open manifests are judged on sim's own DynamoDB "
                  "schema; this pipeline's state is judged from outside (executions, DLQ)")
_FAILED = ("FAILED", "TIMED_OUT", "ABORTED")
EXAMPLES = 5


def options(wiring, workers: int | None = None) -> multiset.Options:
    """The multiset check's parameters, from the pipeline's description."""
    out = wiring.pipeline.output
    return multiset.Options(
        landing_bucket=wiring.names.landing_bucket,
        output_bucket=wiring.substitute(out.bucket, f"{wiring.pipeline.path}: [output] bucket"),
        output_prefix=out.prefix, ignore_columns=out.ignore_columns, json_text_columns=out.json_text_columns,
        quarantine_prefix=out.quarantine_prefix or None, workers=workers or 2)


def outside_state(target, wiring) -> dict:
    """Executions by status and the DLQ's depth: what any pipeline's state shows from outside."""
    sfn, sqs, s3 = target.client("stepfunctions"), target.client("sqs"), target.client("s3")
    executions: dict[str, str] = {}
    try:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=wiring.state_machine_arn()):
            executions.update({e["name"]: e["status"] for e in page.get("executions", [])})
    except sfn.exceptions.StateMachineDoesNotExist:
        pass
    dlq = sqs.get_queue_url(QueueName=wiring.names.dlq)["QueueUrl"]
    depth = int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
                ["Attributes"].get("ApproximateNumberOfMessages", 0))
    landed = not_landing = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=wiring.names.landing_bucket):
        for obj in page.get("Contents", []):
            if is_landing_key(obj["Key"]):
                landed += 1
            else:
                not_landing += 1
    return {"executions": executions, "dlq_messages": depth, "files_landed": landed, "not_landing_keys": not_landing}


def validate_described(target, wiring, on_step: Callable[[str], None] | None = None,
                       workers: int | None = None, early: multiset.Hashed | None = None) -> dict:
    """`early`: digests made while the run drained (sim/validate/early_hashing.py)."""
    started = time.monotonic()
    step = on_step or (lambda _m: None)
    step("reading the pipeline's state from outside (executions, DLQ)")
    state = outside_state(target, wiring)
    step("comparing landed records and output rows as multisets")
    m = multiset.check(target, options(wiring, workers), on_step=step, hashed=early)
    runs = state["executions"]
    failed = sorted(n for n, s in runs.items() if s in _FAILED)
    running = sorted(n for n, s in runs.items() if s == "RUNNING")
    problems = list(m.get("problems", []))
    if failed:
        problems.append(f"failed workflow executions: {len(failed)}: {', '.join(failed[:EXAMPLES])}")
    if running:
        problems.append(f"workflow executions still running: {len(running)}: {', '.join(running[:EXAMPLES])}")
    if state["dlq_messages"]:
        problems.append(f"messages in the DLQ: {state['dlq_messages']} (notifications the builder never took)")
    doc = {
        "pass": bool(m["pass"]) and not problems,
        "pipeline": str(wiring.pipeline.path),
        "lineage": False,
        "files_landed": state["files_landed"],
        "files_tracked": None,
        "files_in_manifests": None,
        "files_in_two_manifests": None,
        "manifests": len(runs),
        "workflows": len(runs),
        "workflows_by_status": _by_status(runs),
        "manifests_failed": len(failed),
        "manifests_unfinished": len(running),
        "records_in": m["records_in"],
        "records_out": m["records_out"],
        "records_compared": m["records_out"],
        "altered": m["altered"],
        "duplicates": m["duplicated"],
        "missing": m["missing"],
        "unexpected": m["unexpected"],
        "quarantined": m["quarantined"],
        "not_records": m.get("not_records", 0),
        "orphans": None,
        "peak_extra_disk_bytes": 0,  # the multiset check streams: nothing is mirrored to disk
        "dlq_messages": state["dlq_messages"],
        "not_landing_keys": state["not_landing_keys"],
        "state_checks": f"not applicable: {NOT_APPLICABLE}",
        "problems": problems,
        "examples": m.get("examples", {}),
        "multiset": m,
        "seconds": {"total": round(time.monotonic() - started, 3), "multiset": m.get("seconds", {}).get("total")},
    }
    if early is not None:
        doc["early"] = {"objects_hashed": len(early.results), "landed_reused": m["hashed_already"]["landed"],
                        "outputs_reused": m["hashed_already"]["outputs"],
                        "seconds_waiting_for_early_units": round(early.seconds_waiting, 3)}
    return doc


def _by_status(runs: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in runs.values():
        out[status] = out.get(status, 0) + 1
    return dict(sorted(out.items()))
