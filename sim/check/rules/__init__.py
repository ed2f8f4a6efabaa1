"""The rules of `sim check`, pure: each judges a `Snapshot` of the live resources (read by live.py)
against the desired wiring (`sim.infra.spec.Wiring`) and common practice, and never calls AWS.

A value the engine could not give is a `Gap` in the snapshot. A missing resource fails its check
(`sim deploy` makes it); an API the engine does not implement makes the check not_applicable, with
the engine named as the reason; a read that was denied or broke fails, saying so.

Statuses: pass, fail, warn (advisory: reported, never fails the run), not_applicable (with why).

One module an area: `base` (the snapshot, the findings, the `@check` registry, shared helpers), then
`queue`, `alarms`, `log_level`, `encryption`, `iam` and `platform`, each with the checks of its part of
the plan. Importing them below registers their checks; `evaluate` runs the checks in that order, so the
imports keep it (not alphabetical).
"""

from __future__ import annotations

# isort: off
from sim.check.rules import queue  # noqa: F401  (each import registers its module's checks, in order)
from sim.check.rules import alarms  # noqa: F401
from sim.check.rules import log_level  # noqa: F401
from sim.check.rules import encryption  # noqa: F401
from sim.check.rules import iam  # noqa: F401
from sim.check.rules import platform  # noqa: F401
# isort: on
from sim.check.rules.base import (CHECKS, DEPLOY_FIX, FAIL, NA, PASS, READ_FIX, STATUSES, WARN, Gap, Result, RoleState,
                                  Snapshot, check, evaluate, summary)
from sim.check.rules.iam import desired_roles, grants, statement_problems, trust_principals

__all__ = ["CHECKS", "DEPLOY_FIX", "FAIL", "NA", "PASS", "READ_FIX", "STATUSES", "WARN", "Gap", "Result", "RoleState",
           "Snapshot", "check", "desired_roles", "evaluate", "grants", "statement_problems", "summary",
           "trust_principals"]
