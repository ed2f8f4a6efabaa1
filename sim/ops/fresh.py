"""A fresh pipeline, the way every run starts (`sim demo`, `sim land`, `sim load`, `sim bench`, each
scenario, the integration tests): the embedded engine started when it is ours, the wiring deployed
once, earlier data wiped unless it is to be kept, and the pipeline ready again.

One Deployer does it all (one STS call): the wipe deletes the state machine to drop its history,
and the same deployer's second apply recreates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sim.engine import ministack
from sim.infra import reset
from sim.infra.deploy import Change, Deployer
from sim.infra.project import Project
from sim.infra.spec import Settings


@dataclass
class FreshPipeline:
    project: Project
    settings: Settings
    deployer: Deployer
    engine: ministack.EngineState | None
    changes: list[Change]  # of the last apply

    @property
    def wiring(self):
        return self.deployer.wiring

    def wipe(self) -> list[Change]:
        """Empty the pipeline's data and history, then deploy again what the wipe removed."""
        reset.wipe(self.project.target, self.project.names, self.deployer.wiring.state_machine_arn(),
                   self.deployer.wiring.table_names())
        self.changes = self.deployer.apply()
        return self.changes


def fresh_pipeline(project: Project, *, keep_data: bool = False, start_engine: bool = True, remember: bool = True,
                   phase: Callable[[str], None] = lambda _m: None, **overrides) -> FreshPipeline:
    """Start (when embedded and asked), deploy the project's settings with `overrides` (None keeps
    a setting as saved), wipe unless `keep_data`, and record the settings for later commands when
    `remember`."""
    engine = None
    if start_engine and project.embedded:
        phase("starting the embedded engine")
        engine, _ = ministack.start(project.workdir)
        for pid, where in ministack.others(project.workdir):
            phase(f"note: the engine of another workdir still runs (pid {pid}, {where}) and takes CPU from "
                  f"this run; `sim down --workdir {where}` stops it")
    phase("deploying the pipeline")
    settings = project.settings(**overrides)  # after the start: the target is the engine just started
    deployer = project.deployer(settings)
    fresh = FreshPipeline(project, deployer.settings, deployer, engine, deployer.apply())
    if not keep_data:
        phase("clearing data from earlier runs")
        fresh.wipe()
    if remember:
        project.remember(settings)
    return fresh
