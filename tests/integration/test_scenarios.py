"""Every scenario passes on the embedded engine (each starts from a clean pipeline)."""

import json

import pytest

from sim.core import contract
from sim.engine import lambda_python
from sim.scenario import runner
from sim.scenario.registry import load_all

SCENARIOS = list(load_all())
NEEDS_RUNTIME_PYTHON = {"least-privilege"}  # runs the LocalStack wiring's cp311 converter bundle


def test_the_required_scenarios_exist():
    assert set(SCENARIOS) >= {"duplicate-sqs", "sf-start-failure", "lambda-failure-dlq", "alarm-sns", "log-hygiene",
                              "race", "crash-matrix", "converter-failure", "bad-input",
                              "least-privilege"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_passes(project, name):
    if name in NEEDS_RUNTIME_PYTHON and lambda_python.interpreter() is None:
        pytest.skip(lambda_python.missing_reason())
    result = runner.run(project, [load_all()[name]])
    (scenario,) = result["scenarios"]
    assert scenario["verdict"] == "PASS", _why(scenario)
    assert result["pass"] is True and scenario["evidence"]
    assert contract.problems(result, contract.ScenarioRun) == []  # what `sim scenario run --json` prints
    if name == "crash-matrix":
        check_crash_matrix(scenario)


def _why(scenario) -> str:
    """What a failing scenario said, its verdict and findings first (a crash matrix's evidence runs
    to hundreds of cells: its hardened cells with a violation, not the whole of it)."""
    evidence = scenario.get("evidence") or {}
    shown = {k: v for k, v in scenario.items() if k != "evidence"}
    if "matrix" in evidence:
        shown["hardened_cells_with_a_problem"] = [
            c for c in evidence["matrix"]
            if c.get("ordering") == "hardened" and (c.get("violations") or c.get("recovery_errors") or not c.get("crashed"))]
    else:
        shown["evidence"] = evidence
    return json.dumps(shown, indent=1, default=str)[:8000]


def check_crash_matrix(scenario):
    """The matrix covers every ordering and both ways of dying, hardened is clean at every boundary,
    and the seed plan's known failures show where its orders put them."""
    matrix = scenario["evidence"]["matrix"]
    assert {c["ordering"] for c in matrix} == {"seed-original", "seed-plan", "hardened"}
    assert {c["mode"] for c in matrix} >= {"exception", "kill"}
    assert all(not c["violations"] for c in matrix if c["ordering"] == "hardened")
    # Recovery reached the path that finds an execution closed without recording (StartExecution,
    # then DescribeExecution): the cell says so, or it is a violation.
    assert [c["executions_closed"] for c in matrix if "ABORTED" in c.get("recovered_after", "")] == [["ABORTED"]]
    # A flush killed between recording a redrive and starting it: REDRIVE recovery starts that execution.
    (redrive,) = [c for c in matrix if c.get("crash_point") == "redrive_recorded_not_started"]
    assert redrive["after_death"]["open_flag"] == "REDRIVE" and not redrive["violations"]
    calls = scenario["evidence"]["calls"]
    assert len(calls["hardened"]) > 5 and "stepfunctions.StartExecution #1" in calls["seed-plan"]
    # Every boundary of every ordering has a row in each mode.
    for ordering in ("seed-original", "seed-plan", "hardened"):
        rows = [c for c in scenario["evidence"]["explorer"] if c["ordering"] == ordering]
        assert len(rows) == 2 * (len(calls[ordering]) + 1)

    def broken(ordering, starts):
        return [v for c in matrix if c["ordering"] == ordering and c["boundary"].startswith(starts)
                for v in c["violations"]]

    # The plan's item 2 (start the workflow first): killed after the start, before the MANIFEST record
    # and the statuses are written, the files stay pending and are converted a second time.
    assert any("duplicated records" in v for v in broken("seed-plan", "after stepfunctions.StartExecution #1"))
    # The original code without item 1: a batch whose builder died after starting the workflow is
    # redelivered, tracking puts its files back to pending, and they are converted again.
    assert any("duplicated records" in v for v in broken("seed-original", "after stepfunctions.StartExecution #1"))
    # An exception the builder's own code catches (the plan's swallowed MANIFEST write) is recorded
    # as caught, and judged like any other cell.
    assert all(c["reached"] for c in scenario["evidence"]["explorer"])
    assert any(c.get("caught") for c in matrix if c["ordering"] == "seed-plan")
    assert scenario["findings"]
