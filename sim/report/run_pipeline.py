"""Which pipeline a run ran, for `sim report`: the one its run.json names, or the one given with
--pipeline (which must be that one), with the resource names the run used.

A run records its pipeline's description (path, name, whether it is `sim`'s own) and its resource
prefix (sim/infra/project.py `run_fields`). Runs recorded before that ran `sim`'s own pipeline.
The report then takes the deployed settings from that description and reads that deployment's
resources on the engine; and says which figures it cannot give for a pipeline whose state is not
`sim`'s own schema, rather than invent them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.core import runs
from sim.core.errors import SimError
from sim.infra import description
from sim.infra.spec import Names


@dataclass(frozen=True)
class RunPipeline:
    description: description.Description
    names: Names

    @property
    def own(self) -> bool:
        return self.description.own

    def as_dict(self) -> dict:
        d = self.description
        return {"name": d.name, "path": str(d.path), "own": d.own, "prefix": self.names.prefix}


# Figures that read `sim`'s own schema (its state table's items, its output layout): for another
# pipeline the report names them as not measured, with the reason.
NEEDS_OWN_SCHEMA = {
    "end_to_end": "latency per file joins each file to its manifest's converted_at, both read from sim's own "
                  "state table (FILE and MANIFEST items); this pipeline's state has its own schema",
    "manifest_objects": "manifest documents are counted under sim's own manifests/ prefix of the output bucket; "
                        "where this pipeline keeps its manifests is not described",
}


def of_run(run_name: str, run: dict, given: str | Path | None = None) -> RunPipeline:
    """The pipeline of the run (`run`: its run.json), checked against `given` (--pipeline)."""
    recorded_name = run.get("pipeline_name")
    recorded_path = run.get("pipeline")
    if given:
        pipeline = description.load(given)
        if recorded_name is not None and not ran(run, pipeline):
            raise SimError(f"run {run_name} ran the pipeline {recorded_name!r} ({recorded_path}), not "
                           f"{pipeline.name!r} ({pipeline.path}): pass that pipeline's description, or another --run")
    elif run.get("pipeline_own") or recorded_name is None:
        pipeline = description.load()  # sim's own (runs recorded before runs named their pipeline ran it)
    elif recorded_path and Path(recorded_path).is_file():
        pipeline = description.load(recorded_path)
    else:
        raise SimError(f"run {run_name} ran the pipeline {recorded_name!r} described by {recorded_path}, which is no "
                       "longer there: pass its description with --pipeline FILE")
    names = Names(run["prefix"]) if run.get("prefix") else Names.of(pipeline)
    return RunPipeline(pipeline, names)


def ran(run: dict, pipeline: description.Description) -> bool:
    """Whether the run (its run.json) ran `pipeline` (runs that name none ran `sim`'s own)."""
    if run.get("pipeline_name") is None:
        return pipeline.own
    return run["pipeline_name"] == pipeline.name and bool(run.get("pipeline_own")) == pipeline.own


def latest_run_of(pipeline: description.Description) -> Path | None:
    """The most recently started run folder of `pipeline`, or None."""
    found = []
    for d in runs.reports_dir().iterdir():
        if (d / runs.RUN_FILE).exists():
            info = runs.read_run(d)
            if ran(info, pipeline):
                found.append((info.get("started_at", 0), d))
    return max(found)[1] if found else None
