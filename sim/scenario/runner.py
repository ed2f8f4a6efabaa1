"""Run scenarios one after another on one engine, each from a clean pipeline, and collect verdicts."""

from __future__ import annotations

import logging
import time
import traceback
from typing import Callable

from sim.core import contract
from sim.engine import ministack
from sim.infra.project import Project
from sim.scenario.framework import Context, Verdict


def run(project: Project, modules, progress: Callable[[str], None] | None = None) -> contract.ScenarioRun:
    say = progress or (lambda _m: None)
    # Scenarios run pipeline code in-process too; its INFO lines belong in the engine's log, not here.
    for name in ("manifest_builder", "converter"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if project.embedded:
        ministack.start(project.workdir)
    results = []
    for module in modules:
        say(f"scenario {module.NAME}: {module.DESCRIPTION}")
        ctx = Context(project, module.NAME, progress=say)
        started = time.monotonic()
        try:
            verdict = module.run(ctx)
        except Exception as exc:  # noqa: BLE001 - a crashed scenario is a FAIL with its evidence
            verdict = Verdict(module.NAME, "FAIL", {"error": f"{type(exc).__name__}: {exc}",
                                                    "traceback": traceback.format_exc(limit=6)})
        finally:
            try:
                ctx.restore()
            except Exception as exc:  # noqa: BLE001
                say(f"restoring after {module.NAME} failed: {exc}")
        verdict.seconds = time.monotonic() - started
        say(f"scenario {module.NAME}: {verdict.verdict} in {verdict.seconds:.1f} s")
        results.append(verdict.as_dict())
    ran = [r for r in results if r["verdict"] != "SKIP"]
    return {"pass": bool(ran) and all(r["verdict"] == "PASS" for r in ran), "pipeline": str(project.pipeline.path),
            "scenarios": results}
