"""What every rule of `sim check` shares: the `Snapshot` of the live resources (any value may be a
`Gap`), the statuses and the `_Findings` one check collects into a status, detail and fix, the `@check`
registry that `evaluate` runs in registration order, and small readers of raw AWS shapes (policy
documents, numbers sent as strings, the builder's configuration).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable
from urllib.parse import unquote

from sim.engine import profiles
from sim.infra.spec import Wiring

PASS, FAIL, WARN, NA = "pass", "fail", "warn", "not_applicable"
STATUSES = (PASS, FAIL, WARN, NA)

DEPLOY_FIX = "run `sim deploy` (it restores the desired wiring)"
READ_FIX = ("run `sim check` with credentials that may read the pipeline's configuration "
            "(e.g. the SecurityAudit managed policy)")


# -- the snapshot ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gap:
    """A value the engine did not give. kind: missing | unsupported | denied | error; `what` names the
    resource, `api` the call that could not read it."""

    kind: str
    what: str
    message: str = ""
    api: str = ""

    def describe(self) -> str:
        call = self.api or "the read"
        if self.kind == "missing":
            return f"{self.what} does not exist"
        if self.kind == "unsupported":
            return f"the engine does not answer {self.api or self.what}" + (f" ({self.message})" if self.message else "")
        if self.kind == "denied":
            return f"{call} on {self.what} was denied: {self.message}"
        return f"{call} on {self.what} failed: {self.message}"


@dataclass
class RoleState:
    role: Any = None       # GetRole's Role (with AssumeRolePolicyDocument), or a Gap
    inline: Any = None     # policy name -> document, or a Gap
    attached: Any = None   # managed policy ARN -> document (or a Gap), or a Gap


@dataclass
class Snapshot:
    """Everything the rules read; each value may be a Gap. Built by live.read, or by hand in tests."""

    wiring: Wiring
    target: str = "ministack"
    emulator: bool = True
    buckets: dict = field(default_factory=dict)        # name -> {"exists", "encryption", "public_access_block"}
    account_public_access_block: Any = None           # dict, None (not set) or a Gap
    notification: Any = None                          # the landing bucket's notification configuration
    queues: dict = field(default_factory=dict)         # name -> attributes
    table: Any = None                                 # DescribeTable's Table
    functions: dict = field(default_factory=dict)      # expected function name -> configuration
    event_source_mappings: Any = None                 # mappings of the landing queue
    glue_job: Any = None                              # GetJob's Job (None: not this target's converter)
    glue_security: Any = None                         # the security configuration the job names (None: none named)
    state_machine: Any = None                         # DescribeStateMachine
    topic: Any = None                                 # GetTopicAttributes' Attributes
    subscriptions: Any = None                         # the topic's subscriptions
    alarms: Any = None                                # metric and composite alarms named with the prefix
    roles: dict = field(default_factory=dict)          # role name -> RoleState
    flush_rule: Any = None                            # DescribeRule
    flush_targets: Any = None                         # the rule's targets
    builder_resource_policy: Any = None               # the builder's resource policy document (None: none)
    vpcs: dict = field(default_factory=dict)           # vpc id -> {"endpoints": [...], "nat_gateways": [...]}
    glue_connection_vpcs: dict = field(default_factory=dict)  # Glue connection name -> vpc id
    code: dict = field(default_factory=dict)           # artifact label -> {"live": digest, "want": digest}

    @property
    def names(self):
        return self.wiring.names

    @property
    def glue_mode(self) -> bool:
        return self.wiring.settings.converter_mode == profiles.GLUE

    def expected_functions(self) -> list[str]:
        n = self.names
        return [n.builder_function] + ([] if self.glue_mode else [n.converter_function])


@dataclass
class Result:
    id: str
    title: str
    status: str
    detail: str
    fix: str
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


# -- collecting findings -----------------------------------------------------------------------
class _Findings:
    """What one check found: problems (fail), warnings, notes, and parts the engine cannot answer."""

    def __init__(self):
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.fixes: list[str] = []
        self.unsupported: list[str] = []
        self.checked = False

    def value(self, x, fix: str = DEPLOY_FIX):
        """`x` itself, or None after recording why it is missing."""
        if isinstance(x, Gap):
            if x.kind == "unsupported":
                self.unsupported.append(x.describe())
            else:
                self.problem(x.describe(), fix if x.kind == "missing" else READ_FIX)
            return None
        self.checked = True
        return x

    def problem(self, text: str, fix: str = "") -> None:
        self.problems.append(text)
        self._fix(fix)

    def warn(self, text: str, fix: str = "") -> None:
        self.warnings.append(text)
        self._fix(fix)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def _fix(self, fix: str) -> None:
        if fix and fix not in self.fixes:
            self.fixes.append(fix)

    def result(self, passed: str) -> tuple[str, str, str]:
        tail = self.notes + ([f"not checked: {'; '.join(self.unsupported)}"] if self.unsupported else [])
        if self.problems:
            return FAIL, _join(self.problems + self.warnings + tail), "; ".join(self.fixes)
        if self.warnings:
            return WARN, _join(self.warnings + tail), "; ".join(self.fixes)
        if self.unsupported and not self.checked:
            return NA, _join(self.unsupported + self.notes), ""
        return PASS, _join([passed] + tail), ""


def _join(parts: list[str]) -> str:
    return "; ".join(p for p in parts if p)


# -- registry ----------------------------------------------------------------------------------
CHECKS: list[tuple[str, str, str, Callable[[Snapshot], tuple[str, str, str]]]] = []


def check(check_id: str, title: str, source: str):
    def register(fn):
        CHECKS.append((check_id, title, source, fn))
        return fn

    return register


def evaluate(snap: Snapshot) -> list[Result]:
    results = []
    for check_id, title, source, fn in CHECKS:
        try:
            status, detail, fix = fn(snap)
        except Exception as exc:  # a bug in one rule must not hide the others
            status, detail, fix = FAIL, f"the check itself broke: {type(exc).__name__}: {exc}", "report a bug in sim check"
        results.append(Result(check_id, title, status, detail, fix, source))
    return results


def summary(results: list[Result], target: str = "", endpoint: str | None = None) -> dict:
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    return {"pass": counts[FAIL] == 0, "target": target, "endpoint": endpoint, "counts": counts,
            "checks": [r.as_dict() for r in results]}


# -- helpers -----------------------------------------------------------------------------------
def _as_list(x) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _doc(x) -> dict:
    """A policy document as a dict (IAM may hand it over URL-encoded, SQS as a JSON string)."""
    if isinstance(x, dict):
        return x
    if not x:
        return {}
    text = x if x.lstrip().startswith("{") else unquote(x)
    return json.loads(text)


def _int(x, default: int = 0) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return default


def _days(seconds: int) -> str:
    return f"{seconds / 86400:g} days"


def _builder(snap: Snapshot):
    return snap.functions.get(snap.names.builder_function, Gap("missing", f"function {snap.names.builder_function}"))
