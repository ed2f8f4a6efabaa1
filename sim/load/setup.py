"""Get a pipeline ready for a run, as `sim demo` does: the engine (when embedded), the deploy, and
a wipe of earlier data unless it is to be kept."""

from __future__ import annotations

from typing import Callable

from sim.engine import ministack
from sim.infra import reset
from sim.infra.deploy import Deployer
from sim.infra.spec import Settings
from sim.project import Project


def prepare(project: Project, batch_size: int | None = None, keep_data: bool = False,
            phase: Callable[[str], None] = lambda _m: None) -> tuple[Settings, ministack.EngineState | None]:
    engine = None
    if project.embedded:
        phase("starting the embedded engine")
        engine, _ = ministack.start(project.workdir)
    phase("deploying the pipeline")
    settings = project.settings(batch_size=batch_size)
    deployer = Deployer(project.target, settings)
    deployer.apply()  # every resource exists before it is emptied
    if not keep_data:
        phase("clearing data from earlier runs")
        wipe(project, settings)
    project.remember(settings)
    return settings, engine


def wipe(project: Project, settings: Settings) -> None:
    """Empty the pipeline's data; the state machine is recreated by the deploy that follows."""
    deployer = Deployer(project.target, settings)
    reset.wipe(project.target, project.names, deployer.wiring.state_machine_arn())
    Deployer(project.target, settings).apply()
