"""`sim check`: a review of the deployed wiring against the plan's Phase 1-2 items and common practice.

`live.py` reads the resources from the engine (or the account) into a `Snapshot`; `rules/` judges
the snapshot without calling anything, so each rule is tested on plain data; `commands.py` adds the
command. Statuses: pass, fail, warn (advisory: reported, never fails the run) and not_applicable
(with the reason: the engine does not answer that API, or the item is a design choice here).
"""

from __future__ import annotations

from sim.core import contract


def run(project) -> contract.Check:
    """Read the live resources of `project` and judge them: `{"pass", "checks": [...]}`."""
    from sim.check import live, rules

    snapshot = live.read(project)
    results = rules.evaluate(snapshot)
    return rules.summary(results, target=snapshot.target, endpoint=project.target.endpoint)
