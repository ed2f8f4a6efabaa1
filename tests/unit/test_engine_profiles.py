"""What differs between targets lives in sim/engine/profiles.py, and only there."""

import ast
from pathlib import Path

import pytest

from sim.core.errors import SimError
from sim.engine import profiles
from sim.engine.target import Target, resolve
from sim.infra.spec import Settings, Wiring

ROOT = Path(__file__).resolve().parents[2]
TARGET_NAMES = set(profiles.NAMES)


def wiring(target: str, **kw) -> Wiring:
    return Wiring("123456789012", "us-east-1", Settings(target=target, **kw))


def test_ministack_behaviour_is_unchanged():
    s = Settings(target="ministack")
    assert (s.converter_mode, s.glue_timeout, s.poll_seconds, s.environment) == ("glue", 600, 2, "development")


def test_the_embedded_engine_converts_one_run_per_core_while_aws_keeps_the_capacity_models_number(tmp_path):
    import os

    from sim.engine import glue_slots, ministack

    cores = len(os.sched_getaffinity(0))
    assert profiles.LOCAL_GLUE_CONCURRENT_RUNS == cores
    assert wiring("ministack").glue_job()["ExecutionProperty"]["MaxConcurrentRuns"] == cores
    assert Settings(target="aws").glue_max_concurrent_runs == Settings.glue_max_concurrent_runs
    env = ministack.engine_env(tmp_path, 4566)
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / glue_slots.BIN_DIR)  # its python3 comes first
    assert env[glue_slots.ENV] == os.environ.get(glue_slots.ENV, str(cores))


def test_localstack_runs_the_converter_as_a_lambda_with_its_dependencies_bundled():
    p = profiles.profile("localstack")
    assert p.converter == profiles.LAMBDA and p.bundles_converter_dependencies
    assert p.native_sqs_metrics and p.default_endpoint == "http://localhost:4566"
    assert not profiles.profile("ministack").bundles_converter_dependencies  # Lambda code uses the host's Python


def test_aws_has_no_emulator_parts():
    w = wiring("aws")
    s = w.settings
    assert not s.profile.emulator and s.profile.native_sqs_metrics
    # no engine overrides: the description's 60 minutes, the default polling
    assert (s.glue_timeout, s.poll_seconds) == (w.pipeline.converter.timeout, Settings.poll_seconds) == (60, 30)
    envs = [w.builder_environment(), w.converter_config()["Environment"]["Variables"], w.glue_job()["DefaultArguments"]]
    assert not any(k.lstrip("-").startswith("SIM_") for env in envs for k in env)


@pytest.mark.parametrize("switch", [{"faults": '{"crash_at": "after_claims"}'}, {"telemetry_file": "/tmp/t.jsonl"}])
def test_simulator_switches_are_refused_on_aws(switch):
    with pytest.raises(SimError, match="simulator-only"):
        Settings(target="aws", **switch)
    assert Settings(target="ministack", **switch)  # and allowed on an emulator


def test_an_unknown_target_is_one_clear_error(tmp_path):
    with pytest.raises(SimError, match="unknown target 'gcp'"):
        Settings(target="gcp")
    with pytest.raises(SimError, match="unknown target"):
        resolve(tmp_path, None, "gcp")


def test_resolution_follows_the_profiles(tmp_path, monkeypatch):
    monkeypatch.delenv("SIM_ENDPOINT", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert resolve(tmp_path, None, "aws") == Target("aws", None)
    assert resolve(tmp_path, "http://127.0.0.1:9/", "aws") == Target("aws", "http://127.0.0.1:9")  # a rehearsal
    assert resolve(tmp_path, None, "localstack") == Target("localstack", "http://localhost:4566")
    assert resolve(tmp_path, "http://engine:4566", "localstack").endpoint == "http://engine:4566"
    monkeypatch.setenv("SIM_ENDPOINT", "http://127.0.0.1:7")
    assert resolve(tmp_path, None, "aws").endpoint is None  # $SIM_ENDPOINT never redirects a real account
    assert resolve(tmp_path, None, None) == Target("ministack", "http://127.0.0.1:7")
    with pytest.raises(SimError, match="no engine runs"):
        monkeypatch.delenv("SIM_ENDPOINT")
        resolve(tmp_path, None, None)


def test_a_real_account_uses_the_environments_region(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    target = resolve(tmp_path, None, "aws")
    assert target.region == "eu-west-1" and target.session.region_name == "eu-west-1"
    assert resolve(tmp_path, "http://127.0.0.1:9", "aws").region == "us-east-1"  # emulators keep theirs


def _target_name_comparisons(path: Path) -> list[str]:
    """`x == "aws"`-style tests against a target name, found in one file's syntax tree."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op in operands:
                values = [op] if isinstance(op, ast.Constant) else getattr(op, "elts", [])
                if any(isinstance(v, ast.Constant) and v.value in TARGET_NAMES for v in values):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_scattered_target_checks_in_the_wiring_and_deploy():
    files = [*sorted((ROOT / "sim" / "infra").glob("*.py")), ROOT / "sim" / "engine" / "target.py"]
    offenders = [hit for f in files if f.name != "profiles.py" for hit in _target_name_comparisons(f)]
    assert offenders == []


def test_the_scan_for_scattered_checks_can_find_one(tmp_path):
    bad = ROOT / "sim" / "infra" / "_probe_for_test.py"
    try:
        bad.write_text('def f(t):\n    return t.name == "localstack" or t in ("aws",)\n')
        assert len(_target_name_comparisons(bad)) == 2
    finally:
        bad.unlink()
