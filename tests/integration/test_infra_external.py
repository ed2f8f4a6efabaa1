"""An engine someone else runs: `sim up/deploy --endpoint`, the AWS wiring rehearsed, `sim destroy`.

A MiniStack of its own (started here, like a container would be) so that deploying every target's
wiring and tearing it all down does not disturb the session's engine.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sim.engine import ministack
from sim.engine.target import Target
from sim.infra import iam as policies
from sim.infra.deploy import Deployer
from sim.infra.spec import Names, Settings

SIM = [sys.executable, "-m", "sim"]
CACHE = Path(os.environ.get("SIM_TEST_CACHE") or Path(tempfile.gettempdir()) / "sim-test-cache")
NAMES = Names()


@pytest.fixture(scope="module")
def external(tmp_path_factory):
    """(endpoint, workdir of the CLI) for a MiniStack that the CLI did not start."""
    engine_dir = tmp_path_factory.mktemp("external-engine")
    state, _ = ministack.start(engine_dir)
    cli_dir = tmp_path_factory.mktemp("cli")
    CACHE.mkdir(parents=True, exist_ok=True)
    (cli_dir / "cache").symlink_to(CACHE)  # the converter bundle's wheels, downloaded once per machine
    yield state.endpoint, cli_dir
    ministack.stop(engine_dir)


def sim(*args, workdir, check=True, timeout=600, env_extra: dict | None = None):
    env = {k: v for k, v in os.environ.items() if k != "SIM_ENDPOINT"}
    env.update(env_extra or {})
    proc = subprocess.run(SIM + list(args) + ["--workdir", str(workdir)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"sim {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def leftovers(endpoint: str, names: Names = NAMES) -> dict[str, list[str]]:
    """Every resource of the pipeline still on the engine, by kind (empty lists when all are gone)."""
    t = Target("ministack", endpoint)
    p = names.prefix
    c = t.client
    found = {
        "buckets": [b["Name"] for b in c("s3").list_buckets().get("Buckets", []) if b["Name"].startswith(p)],
        "queues": c("sqs").list_queues(QueueNamePrefix=p).get("QueueUrls", []),
        "tables": [n for n in c("dynamodb").list_tables()["TableNames"] if n.startswith(p)],
        "functions": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"] if f["FunctionName"].startswith(p)],
        "event_source_mappings": [m["UUID"] for m in c("lambda").list_event_source_mappings().get("EventSourceMappings", [])
                                  if m["FunctionArn"].rsplit(":", 1)[-1].startswith(p)],
        "state_machines": [m["name"] for m in c("stepfunctions").list_state_machines()["stateMachines"] if m["name"].startswith(p)],
        "glue_jobs": [j["Name"] for j in c("glue").get_jobs().get("Jobs", []) if j["Name"].startswith(p)],
        "roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"] if r["RoleName"].startswith(p)],
        "rules": [r["Name"] for r in c("events").list_rules(NamePrefix=p).get("Rules", [])],
        "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms(AlarmNamePrefix=p)["MetricAlarms"]],
        "topics": [x["TopicArn"] for x in c("sns").list_topics().get("Topics", []) if x["TopicArn"].endswith(":" + names.topic)],
        "log_groups": [g["logGroupName"] for g in c("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{p}")
                       .get("logGroups", [])],
    }
    return {k: v for k, v in found.items() if v}


def test_up_with_an_endpoint_deploys_without_starting_an_engine(external):
    endpoint, workdir = external
    out = json.loads(sim("up", "--endpoint", endpoint, "--json", workdir=workdir).stdout)
    assert out["started"] is False and out["external"] is True and out["endpoint"] == endpoint
    assert out["pid"] is None and not (workdir / ministack.STATE_FILE).exists()
    assert out["deploy_changes"] > 0
    again = json.loads(sim("deploy", "--endpoint", endpoint, "--json", workdir=workdir).stdout)
    assert again["changed"] == 0 and again["target"] == "ministack"
    bad = sim("up", "--endpoint", endpoint, "--port", "4566", workdir=workdir, check=False)
    assert bad.returncode == 1 and "--port is for the embedded engine" in bad.stderr


def test_deploy_waits_for_an_engine_and_says_so_in_one_line_when_none_answers(external):
    _, workdir = external
    started = time.monotonic()
    proc = sim("deploy", "--endpoint", "http://127.0.0.1:9", "--wait", "3", workdir=workdir, check=False)
    assert proc.returncode == 1 and time.monotonic() - started < 60
    assert "did not answer within 3 s" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_aws_wiring_rehearsed_has_no_emulator_parts_and_exact_policies(external):
    endpoint, _ = external
    target = Target("aws", endpoint)  # the AWS wiring, pointed at the emulator
    deployer = Deployer(target, Settings(target="aws"))
    deployer.apply()
    lam, iam, glue = target.client("lambda"), target.client("iam"), target.client("glue")
    env = lam.get_function_configuration(FunctionName=NAMES.builder_function)["Environment"]["Variables"]
    assert env["LOG_LEVEL"] == "INFO" and env["ENVIRONMENT"] == "production"
    assert not [k for k in env if k.startswith("SIM_")]
    job = glue.get_job(JobName=NAMES.glue_job)["Job"]
    assert job["Timeout"] == 60 and not [k for k in job["DefaultArguments"] if k.lstrip("-").startswith("SIM_")]
    for name, (service, policy) in policies.roles(deployer.wiring).items():
        live = iam.get_role_policy(RoleName=name, PolicyName="pipeline")["PolicyDocument"]
        assert (json.loads(live) if isinstance(live, str) else live) == policy
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert trust["Statement"][0]["Principal"] == {"Service": service}
    assert Deployer(target, Settings(target="aws")).apply() and all(
        c.action == "unchanged" for c in Deployer(target, Settings(target="aws")).apply())


def test_destroy_removes_everything_every_target_deployed_and_twice_is_harmless(external):
    endpoint, workdir = external
    # Both converters' resources, data in every bucket and in the table, then tear it all down.
    sim("deploy", "--endpoint", endpoint, "--target", "localstack", workdir=workdir)
    sim("deploy", "--endpoint", endpoint, "--target", "ministack", workdir=workdir)
    t = Target("ministack", endpoint)
    s3 = t.client("s3")
    for i in range(3):
        s3.put_object(Bucket=NAMES.landing_bucket, Key=f"incoming/2026-11-27/f{i}.ndjson", Body=b'{"a": 1}\n')
    s3.put_object(Bucket=NAMES.output_bucket, Key="parquet/date=2026-11-27/manifest=x.parquet", Body=b"x")
    before = leftovers(endpoint)
    assert {"buckets", "queues", "tables", "functions", "event_source_mappings", "state_machines", "glue_jobs",
            "roles", "rules", "alarms", "topics"} <= set(before), before
    assert {NAMES.converter_function, NAMES.builder_function} <= set(before["functions"])

    out = json.loads(sim("destroy", "--endpoint", endpoint, "--json", workdir=workdir).stdout)
    assert out["deleted"] >= 20
    deleted = {(c["kind"], c["name"]) for c in out["changes"] if c["action"] == "deleted"}
    assert ("s3-bucket", NAMES.landing_bucket) in deleted and ("lambda-function", NAMES.converter_function) in deleted
    assert leftovers(endpoint) == {}

    second = json.loads(sim("destroy", "--endpoint", endpoint, "--json", workdir=workdir).stdout)
    assert second["deleted"] == 0 and all(c["action"] == "absent" for c in second["changes"])
    assert len(second["changes"]) == len(out["changes"])


def test_destroy_on_aws_needs_a_yes(external):
    _, workdir = external
    proc = sim("destroy", "--target", "aws", workdir=workdir, check=False)
    assert proc.returncode == 1 and "--yes" in proc.stderr


def test_a_prefix_names_a_second_pipeline_beside_the_first(external):
    endpoint, workdir = external
    acme = {"SIM_PREFIX": "acme-ingest"}
    sim("deploy", "--endpoint", endpoint, workdir=workdir)  # the default pipeline, left standing
    demo = json.loads(sim("demo", "--files", "12", "--file-size", "4KB", "--batch-size", "5", "--endpoint", endpoint,
                          "--json", workdir=workdir, env_extra=acme).stdout)
    assert demo["pass"] and demo["validation"]["files_landed"] == 12
    ours, theirs = leftovers(endpoint, Names("acme-ingest")), leftovers(endpoint)
    assert "acme-ingest-landing" in ours["buckets"] and "acme-ingest-manifest-builder" in ours["functions"]
    assert all("acme" not in name for names in theirs.values() for name in names)
    assert Target("ministack", endpoint).client("s3").list_objects_v2(Bucket=NAMES.landing_bucket)["KeyCount"] == 0

    sim("destroy", "--endpoint", endpoint, "--json", workdir=workdir, env_extra=acme)
    assert leftovers(endpoint, Names("acme-ingest")) == {}
    assert leftovers(endpoint) == theirs  # the default pipeline untouched
    assert sim("status", "--endpoint", endpoint, workdir=workdir, check=False,
               env_extra={"SIM_PREFIX": "Not_Valid"}).stderr.startswith("error: prefix 'Not_Valid'")
