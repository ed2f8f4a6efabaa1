"""The engine's lifecycle and the CLI's JSON contract, through the real `sim` command."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

from sim.core import contract
from sim.engine import ministack

SIM = [sys.executable, "-m", "sim"]


def sim(*args, workdir, check=True, timeout=300):
    proc = subprocess.run(SIM + list(args) + ["--workdir", str(workdir)], capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"sim {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def test_up_twice_is_harmless_and_down_stops(tmp_path):
    first = json.loads(sim("up", "--json", workdir=tmp_path).stdout)
    try:
        assert first["started"] is True and first["endpoint"].startswith("http://127.0.0.1:")
        second = json.loads(sim("up", "--json", workdir=tmp_path).stdout)
        assert second["started"] is False and second["pid"] == first["pid"]
        assert second["deploy_changes"] == 0
    finally:
        down = json.loads(sim("down", "--json", workdir=tmp_path).stdout)
    assert down["stopped"] is True
    assert not ministack.pid_alive(first["pid"])
    assert json.loads(sim("down", "--json", workdir=tmp_path).stdout)["stopped"] is False


def test_the_engine_comes_back_on_its_port_and_its_sqs_trigger_still_works(tmp_path):
    first = json.loads(sim("up", "--json", workdir=tmp_path).stdout)
    sim("down", workdir=tmp_path)
    again = json.loads(sim("up", "--json", workdir=tmp_path).stdout)
    try:
        assert again["started"] is True and again["endpoint"] == first["endpoint"]
        from sim.engine.target import Target
        from sim.infra.spec import Names
        from sim.ops.watch import Watcher

        target = Target("ministack", again["endpoint"])
        target.client("s3").put_object(Bucket=Names().landing_bucket, Key="2026-11-26/after-restart.ndjson",
                                       Body=b'{"a": 1}\n')
        assert Watcher(target, Names()).wait(1, stall_timeout_s=60).tracked == 1  # the persisted trigger polls
    finally:
        sim("down", workdir=tmp_path)


def test_a_taken_port_gives_one_line_naming_the_log(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = sim("up", "--port", str(port), workdir=tmp_path, check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and str(port) in lines[0] and "ministack.log" in lines[0]


def test_a_dead_engine_gives_one_line_naming_the_log(tmp_path):
    state, _ = ministack.start(tmp_path)
    os.killpg(state.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while ministack.pid_alive(state.pid) and time.monotonic() < deadline:
        try:
            os.waitpid(state.pid, os.WNOHANG)
        except ChildProcessError:
            break
        time.sleep(0.05)
    proc = sim("status", "--json", workdir=tmp_path, check=False)
    assert proc.returncode == 1
    assert "dead" in proc.stderr and "ministack.log" in proc.stderr
    assert json.loads(proc.stdout)["error"]
    sim("down", workdir=tmp_path)


def test_status_json_follows_the_contract(engine, pipeline):
    out = json.loads(sim("status", "--json", workdir=engine).stdout)
    assert {"endpoint", "target", "resources", "counts"} <= set(out)
    assert contract.problems(out, contract.Status) == []
    assert set(out["resources"]) >= {"landing_bucket", "output_bucket", "queue_url", "dlq_url", "table",
                                     "state_machine_arn", "alerts_topic_arn"}
    assert out["target"] == "ministack" and out["counts"]["files_landed"] == 0
    assert out["resources"]["uploader_role_arn"].endswith(":role/sim-ingest-uploader-role")
    assert out["counts"]["files_quarantined"] == out["counts"]["files_overwritten"] == 0


def test_demo_json_passes_on_a_small_run(engine):
    proc = sim("demo", "--files", "60", "--file-size", "8KB", "--batch-size", "20", "--json", workdir=engine,
               check=False, timeout=600)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, result
    v = result["validation"]
    assert result["pass"] and v["records_in"] == v["records_out"] == result["records_generated"] > 0
    assert contract.problems(result, contract.Demo) == []
    assert v["duplicates"] == 0 and v["missing"] == 0 and v["manifests"] == 3
    # Every output was checked as its workflow succeeded, none changed since: none read again.
    assert v["early"]["outputs_checked"] == v["early"]["outputs_reused"] == 3, v["early"]
    assert v["early"]["outputs_checked_at_end"] == 0 and v["early"]["unit_errors"] == 0
    timings = result["timings"]
    assert 0 < timings["verdict_after_last_upload_s"] <= timings["drain_s"] + timings["validate_s"]
    # The CPU each part used, the builder and the converter having run (sim/ops/priority.py).
    cpu = result["cpu_s"]
    assert all(cpu[p] > 0 for p in ("engine", "builder", "converter", "validation", "harness")), cpu
    validate = json.loads(sim("validate", "--json", workdir=engine).stdout)
    assert {"pass", "files_landed", "files_in_manifests", "manifests", "records_in", "records_out", "duplicates",
            "missing", "quarantined", "orphans"} <= set(validate)
    assert validate["pass"] is True and "early" not in validate  # on its own: everything from scratch
    assert contract.problems(validate, contract.Validation) == []
    assert {k: validate[k] for k in ("records_in", "records_out", "records_compared", "files_landed")} == \
        {k: v[k] for k in ("records_in", "records_out", "records_compared", "files_landed")}
    deploy = json.loads(sim("deploy", "--json", workdir=engine).stdout)
    assert deploy["changed"] == 0, [c for c in deploy["changes"] if c["action"] != "unchanged"]


def test_bad_input_at_the_cli_is_one_clear_line(tmp_path):
    cases = [
        (["demo", "--files", "abc"], 2),
        (["demo", "--files", "0"], 1),
        (["demo", "--file-size", "3XB"], 1),
        (["status", "--endpoint", "not-a-url"], 1),
        (["status", "--endpoint", "http://127.0.0.1:1"], 1),
        (["deploy", "--target", "mars"], 1),
        (["scenario", "run", "no-such-scenario"], 1),
        (["no-such-command"], 2),
        (["validate"], 1),  # no engine runs in this workdir
        (["check", "--endpoint", "not-a-url"], 1),
        (["check", "--target", "mars"], 1),
    ]
    for args, code in cases:
        proc = subprocess.run(SIM + args + ["--workdir", str(tmp_path)] if args[0] != "no-such-command" else SIM + args,
                              capture_output=True, text=True, timeout=120)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == code, (args, proc.returncode, proc.stderr)
        assert len(lines) == 1 and lines[0].startswith("error:"), (args, proc.stderr)
        assert "Traceback" not in proc.stderr + proc.stdout
    bad_dir = subprocess.run(SIM + ["up", "--workdir", "/proc/no/such/dir"], capture_output=True, text=True, timeout=60)
    assert bad_dir.returncode == 1 and bad_dir.stderr.startswith("error: cannot use /proc/no/such/dir")
