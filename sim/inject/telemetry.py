"""Telemetry lines for code sim did not write, in the format sim's own pipeline writes them.

`sim report` measures a run from one JSON line per builder invocation or converter run, which
sim's own code appends (sim/pipeline/telemetry.py). A user's pipeline writes none, so the bundle
writes them for it: the same keys with the same meanings (component, ok, at, duration_ms, cpu_ms,
max_rss_mb, calls by service.Operation, write_units and read_units from DynamoDB's
ConsumedCapacity, call_ms, pid; `kind` and `records` for the builder, `runtime` and `manifest_id`
for the converter), appended with O_APPEND as one small write, counts only.

On only when the deploy says so: SIM_INJECT_TELEMETRY=1 beside SIM_TELEMETRY_FILE (the Lambda's
environment, the Glue job's arguments). The deploy sets it for pipelines other than sim's own,
whose code writes its own lines: metering it here too would count every call twice.

Calls are counted where hooks.py sees them (botocore's _make_api_call: every client of every
session), once per call the service answered (a reply, or an AWS error), as sim's own botocore
`after-call` hook counts: a call a fault rule failed before it was sent is not counted, a reply a
rule lost after it came back is. DynamoDB calls ask for ReturnConsumedCapacity=TOTAL unless the
code asked for something itself. A line is written when the handler or script ends (returned or
raised), before the `exit` rules: a process killed earlier writes none, as sim's own.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time

from .rules import InjectError

SWITCH = "SIM_INJECT_TELEMETRY"
FILE = "SIM_TELEMETRY_FILE"
CAPACITY_OPS = frozenset(("PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan", "BatchWriteItem",
                          "BatchGetItem", "TransactWriteItems", "TransactGetItems"))
READ_OPS = frozenset(("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"))


def peak_rss_mb() -> float:
    """This process's own peak (VmHWM): ru_maxrss keeps the forking parent's high-water mark."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def capacity_units(operation: str, parsed) -> tuple:
    """(write, read) units of one DynamoDB answer's ConsumedCapacity (one entry, or a list for
    batch and transaction calls); an engine that reports only the total has it attributed by the
    operation's kind."""
    write = read = 0.0
    consumed = parsed.get("ConsumedCapacity") if isinstance(parsed, dict) else None
    for c in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
        if not isinstance(c, dict):
            continue
        write += float(c.get("WriteCapacityUnits", 0) or 0)
        read += float(c.get("ReadCapacityUnits", 0) or 0)
        if not c.get("WriteCapacityUnits") and not c.get("ReadCapacityUnits"):
            total = float(c.get("CapacityUnits", 0) or 0)
            if operation in READ_OPS:
                read += total
            else:
                write += total
    return write, read


def invocation_fields(component: str, event) -> dict:
    """What a line says of the invocation beside its counts, read from the event as sim's own
    handlers have it: the builder's `kind` (sqs for a batch of Records, with `records`; flush for
    any other event, which on sim's wiring is the described flush event or its schedule), the
    converter Lambda's `runtime` and `manifest_id`."""
    event = event if isinstance(event, dict) else {}
    if component == "builder":
        records = event.get("Records")
        if isinstance(records, list):
            return {"kind": "sqs", "records": len(records)}
        return {"kind": "flush"}
    manifest_id = event.get("manifest_id", "")
    return {"runtime": "lambda", "manifest_id": manifest_id if isinstance(manifest_id, str) else str(manifest_id)}


class Meter:
    """The counts of the invocation under way in this process (one at a time, as Lambda and a
    Glue run have it; calls from several threads of it are summed)."""

    def __init__(self, component: str, path: str):
        if component not in ("builder", "converter"):
            raise InjectError("telemetry needs the process role builder or converter (got %r)" % (component,))
        self.component = component
        self.path = path
        self.lock = threading.Lock()
        self._reset()
        self.started = None

    def _reset(self) -> None:
        self.calls = {}
        self.call_s = {}
        self.write_units = 0.0
        self.read_units = 0.0

    # -- calls ------------------------------------------------------------------------------
    def call(self, send, client, operation, params):
        """Make the call through `send` (botocore's own _make_api_call), counted."""
        service = client.meta.service_model.service_name
        if service == "dynamodb" and operation in CAPACITY_OPS and "ReturnConsumedCapacity" not in params:
            params = dict(params, ReturnConsumedCapacity="TOTAL")
        began = time.monotonic()
        try:
            result = send(client, operation, params)
        except Exception as exc:
            answer = getattr(exc, "response", None)
            if isinstance(answer, dict):  # the service answered with an error: a request it served
                self._count(service, operation, time.monotonic() - began, answer)
            raise
        self._count(service, operation, time.monotonic() - began, result)
        return result

    def _count(self, service: str, operation: str, seconds: float, parsed) -> None:
        name = service + "." + operation
        write, read = capacity_units(operation, parsed) if service == "dynamodb" else (0.0, 0.0)
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.call_s[name] = self.call_s.get(name, 0.0) + seconds
            self.write_units += write
            self.read_units += read

    # -- invocations ------------------------------------------------------------------------
    def begin(self) -> None:
        """A new invocation: counts from zero (calls made while the code was imported are in none)."""
        with self.lock:
            self._reset()
        self.started = (time.monotonic(), cpu_s())

    def line(self, ok: bool, **fields) -> dict:
        began, cpu_began = self.started if self.started else (time.monotonic(), cpu_s())
        with self.lock:
            calls, call_s = dict(self.calls), dict(self.call_s)
            write, read = self.write_units, self.read_units
        return {
            "component": self.component,
            "ok": bool(ok),
            "at": round(time.time(), 3),
            "duration_ms": round((time.monotonic() - began) * 1000, 1),
            "cpu_ms": round((cpu_s() - cpu_began) * 1000, 1),
            "max_rss_mb": round(peak_rss_mb(), 1),
            "calls": dict(sorted(calls.items())),
            "write_units": round(write, 2),
            "read_units": round(read, 2),
            "call_ms": {k: round(v * 1000, 1) for k, v in sorted(call_s.items())},
            "pid": os.getpid(),
            **fields,
        }

    def end(self, ok: bool, **fields) -> None:
        """Append the invocation's line (one write: concurrent processes can share the file)."""
        data = (json.dumps(self.line(ok, **fields), separators=(",", ":")) + "\n").encode()
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        self.started = None


def from_settings(component: str, values) -> "Meter | None":
    """The Meter the switch asks for (`values`: the environment, or the Glue job's arguments by
    name without dashes), or None when it is off. A switch other than 1 or 0, or one without a
    file, is an InjectError."""
    switch = (values.get(SWITCH) or "").strip()
    if switch in ("", "0"):
        return None
    if switch != "1":
        raise InjectError("%s must be 1 (on) or 0 (off) (got %r)" % (SWITCH, switch))
    path = (values.get(FILE) or "").strip()
    if not path or not os.path.isabs(path):
        raise InjectError("%s=1 needs %s, an absolute path to append the lines to (got %r)" % (SWITCH, FILE, path))
    return Meter(component, path)
