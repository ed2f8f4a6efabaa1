"""The pipeline's telemetry line (sim/pipeline/telemetry.py): calls counted by operation, the time
spent in each operation's calls, the CPU time and the process id the model's record joins on."""

import json
import os
import time
from types import SimpleNamespace

from sim.pipeline import telemetry


def _model(service: str, op: str):
    return SimpleNamespace(name=op, service_model=SimpleNamespace(service_name=service))


def test_a_line_carries_call_times_cpu_and_pid(tmp_path, monkeypatch):
    path = tmp_path / "telemetry.jsonl"
    monkeypatch.setenv(telemetry.ENV, str(path))
    monkeypatch.setattr(telemetry, "_installed", True)  # the hooks are called by hand below
    start = _model("stepfunctions", "StartExecution")
    with telemetry.invocation("builder", kind="sqs", records=1):
        telemetry._before_call(model=start)
        time.sleep(0.05)
        telemetry._after_call(http_response=None, parsed={}, model=start)
        deadline = time.process_time() + 0.05
        while time.process_time() < deadline:  # CPU work the line must count
            pass
    line = json.loads(path.read_text())
    assert line["calls"] == {"stepfunctions.StartExecution": 1}
    assert 45 <= line["call_ms"]["stepfunctions.StartExecution"] <= line["duration_ms"]
    assert line["cpu_ms"] >= 45
    assert line["pid"] == os.getpid()
    assert (line["kind"], line["records"]) == ("sqs", 1)
