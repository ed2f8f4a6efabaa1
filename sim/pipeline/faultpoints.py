"""Fault injection points for the simulator's scenarios. Inert unless configured.

Production code calls `reach(point)` at each step boundary and `install()` once; with SIM_FAULTS
unset (always, in production) both return at once and nothing else changes. Scenarios configure
faults through the SIM_FAULTS environment variable of a deployed function or job (JSON), or with
`configure()` when they run pipeline code in-process:

  {"crash_at": "after_claims",          raise InjectedCrash when that point is reached
   "crash_times": 1,                     ... only the first N times (default 1)
   "crash_mode": "kill",                 ... or die there: "kill" (SIGKILL) or "exit" (os._exit),
                                         so no `finally` runs and a held lease stays held
   "pause_at": "mid_claims", "pause_s": 5, "pause_times": 1,
                                         stall at that point (a builder that outlives its lease)
   "fail_calls": {"stepfunctions.StartExecution": {"code": "ThrottlingException", "times": 2}},
   "slow_s": 4, "slow_times": 1,        sleep at the start of the first N invocations
   "state_dir": "/path"}                 where counts live, so "first N" holds across processes

Counts are files created with O_EXCL in `state_dir`, so several Lambda workers and Glue runs on
one machine agree on how many times a fault has fired.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time

ENV = "SIM_FAULTS"
_config: dict | None = None
_hooked = False


class InjectedCrash(Exception):
    """A crash at a named step boundary, injected by a scenario."""


def _load() -> dict:
    global _config
    if _config is None:
        raw = os.environ.get(ENV, "")
        _config = json.loads(raw) if raw else {}
    return _config


def configure(config: dict | None) -> None:
    """Set faults in-process (scenarios running pipeline code directly); None clears them."""
    global _config
    _config = dict(config or {})


def active() -> bool:
    return bool(_load())


def _take(name: str, limit: int) -> bool:
    """True for the first `limit` calls with this name, across processes sharing state_dir."""
    state_dir = _load().get("state_dir") or os.path.join(tempfile.gettempdir(), "sim-faults")
    os.makedirs(state_dir, exist_ok=True)
    for i in range(limit):
        try:
            fd = os.open(os.path.join(state_dir, f"{name}.{i}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            continue
        os.close(fd)
        return True
    return False


def reach(point: str) -> None:
    """A step boundary. Raises InjectedCrash (or kills the process) when a scenario asked for a
    crash here; sleeps when it asked for a pause."""
    config = _load()
    if not config:
        return
    if config.get("pause_at") == point and _take(f"pause-{point}", int(config.get("pause_times", 1))):
        time.sleep(float(config.get("pause_s", 0)))
    if config.get("crash_at") != point:
        return
    if _take(f"crash-{point}", int(config.get("crash_times", 1))):
        mode = config.get("crash_mode", "exception")
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "exit":
            os._exit(137)
        raise InjectedCrash(f"injected crash at {point}")


def on_invocation() -> None:
    """Start of an invocation: a scenario may make the first ones slow (to outlive a timeout)."""
    config = _load()
    if config.get("slow_s") and _take("slow", int(config.get("slow_times", 1))):
        time.sleep(float(config["slow_s"]))


def _before_call(model, **_):
    rule = _load().get("fail_calls", {}).get(f"{model.service_model.service_name}.{model.name}")
    if rule and _take(f"fail-{model.service_model.service_name}.{model.name}", int(rule.get("times", 1))):
        from botocore.exceptions import ClientError

        code = rule.get("code", "InternalFailure")
        raise ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, model.name)


def install(*clients) -> None:
    """Hook injected API errors into the given boto3 clients, or the default session's."""
    global _hooked
    if not _load().get("fail_calls"):
        return
    for client in clients:
        client.meta.events.register("before-call.*.*", _before_call)
    if not clients and not _hooked:
        import boto3

        boto3._get_default_session().events.register("before-call.*.*", _before_call)
        _hooked = True
