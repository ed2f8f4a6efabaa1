"""`sim check` against a real deployment on the embedded engine: the default wiring passes; breaking
one thing by hand fails exactly the check about it, with a fix and a non-zero exit; `sim deploy`
(Deployer.apply) puts it back and the check passes again."""

import json
import os
import subprocess
import sys

import pytest

from sim.core import contract
from sim.infra import iam
from sim.infra.deploy import Deployer

REQUIRED_PASS = ("dlq-redrive", "dlq-retention", "visibility-timeout", "event-source-mapping", "alarms-expected",
                 "alarm-actions", "alerts-topic", "log-level", "s3-encryption", "s3-public-access", "sqs-encryption",
                 "dynamodb-encryption", "glue-security-configuration", "iam-own-roles", "iam-least-privilege",
                 "iam-grants-complete", "workflow", "flush-schedule", "landing-notification")


def sim_check(project, *extra):
    env = {k: v for k, v in os.environ.items() if k != "SIM_ENDPOINT"}
    proc = subprocess.run([sys.executable, "-m", "sim", "check", "--workdir", str(project.workdir), *extra],
                          env=env, capture_output=True, text=True, timeout=180)
    return proc


def check_json(project):
    proc = sim_check(project, "--json")
    assert proc.stdout, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert contract.problems(result, contract.Check) == []
    return proc.returncode, result


def failures(result):
    return [c for c in result["checks"] if c["status"] == "fail"]


def test_the_default_deployment_passes(project, pipeline):
    code, result = check_json(project)
    assert code == 0 and result["pass"] is True, json.dumps(failures(result), indent=1)
    by_id = {c["id"]: c for c in result["checks"]}
    for check_id in REQUIRED_PASS:
        assert by_id[check_id]["status"] == "pass", by_id[check_id]
    assert by_id["vpc"]["status"] == "not_applicable" and by_id["vpc"]["detail"]
    assert by_id["sns-encryption"]["status"] == "not_applicable"
    assert by_id["tracing"]["status"] in ("warn", "pass")
    assert all(c["source"] and c["title"] for c in result["checks"])
    assert result["counts"]["fail"] == 0 and sum(result["counts"].values()) == len(result["checks"])

    people = sim_check(project)
    assert people.returncode == 0, people.stderr[-2000:]
    assert "PASS" in people.stdout and "dlq-redrive" in people.stdout


def _remove_redrive(project, deployer):
    sqs = project.target.client("sqs")
    url = sqs.get_queue_url(QueueName=project.names.queue)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})


def _alarm_without_actions(project, deployer):
    alarm = dict(deployer.wiring.alarms()[0])
    alarm.pop("AlarmActions")
    project.target.client("cloudwatch").put_metric_alarm(**alarm)


def _star_in_a_role(project, deployer):
    name = project.names.builder_role
    policy = iam.roles(deployer.wiring)[name][1]
    policy = {**policy, "Statement": policy["Statement"] + [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    project.target.client("iam").put_role_policy(RoleName=name, PolicyName="pipeline", PolicyDocument=json.dumps(policy))


def _no_partial_batch_responses(project, deployer):
    lam = project.target.client("lambda")
    (mapping,) = lam.list_event_source_mappings(FunctionName=project.names.builder_function)["EventSourceMappings"]
    lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionResponseTypes=[])


def _no_log_level(project, deployer):
    lam = project.target.client("lambda")
    name = project.names.builder_function
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    env.pop("LOG_LEVEL")
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": env})


@pytest.mark.parametrize("breakage, check_id, words", [
    (_remove_redrive, "dlq-redrive", "no redrive policy"),
    (_alarm_without_actions, "alarm-actions", "no alarm action"),
    (_star_in_a_role, "iam-least-privilege", "wildcard action"),
    (_no_partial_batch_responses, "event-source-mapping", "ReportBatchItemFailures"),
    (_no_log_level, "log-level", "no LOG_LEVEL"),
], ids=["redrive", "alarm-actions", "star-action", "partial-batch", "log-level"])
def test_breaking_one_thing_fails_exactly_its_check_and_deploy_restores_it(project, pipeline, breakage, check_id, words):
    breakage(project, pipeline)
    code, result = check_json(project)
    assert code != 0 and result["pass"] is False
    failed = failures(result)
    assert [c["id"] for c in failed] == [check_id], json.dumps(failed, indent=1)
    assert words in failed[0]["detail"] and failed[0]["fix"]

    Deployer(project.target, project.settings()).apply()
    code, result = check_json(project)
    assert code == 0 and result["pass"] is True, json.dumps(failures(result), indent=1)
