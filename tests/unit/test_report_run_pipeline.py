"""Which pipeline `sim report` reads a run with: the one its run.json names, checked against --pipeline."""

import pytest

from sim.core.errors import SimError
from sim.infra import description
from sim.report import run_pipeline
from tests.seed_plan_example import EXAMPLE

SEED = EXAMPLE / "pipeline.toml"
FIXED = EXAMPLE / "pipeline-fixed.toml"


def recorded(path, own=False, name=None, prefix=None):
    d = description.load(path)
    return {"pipeline": str(d.path), "pipeline_name": name or d.name, "pipeline_own": own,
            "prefix": prefix or d.default_prefix}


def test_a_run_is_read_with_the_pipeline_it_recorded_and_its_prefix(monkeypatch):
    monkeypatch.setenv("SIM_PREFIX", "sim-elsewhere")  # the run's own prefix wins over today's shell
    rp = run_pipeline.of_run("demo-1", recorded(SEED, prefix="sim-seed-plan"))
    assert (rp.description.name, rp.own, rp.names.prefix) == ("seed-plan", False, "sim-seed-plan")
    assert run_pipeline.of_run("demo-1", recorded(SEED, prefix="sim-seed-plan"), SEED).description.path == SEED.resolve()


def test_runs_that_name_no_pipeline_ran_sims_own(monkeypatch):
    monkeypatch.delenv("SIM_PREFIX", raising=False)
    rp = run_pipeline.of_run("demo-0", {"kind": "demo"})
    assert rp.own and rp.names.prefix == "sim-ingest"
    assert run_pipeline.ran({"kind": "demo"}, description.load()) and not run_pipeline.ran({}, description.load(SEED))


def test_another_pipeline_than_the_run_ran_is_one_clear_error():
    fixed = description.load(FIXED)
    with pytest.raises(SimError, match=r"run demo-1 ran the pipeline 'seed-plan' .*, not 'seed-plan-fixed'"):
        run_pipeline.of_run("demo-1", recorded(SEED), FIXED)
    with pytest.raises(SimError, match="ran the pipeline 'ingest'"):
        run_pipeline.of_run("demo-2", recorded(None, own=True), SEED)
    assert fixed.name == "seed-plan-fixed"


def test_a_description_that_moved_away_is_asked_for(tmp_path):
    run = {**recorded(SEED), "pipeline": str(tmp_path / "gone" / "pipeline.toml")}
    with pytest.raises(SimError, match="which is no longer there: pass its description with --pipeline FILE"):
        run_pipeline.of_run("demo-3", run)
    assert run_pipeline.of_run("demo-3", run, SEED).description.name == "seed-plan"
