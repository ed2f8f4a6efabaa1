"""What the fault hooks cost a botocore call, measured in one process, interleaved rounds.

    .venv/bin/python scripts/inject_overhead.py [--calls 20000] [--rounds 5] [--json]

Each call is a real botocore client call (dynamodb.GetItem: parameter validation, serialization,
signing, events) answered locally by a before-call handler, so no network time hides the hooks'
share. Modes, each timed per round in the same rounds:
  plain        botocore as shipped (SIM_FAULTS unset: nothing is patched)
  other-rules  hooks installed, rules only for other calls, no record
  record       hooks installed, every call appended to a record file
  run-count    a count=run rule on this call: one O_EXCL token file per call
Reported: microseconds per call (median of rounds, min-max), and the extra over plain. The hooks'
own share is also timed alone (`hook_alone_us`): the patched method around a stand-in that returns at
once, against calling that stand-in directly, which a whole botocore call's noise would hide.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sim.inject import hooks  # noqa: E402


class _Http:
    status_code = 200
    headers: dict = {}
    raw = None
    content = b"{}"


def _client():
    c = boto3.session.Session().client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                       aws_access_key_id="x", aws_secret_access_key="x")
    c.meta.events.register("before-call.dynamodb.GetItem", lambda **_: (_Http(), {"Item": {}}))
    return c


def _config(mode: str, folder: str):
    state = {"state_dir": folder}
    if mode == "other-rules":
        return {**state, "rules": [{"process": "builder", "call": "s3.PutObject", "action": "kill"}]}
    if mode == "record":
        return {**state, "record": f"{folder}/calls.jsonl"}
    if mode == "run-count":
        return {**state, "rules": [{"process": "builder", "call": "dynamodb.GetItem", "count": "run", "nth": 10 ** 9,
                                    "action": "kill"}]}
    return None


def _time(c, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        c.get_item(TableName="t", Key={"pk": {"S": "k"}})
    return (time.perf_counter() - t0) / calls * 1e6


def _hook_alone(c, calls: int, rounds: int, folder: str) -> dict:
    def answer(client, operation, params):
        return {}

    def direct() -> float:
        t0 = time.perf_counter()
        for _ in range(calls):
            answer(c, "GetItem", {})
        return (time.perf_counter() - t0) / calls * 1e6

    def hooked() -> float:
        t0 = time.perf_counter()
        for _ in range(calls):
            hooks._patched_make_api_call(c, "GetItem", {})
        return (time.perf_counter() - t0) / calls * 1e6

    hooks.uninstall()
    injector = hooks.install("builder", json.dumps(_config("other-rules", folder)))
    injector.begin_invocation()
    hooks._original = answer  # the stand-in in botocore's place, for this timing only
    extra = []
    for _ in range(rounds):
        extra.append(hooked() - direct())
    hooks._original = None
    hooks.uninstall()
    return {"median": round(statistics.median(extra), 2), "min": round(min(extra), 2), "max": round(max(extra), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    modes = ("plain", "other-rules", "record", "run-count")
    c = _client()
    _time(c, 500)  # warm up
    samples = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds):
            for m in modes:
                hooks.uninstall()
                config = _config(m, tempfile.mkdtemp(dir=root))
                if config:
                    injector = hooks.install("builder", json.dumps(config))
                    injector.begin_invocation()
                samples[m].append(_time(c, args.calls))
        hooks.uninstall()
        alone = _hook_alone(c, args.calls * 10, args.rounds, tempfile.mkdtemp(dir=root))
    out = {"calls_per_round": args.calls, "rounds": args.rounds, "us_per_call": {}, "hook_alone_us": alone}
    base = statistics.median(samples["plain"])
    for m in modes:
        med = statistics.median(samples[m])
        out["us_per_call"][m] = {"median": round(med, 2), "min": round(min(samples[m]), 2),
                                 "max": round(max(samples[m]), 2), "extra_us": round(med - base, 2),
                                 "ratio_to_plain": round(med / base, 3)}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{args.calls} calls x {args.rounds} rounds; microseconds per call (median, min-max), extra over plain")
    for m, v in out["us_per_call"].items():
        print(f"  {m:12s} {v['median']:8.2f}  ({v['min']:.2f}-{v['max']:.2f})  +{v['extra_us']:.2f} us  x{v['ratio_to_plain']}")
    print(f"  the hook alone (rules for other calls, no record): +{alone['median']:.2f} us per call "
          f"({alone['min']:.2f}-{alone['max']:.2f})")


if __name__ == "__main__":
    main()
