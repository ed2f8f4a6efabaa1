"""Scenario verdicts as JUnit XML, so a pipeline team's own CI shows them beside its tests.

One test case per scenario, and one per crash-explorer boundary (a scenario whose evidence holds an
`explorer` table), each with its evidence in `system-out`. A skipped scenario (it judges only
`sim`'s own schema and was given another pipeline) is a skipped case with its reason: never a pass.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path


def _case(suite: ET.Element, classname: str, name: str, seconds: float, verdict: str, message: str,
          evidence) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
    if verdict == "FAIL":
        ET.SubElement(case, "failure", message=message or "FAIL", type="ScenarioFailed").text = message
    elif verdict == "SKIP":
        ET.SubElement(case, "skipped", message=message or "skipped")
    ET.SubElement(case, "system-out").text = json.dumps(evidence, indent=1, default=str, ensure_ascii=False)


def _summary(scenario: dict) -> str:
    if scenario.get("skipped"):
        return scenario["skipped"]
    findings = scenario.get("findings") or []
    evidence = scenario.get("evidence") or {}
    if "error" in evidence:
        return str(evidence["error"])
    return "; ".join(findings) if findings else ""


def document(result: dict, pipeline: str = "") -> ET.ElementTree:
    """The JUnit XML of a `sim scenario run` result."""
    suites = ET.Element("testsuites", name="sim scenarios")
    suite = ET.SubElement(suites, "testsuite", name=f"sim scenarios{': ' + pipeline if pipeline else ''}")
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    total = 0.0
    for s in result.get("scenarios", []):
        seconds = float(s.get("seconds") or 0.0)
        total += seconds
        _case(suite, "scenario", s["name"], seconds, s["verdict"], _summary(s), s.get("evidence", {}))
        counts["tests"] += 1
        counts["failures"] += s["verdict"] == "FAIL"
        counts["skipped"] += s["verdict"] == "SKIP"
        for row in (s.get("evidence") or {}).get("explorer", []) or []:
            verdict = "FAIL" if row.get("violations") else "PASS"
            name = f"{row.get('ordering', 'pipeline')}: {row.get('boundary', row.get('crash_point', '?'))} ({row.get('mode', '')})"
            _case(suite, f"crash-explorer.{s['name']}", name, float(row.get("settle_s") or 0.0), verdict,
                  "; ".join(row.get("violations", [])), row)
            counts["tests"] += 1
            counts["failures"] += verdict == "FAIL"
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("errors", "0")
    suite.set("time", f"{total:.3f}")
    return ET.ElementTree(suites)


def write(result: dict, path: str | Path, pipeline: str = "") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = document(result, pipeline)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
