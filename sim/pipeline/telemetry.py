"""Count the AWS calls each pipeline invocation makes, for the capacity and cost models.

Off unless SIM_TELEMETRY_FILE names a file (the simulator sets it on local engines only; nothing
changes in production). When on, every boto3 call of the default session is counted by
`service.Operation`, DynamoDB calls ask for ReturnConsumedCapacity so units can be summed, and at
the end of the invocation one JSON line is appended to the file: component, calls, capacity units,
duration, the CPU time the process spent (every thread), peak memory, the process id, and the time
spent waiting on each operation's calls (the discrete-event model in sim/report/predict reads
StartExecution's latency and the converter's work per CPU-second from them). Lines are small single
writes with O_APPEND, so concurrent Lambda workers and Glue runs on one machine can share the file.
Counts only: no keys, no content.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import threading
import time
from collections import Counter

ENV = "SIM_TELEMETRY_FILE"
_CAPACITY_OPS = {"PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan", "BatchWriteItem",
                 "BatchGetItem", "TransactWriteItems", "TransactGetItems"}

_lock = threading.Lock()
_calls: Counter = Counter()
_units = {"write": 0.0, "read": 0.0}
_call_s: Counter = Counter()  # seconds spent in each operation's calls, summed
_started = threading.local()  # when the current thread's call began (the converter uploads in threads)
_installed = False


def _peak_rss_mb() -> float:
    """This process's own peak (VmHWM): ru_maxrss keeps the forking parent's high-water mark."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def _before_params(params, model, **_):
    if model.service_model.service_name == "dynamodb" and model.name in _CAPACITY_OPS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")


def _before_call(model, **_):
    _started.at = time.monotonic()


def _after_call(http_response, parsed, model, **_):
    service = model.service_model.service_name
    began = getattr(_started, "at", None)
    took = time.monotonic() - began if began is not None else 0.0
    with _lock:
        _calls[f"{service}.{model.name}"] += 1
        _call_s[f"{service}.{model.name}"] += took
        if service == "dynamodb" and isinstance(parsed, dict):
            consumed = parsed.get("ConsumedCapacity")
            for c in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
                _units["write"] += float(c.get("WriteCapacityUnits", 0) or 0)
                _units["read"] += float(c.get("ReadCapacityUnits", 0) or 0)
                if not c.get("WriteCapacityUnits") and not c.get("ReadCapacityUnits"):
                    # Engines that report only the total: attribute it by the operation's kind.
                    kind = "read" if model.name in ("GetItem", "Query", "Scan", "BatchGetItem",
                                                    "TransactGetItems") else "write"
                    _units[kind] += float(c.get("CapacityUnits", 0) or 0)


def install() -> None:
    """Hook the default boto3 session (the one `boto3.client()` and `boto3.resource()` use)."""
    global _installed
    if _installed or not enabled():
        return
    import boto3

    events = boto3._get_default_session().events
    events.register("provide-client-params.dynamodb.*", _before_params)
    events.register("before-call.*.*", _before_call)
    events.register("after-call.*.*", _after_call)
    _installed = True


@contextlib.contextmanager
def invocation(component: str, **fields):
    """Measure one invocation; append its line when telemetry is on."""
    if not enabled():
        yield
        return
    install()
    with _lock:
        _calls.clear()
        _call_s.clear()
        _units.update(write=0.0, read=0.0)
    started = time.monotonic()
    cpu_started = _cpu_s()
    ok = False
    try:
        yield
        ok = True
    finally:
        line = {
            "component": component,
            "ok": ok,
            "at": round(time.time(), 3),
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "cpu_ms": round((_cpu_s() - cpu_started) * 1000, 1),
            "max_rss_mb": round(_peak_rss_mb(), 1),
            "calls": dict(sorted(_calls.items())),
            "write_units": round(_units["write"], 2),
            "read_units": round(_units["read"], 2),
            "call_ms": {k: round(v * 1000, 1) for k, v in sorted(_call_s.items())},
            "pid": os.getpid(),
            **fields,
        }
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        fd = os.open(os.environ[ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
