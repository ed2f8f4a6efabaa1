"""Scenario verdicts as JUnit XML: a case per scenario and per explorer boundary, failures and skips kept."""

import xml.etree.ElementTree as ET

from sim.scenario import junit


def test_cases_carry_verdicts_evidence_and_boundaries(tmp_path):
    result = {"pass": False, "scenarios": [
        {"name": "duplicate-sqs", "verdict": "PASS", "evidence": {"files": 10}, "findings": [], "seconds": 3.2},
        {"name": "race", "verdict": "FAIL", "evidence": {"dup": 4}, "findings": ["4 files in two manifests"],
         "seconds": 5.0},
        {"name": "late-status", "verdict": "SKIP", "evidence": {}, "findings": [], "seconds": 0.0,
         "skipped": "judges sim's own DynamoDB schema"},
        {"name": "crash-matrix", "verdict": "FAIL", "findings": [], "seconds": 9.0, "evidence": {"explorer": [
            {"ordering": "seed-plan", "boundary": "after s3.PutObject #1, before dynamodb.PutItem #1",
             "mode": "kill", "violations": ["duplicated records: 8"], "settle_s": 4.0},
            {"ordering": "hardened", "boundary": "before dynamodb.PutItem #1 (the first call)", "mode": "kill",
             "violations": [], "settle_s": 2.0}]}},
    ]}
    path = junit.write(result, tmp_path / "out" / "junit.xml", pipeline="seed-plan")
    suite = ET.parse(path).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "3", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["race"].find("failure").get("message") == "4 files in two manifests"
    assert cases["late-status"].find("skipped").get("message") == "judges sim's own DynamoDB schema"
    assert cases["duplicate-sqs"].find("failure") is None and '"files": 10' in cases["duplicate-sqs"].find("system-out").text
    broken = cases["seed-plan: after s3.PutObject #1, before dynamodb.PutItem #1 (kill)"]
    assert broken.get("classname") == "crash-explorer.crash-matrix"
    assert broken.find("failure").get("message") == "duplicated records: 8"
    assert cases["hardened: before dynamodb.PutItem #1 (the first call) (kill)"].find("failure") is None
