"""The fault rules of SIM_FAULTS (docs/pipeline-description.md, "Fault rules"), read and checked.

Every process that installs the hooks parses the same JSON, so a mistake must fail the same way
everywhere, once, with a message naming the rule and the key: `parse` raises FaultRulesError and
never anything else. Pure: no botocore, no files.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Optional, Tuple

PROCESSES = ("builder", "converter", "*")
ACTIONS = ("fail", "throttle", "delay", "kill", "raise", "lose_reply")
CALL_WHEN = ("before", "after")
PROCESS_WHEN = ("start", "exit")
PROCESS_ACTIONS = ("delay", "kill", "raise")  # what can happen to a process outside a call
COUNTS = ("invocation", "run")

_COMMON = {"process", "call", "nth", "count", "times", "action", "when"}
_BY_ACTION = {"fail": {"code", "message", "status"}, "throttle": {"message"}, "delay": {"seconds"},
              "kill": set(), "raise": {"message"}, "lose_reply": set()}
_TOP = {"state_dir", "record", "rules"}
_CALL = re.compile(r"^[a-z][a-z0-9-]*\.[A-Z][A-Za-z0-9]*$")


class InjectError(ValueError):
    """Bad input to the fault bundle: one line that says what is wrong."""


class FaultRulesError(InjectError):
    """SIM_FAULTS that cannot be applied as written."""


@dataclass(frozen=True)
class Rule:
    index: int  # position in the list: names its `times` tokens, so every process counts the same rule
    process: str
    action: str
    when: str
    call: Optional[str] = None  # "service.Operation"; None for a rule acting on the process
    nth: int = 1
    count: str = "invocation"
    times: int = 1  # 0: always
    code: Optional[str] = None
    message: Optional[str] = None
    status: Optional[int] = None
    seconds: float = 0.0

    def applies_to(self, role: str) -> bool:
        return self.process in ("*", role)


@dataclass(frozen=True)
class Config:
    state_dir: Optional[str]
    record: Optional[str]
    rules: Tuple[Rule, ...]

    def active_for(self, role: str) -> bool:
        """Whether a process of this role has anything to do: a rule for it, or calls to record."""
        return bool(self.record) or any(r.applies_to(role) for r in self.rules)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rule(i: int, raw) -> Rule:
    where = "rule %d" % (i + 1)
    if not isinstance(raw, dict):
        raise FaultRulesError("%s: must be a JSON object, not %s" % (where, type(raw).__name__))
    action = raw.get("action")
    if action not in ACTIONS:
        raise FaultRulesError("%s: action must be one of %s (got %r)" % (where, ", ".join(ACTIONS), action))
    unknown = sorted(set(raw) - _COMMON - _BY_ACTION[action])
    if unknown:
        known = sorted(_COMMON | _BY_ACTION[action])
        raise FaultRulesError("%s: unknown key %r for action %r (keys: %s)" % (where, unknown[0], action, ", ".join(known)))
    process = raw.get("process")
    if process not in PROCESSES:
        raise FaultRulesError("%s: process must be builder, converter or * (got %r)" % (where, process))
    call = raw.get("call")
    fields = {}
    if call is None:
        when = raw.get("when")
        if when not in PROCESS_WHEN:
            raise FaultRulesError("%s: a rule without call acts on the process: when must be start or exit (got %r)"
                                  % (where, when))
        if action not in PROCESS_ACTIONS:
            raise FaultRulesError("%s: action %r needs a call; at %s only %s apply"
                                  % (where, action, when, ", ".join(PROCESS_ACTIONS)))
        for key in ("nth", "count"):
            if key in raw:
                raise FaultRulesError("%s: %s counts calls of an operation; a rule without call has none (use times)"
                                      % (where, key))
    else:
        if not isinstance(call, str) or not _CALL.match(call):
            raise FaultRulesError("%s: call must be service.Operation as botocore names them, e.g. "
                                  "dynamodb.PutItem or stepfunctions.StartExecution (got %r)" % (where, call))
        default_when = "after" if action == "lose_reply" else "before"
        when = raw.get("when", default_when)
        if when not in CALL_WHEN:
            raise FaultRulesError("%s: when must be before or after the call (got %r); start and exit are for "
                                  "rules without call" % (where, when))
        if action == "lose_reply" and when != "after":
            raise FaultRulesError("%s: lose_reply loses the answer of a call that was made: when must be after" % where)
        nth = raw.get("nth", 1)
        if not _is_int(nth) or nth < 1:
            raise FaultRulesError("%s: nth must be an integer from 1 (got %r)" % (where, nth))
        count = raw.get("count", "invocation")
        if count not in COUNTS:
            raise FaultRulesError("%s: count must be invocation or run (got %r)" % (where, count))
        fields.update(call=call, nth=nth, count=count)
    times = raw.get("times", 1)
    if not _is_int(times) or times < 0:
        raise FaultRulesError("%s: times must be an integer from 0 (0: always) (got %r)" % (where, times))
    if action == "fail":
        code = raw.get("code")
        if not isinstance(code, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_.:-]*$", code):
            raise FaultRulesError("%s: fail needs code, the AWS error code the SDK raises, e.g. "
                                  "ConditionalCheckFailedException (got %r)" % (where, code))
        fields["code"] = code
        status = raw.get("status")
        if status is not None and (not _is_int(status) or not 400 <= status <= 599):
            raise FaultRulesError("%s: status must be an HTTP error status, 400 to 599 (got %r)" % (where, status))
        fields["status"] = status
    if "message" in raw:
        if not isinstance(raw["message"], str):
            raise FaultRulesError("%s: message must be a string (got %r)" % (where, raw["message"]))
        fields["message"] = raw["message"]
    if action == "delay":
        seconds = raw.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 3600:
            raise FaultRulesError("%s: delay needs seconds, a number from 0 to under 3600 (got %r)" % (where, seconds))
        fields["seconds"] = float(seconds)
    return Rule(index=i, process=process, action=action, when=when, times=times, **fields)


def parse(raw) -> Optional[Config]:
    """SIM_FAULTS (its JSON text, or the object already read) as a Config; None when unset or empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise FaultRulesError("SIM_FAULTS is not JSON: %s" % exc) from None
    if not isinstance(raw, dict):
        raise FaultRulesError("SIM_FAULTS must be a JSON object (got %s)" % type(raw).__name__)
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        raise FaultRulesError("SIM_FAULTS: unknown key %r (keys: state_dir, record, rules)" % unknown[0])
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise FaultRulesError("SIM_FAULTS: rules must be a list (got %s)" % type(rules_raw).__name__)
    rules = tuple(_rule(i, r) for i, r in enumerate(rules_raw))
    state_dir = raw.get("state_dir")
    if state_dir is not None and (not isinstance(state_dir, str) or not os.path.isabs(state_dir)):
        raise FaultRulesError("SIM_FAULTS: state_dir must be an absolute path (got %r)" % (state_dir,))
    if rules and not state_dir:
        raise FaultRulesError("SIM_FAULTS: rules need state_dir, the folder every process of the run shares "
                              "(where times and run-wide counts are kept)")
    record = raw.get("record")
    if record is not None and (not isinstance(record, str) or not os.path.isabs(record)):
        raise FaultRulesError("SIM_FAULTS: record must be an absolute path (got %r)" % (record,))
    if not rules and not record:
        return None
    return Config(state_dir=state_dir, record=record, rules=rules)
