"""Faults at the AWS-call boundary of a process, for code sim did not write.

`install` patches botocore.client.BaseClient._make_api_call, the one method every call of every
client of every session goes through (as APM agents do), so code that builds its own sessions and
clients is reached without being edited. Each call of the process's role is counted (per
invocation, and run-wide when a rule asks), recorded when the run wants a record, and faulted when
a rule fires: before the request is sent, or after its answer came back.

With telemetry on (telemetry.py), each call the service answered is also counted for the
invocation's line: inside the rules, so a call a rule failed before it went out is not counted.

Nothing is patched when SIM_FAULTS holds nothing for this process and telemetry is off; with rules
elsewhere in the run but none for this call, a call costs a lock and a few dictionary lookups.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

from . import errors, rules as rules_mod
from .tokens import Tokens

_original = None  # botocore's own _make_api_call, once patched
_injector = None  # the Injector calls go through, or None: pass through
_meter = None  # the telemetry Meter that counts the calls sent, or None


class _Call:
    __slots__ = ("name", "service", "operation", "seq", "nth", "numbers", "invocation", "t", "sent", "error",
                 "injected", "recorded")

    def __init__(self, name, service, operation, seq, nth, numbers, invocation):
        self.name, self.service, self.operation = name, service, operation
        self.seq, self.nth, self.numbers, self.invocation = seq, nth, numbers, invocation
        self.t = time.time()
        self.sent = False
        self.error = None
        self.injected = []
        self.recorded = False


def _error_name(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return code
    return type(exc).__name__


def _scope(process: str) -> str:
    return "all" if process == "*" else process


class Injector:
    """The rules of one process role, its counts and its record."""

    def __init__(self, role: str, config: rules_mod.Config):
        self.role = role
        self.config = config
        mine = [r for r in config.rules if r.applies_to(role)]
        self.before = {}  # call name -> rules acting before it
        self.after = {}
        self.run_scopes = {}  # call name -> the scopes whose run-wide count it advances
        # (scope, call) -> the highest nth a run-wide rule waits for. Once this process has seen that
        # number, every later number in the run is higher, so it stops taking tokens for it.
        self.run_threshold = {}
        self.run_passed = set()
        for r in mine:
            if r.call is None:
                continue
            (self.before if r.when == "before" else self.after).setdefault(r.call, []).append(r)
            if r.count == "run":
                scopes = self.run_scopes.setdefault(r.call, [])
                if _scope(r.process) not in scopes:
                    scopes.append(_scope(r.process))
                key = (_scope(r.process), r.call)
                self.run_threshold[key] = max(self.run_threshold.get(key, 1), r.nth)
        self.at = {"start": [r for r in mine if r.when == "start"], "exit": [r for r in mine if r.when == "exit"]}
        self.tokens = Tokens(config.state_dir) if config.state_dir and config.rules else None
        self.record_fd = None
        if config.record:
            folder = os.path.dirname(config.record)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self.record_fd = os.open(config.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.invocation_number = 0  # 0: calls made while the code is imported, before any invocation
        self.request_id = None
        self.seq = 0
        self.per_invocation = {}

    # -- invocations ------------------------------------------------------------------------
    def begin_invocation(self, request_id=None) -> None:
        with self.lock:
            self.invocation_number += 1
            self.request_id = request_id
            self.seq = 0
            self.per_invocation = {}

    def at_process(self, when: str) -> None:
        """Apply the rules without call for `when` (start or exit) of this invocation."""
        for rule in self.at[when]:
            if self._take(rule):
                self._act_on_process(rule, when)

    # -- calls ------------------------------------------------------------------------------
    def call(self, original, client, operation, params):
        service = client.meta.service_model.service_name
        name = service + "." + operation
        scopes = self.run_scopes.get(name)
        with self.lock:
            self.seq += 1
            nth = self.per_invocation[name] = self.per_invocation.get(name, 0) + 1
            c = _Call(name, service, operation, self.seq, nth, None, "%d.%d" % (self.pid, self.invocation_number))
        if scopes:
            c.numbers = {s: self._run_number(s, name) for s in scopes}
        try:
            for rule in self.before.get(name, ()):
                if self._fires(rule, c):
                    self._act(rule, c, client)
            c.sent = True
            failure = None
            try:
                result = original(client, operation, params)
            except Exception as exc:
                c.error = _error_name(exc)
                failure = exc
            for rule in self.after.get(name, ()):
                if self._fires(rule, c):
                    self._act(rule, c, client)
            if failure is not None:
                raise failure
            return result
        finally:
            if not c.recorded:
                self._record(c)

    def _run_number(self, scope: str, name: str) -> int:
        """This call's number among the run's calls of `name` in `scope`, exact up to the highest
        nth a rule waits for (and no smaller than it after)."""
        key = (scope, name)
        if key in self.run_passed:
            return self.run_threshold[key]
        number = self.tokens.next_number("run.%s.%s" % key)
        if number >= self.run_threshold[key]:
            self.run_passed.add(key)
        return number

    def _fires(self, rule, c) -> bool:
        number = c.nth if rule.count == "invocation" else c.numbers[_scope(rule.process)]
        return number >= rule.nth and self._take(rule)

    def _take(self, rule) -> bool:
        return rule.times == 0 or self.tokens.take("fire.%d" % rule.index, rule.times)

    def _act(self, rule, c, client) -> None:
        c.injected.append(rule.action)
        where = "%s %s #%d" % (rule.when, c.name, c.nth)
        if rule.action == "delay":
            time.sleep(rule.seconds)
        elif rule.action == "kill":
            self._record(c)
            os.kill(os.getpid(), signal.SIGKILL)
        elif rule.action == "raise":
            c.error = "InjectedFault"
            raise errors.InjectedFault(rule.message or "injected fault %s" % where)
        elif rule.action == "lose_reply":
            c.error = "ConnectionClosedError"
            raise errors.lost_reply(client)
        else:  # fail, throttle
            if rule.action == "fail":
                code, status = rule.code, rule.status
            else:
                code, status = errors.throttling(c.service, c.operation)
            c.error = code
            raise errors.client_error(client, c.operation, code, rule.message or "injected %s %s" % (code, where),
                                      status)

    def _act_on_process(self, rule, when: str) -> None:
        if rule.action == "delay":
            time.sleep(rule.seconds)
        elif rule.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            raise errors.InjectedFault(rule.message or "injected fault at %s of the %s" % (when, self.role))

    def _record(self, c) -> None:
        c.recorded = True
        if self.record_fd is None:
            return
        line = {"process": self.role, "invocation": c.invocation, "seq": c.seq, "call": c.name, "nth": c.nth,
                "t": round(c.t, 6), "error": c.error, "sent": c.sent, "injected": c.injected or None, "pid": self.pid}
        if self.request_id:
            line["request_id"] = self.request_id
        os.write(self.record_fd, (json.dumps(line, sort_keys=True) + "\n").encode())


def _send(client, operation_name, api_params):
    """The request going out: botocore's own call, counted when telemetry is on."""
    meter = _meter
    if meter is None:
        return _original(client, operation_name, api_params)
    return meter.call(_original, client, operation_name, api_params)


def _patched_make_api_call(self, operation_name, api_params):
    injector = _injector
    if injector is None:
        return _send(self, operation_name, api_params)
    return injector.call(_send, self, operation_name, api_params)


def install(role: str, config, meter=None) -> "Injector | None":
    """Hook every botocore client of this process for `role` (builder or converter) under `config`
    (a rules.Config, SIM_FAULTS text, or None), counting calls into `meter` (a telemetry.Meter)
    when given; returns the Injector, or None when no rule or record applies to this process.
    Nothing is patched when neither rules nor a meter have anything to do."""
    global _original, _injector, _meter
    if role not in ("builder", "converter"):
        raise rules_mod.InjectError("the process role must be builder or converter (got %r)" % (role,))
    if not isinstance(config, rules_mod.Config):
        config = rules_mod.parse(config)
    injector = Injector(role, config) if config is not None and config.active_for(role) else None
    _injector, _meter = injector, meter
    if injector is None and meter is None:
        return None
    if _original is None:
        import botocore.client

        _original = botocore.client.BaseClient._make_api_call
        botocore.client.BaseClient._make_api_call = _patched_make_api_call
    return injector


def uninstall() -> None:
    """Put botocore back as it was (tests running several configurations in one process)."""
    global _original, _injector, _meter
    _injector = None
    _meter = None
    if _original is not None:
        import botocore.client

        botocore.client.BaseClient._make_api_call = _original
        _original = None


def current():
    return _injector
