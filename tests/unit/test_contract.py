"""The `--json` contract as code (sim/core/contract.py): a real output passes, a broken one is named."""

import json
from pathlib import Path

from sim.core import contract

LOAD = Path(__file__).resolve().parents[1] / "data" / "load-run" / "load.json"  # what `sim load --json` printed


def test_a_real_load_document_keeps_the_contract():
    doc = json.loads(LOAD.read_text())
    assert contract.problems(doc, contract.Load) == []
    assert contract.problems(doc["validation"], contract.Validation) == []


def test_a_broken_document_is_named_key_by_key():
    doc = json.loads(LOAD.read_text())
    del doc["upload_ms"]
    doc["profile"] = None
    doc["validation"]["records_in"] = "many"
    doc["end_to_end_s"]["p95"] = True  # a bool is not a JSON number here
    assert contract.problems(doc, contract.Load) == [
        "$.upload_ms: missing",
        "$.profile: str expected, got NoneType",
        "$.end_to_end_s.p95: True is none of int, float, NoneType",
        "$.validation.records_in: int expected, got str",
    ]


def test_literals_lists_and_nested_documents():
    check = {"pass": True, "target": "ministack", "endpoint": None,
             "counts": {"pass": 1, "fail": 0, "warn": 0, "not_applicable": 0},
             "checks": [{"id": "dlq", "title": "t", "status": "passed", "detail": "", "fix": "", "source": ""}]}
    assert contract.problems(check, contract.Check) == ["$.checks[0].status: 'passed' is not one of "
                                                        "('pass', 'fail', 'warn', 'not_applicable')"]
    run = {"pass": False, "scenarios": [{"name": "race", "verdict": "FAIL", "evidence": {}}]}
    assert contract.problems(run, contract.ScenarioRun) == []
    assert contract.problems({"pass": False, "error": "no engine"}, contract.Error) == []
    assert set(contract.DOCUMENTS) >= {"demo", "validate", "land", "load", "bench", "report", "check"}
