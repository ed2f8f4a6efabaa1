"""The verdict of a run: each manifest's output checked as soon as its workflow succeeds, at the
lowest priority, while the run drains; then validation of the whole run below the engine's
priority (sim/ops/priority.py), reusing what was checked early and still stands. `sim demo`,
`sim land` and `sim load` take these steps alike."""

from __future__ import annotations

import time

from sim.infra.project import Project
from sim.ops import priority
from sim.ops.progress import Progress
from sim.validate import described
from sim.validate.early import Background, EarlyCheck
from sim.validate.early_hashing import EarlyHashing
from sim.validate.run import validate


def check_early(project: Project, wiring) -> Background:
    """From now on, each manifest's output is checked as soon as its workflow succeeds, at the
    lowest priority (sim/validate/early.py); for a pipeline sim did not write, each landed object
    and output is hashed for the multiset check as soon as it is listed (early_hashing.py)."""
    if project.pipeline.own:
        return EarlyCheck(project.target, project.names).start()
    return EarlyHashing(project.target, described.options(wiring)).start()


def validate_all(project: Project, progress: Progress, early: Background | None = None) -> tuple[dict, float]:
    """Validate every record, below the engine's priority (sim/ops/priority.py); the verdict and the
    seconds it took. `early`: the outputs checked while the run drained are not read again."""
    progress.phase("validating every record")
    t0 = time.monotonic()
    checked = None
    if early is not None:
        progress.phase(f"finishing the {early.submitted - early.done} checks still running "
                       f"({early.done} done while the run drained)")
        checked = early.stop()
    verdict = priority.at_priority(priority.VALIDATION_NICE, validate, project.target, project.names,
                                   project.cache_dir(), on_step=progress.phase, pipeline=project.pipeline,
                                   early=checked)
    return verdict, time.monotonic() - t0
