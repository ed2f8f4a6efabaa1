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
    assert scenario["verdict"] == "PASS", json.dumps(scenario, indent=1, default=str)[:6000]
    assert result["pass"] is True and scenario["evidence"]
    assert contract.problems(result, contract.ScenarioRun) == []  # what `sim scenario run --json` prints
    if name == "crash-matrix":
        check_crash_matrix(scenario)


def check_crash_matrix(scenario):
    """The matrix covers every ordering, hardened is clean, and the seed's known failures show."""
    matrix = scenario["evidence"]["matrix"]
    assert {c["ordering"] for c in matrix} == {"seed-original", "seed-plan", "hardened"}
    assert all(not c["violations"] for c in matrix if c["ordering"] == "hardened")
    broken = {(c["ordering"], c["crash_point"]) for c in matrix if c["violations"]}
    # The plan's item 2 (start the workflow first): a crash before the statuses are written converts twice.
    assert ("seed-plan", "after_manifest_record") in broken
    assert any("duplicated records" in v for c in matrix if c["ordering"] == "seed-plan" for v in c["violations"])
    # The original order: a crash after the MANIFEST record leaves it without a workflow.
    assert ("seed-original", "after_manifest_record") in broken
    assert scenario["findings"]
