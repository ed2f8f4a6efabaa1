"""SIM_FAULTS read as the fault rules say (docs/pipeline-description.md): defaults filled in, and
each mistake refused with one error naming the rule and the key."""

import json

import pytest

from sim.inject import bundle
from sim.inject.rules import FaultRulesError, parse

STATE = "/tmp/faults-x"


def one(rule: dict):
    return parse({"state_dir": STATE, "rules": [rule]}).rules[0]


def test_the_documented_example_reads_with_its_defaults():
    doc = {"state_dir": STATE, "record": "/tmp/calls.jsonl", "rules": [
        {"process": "builder", "call": "stepfunctions.StartExecution", "count": "run",
         "action": "fail", "code": "ThrottlingException", "times": 2},
        {"process": "builder", "call": "dynamodb.PutItem", "nth": 3, "action": "kill", "when": "after"},
        {"process": "builder", "call": "dynamodb.TransactWriteItems", "nth": 2, "action": "delay", "seconds": 10},
        {"process": "converter", "action": "kill", "when": "exit", "times": 2},
        {"process": "builder", "action": "delay", "when": "start", "seconds": 6}]}
    config = parse(json.dumps(doc))
    first, kill, delay, exit_kill, start = config.rules
    assert (first.count, first.times, first.nth, first.when, first.code) == ("run", 2, 1, "before", "ThrottlingException")
    assert (kill.nth, kill.when, kill.count, kill.times) == (3, "after", "invocation", 1)
    assert (delay.seconds, delay.when) == (10.0, "before")
    assert (exit_kill.call, exit_kill.when, exit_kill.times) == (None, "exit", 2)
    assert (start.when, start.seconds) == ("start", 6.0)
    assert [r.index for r in config.rules] == [0, 1, 2, 3, 4]
    assert config.active_for("builder") and config.active_for("converter")


def test_unset_empty_or_without_rules_and_record_is_nothing():
    assert parse(None) is None and parse("") is None and parse("  ") is None
    assert parse({"state_dir": STATE, "rules": []}) is None
    # the step-boundary faults of earlier versions are gone: their keys are mistakes now
    with pytest.raises(FaultRulesError, match="unknown key 'crash_at'"):
        parse({"crash_at": "after_claims", "crash_times": 1, "state_dir": STATE})


def test_a_record_alone_is_active_for_every_process():
    config = parse({"record": "/tmp/calls.jsonl"})
    assert config.active_for("builder") and config.active_for("converter") and config.rules == ()


def test_a_rule_applies_to_its_process_or_every_process():
    config = parse({"state_dir": STATE, "rules": [{"process": "converter", "call": "s3.PutObject", "action": "kill"}]})
    assert config.active_for("converter") and not config.active_for("builder")
    assert one({"process": "*", "call": "s3.PutObject", "action": "kill"}).applies_to("builder")


def test_lose_reply_acts_after_the_call_by_default():
    assert one({"process": "builder", "call": "s3.PutObject", "action": "lose_reply"}).when == "after"


MISTAKES = [
    ("[1, 2]", "SIM_FAULTS must be a JSON object"),
    ("{not json", "SIM_FAULTS is not JSON"),
    ({"state_dir": STATE, "rules": [], "rulez": []}, "unknown key 'rulez'"),
    ({"state_dir": STATE, "rules": {"a": 1}}, "rules must be a list"),
    ({"rules": [{"process": "builder", "call": "s3.PutObject", "action": "kill"}]}, "rules need state_dir"),
    ({"state_dir": "relative/dir", "rules": []}, "state_dir must be an absolute path"),
    ({"record": "calls.jsonl"}, "record must be an absolute path"),
    ({"state_dir": STATE, "rules": ["kill"]}, "rule 1: must be a JSON object"),
]
RULE_MISTAKES = [
    ({"process": "builder", "call": "s3.PutObject"}, "action must be one of"),
    ({"process": "builder", "call": "s3.PutObject", "action": "explode"}, "action must be one of"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "nht": 2}, "unknown key 'nht'"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "code": "X"}, "unknown key 'code' for action 'kill'"),
    ({"call": "s3.PutObject", "action": "kill"}, "process must be builder, converter or *"),
    ({"process": "lambda", "call": "s3.PutObject", "action": "kill"}, "process must be builder, converter or *"),
    ({"process": "builder", "call": "dynamodb.put_item", "action": "kill"}, "call must be service.Operation"),
    ({"process": "builder", "call": "PutItem", "action": "kill"}, "call must be service.Operation"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "when": "exit"}, "when must be before or after"),
    ({"process": "builder", "call": "s3.PutObject", "action": "lose_reply", "when": "before"}, "when must be after"),
    ({"process": "builder", "action": "kill"}, "when must be start or exit"),
    ({"process": "builder", "action": "kill", "when": "after"}, "when must be start or exit"),
    ({"process": "builder", "action": "fail", "code": "X", "when": "start"}, "action 'fail' needs a call"),
    ({"process": "builder", "action": "kill", "when": "exit", "nth": 2}, "nth counts calls"),
    ({"process": "builder", "action": "kill", "when": "exit", "count": "run"}, "count counts calls"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "nth": 0}, "nth must be an integer from 1"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "nth": True}, "nth must be an integer from 1"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "nth": "2"}, "nth must be an integer from 1"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "count": "process"}, "count must be invocation or run"),
    ({"process": "builder", "call": "s3.PutObject", "action": "kill", "times": -1}, "times must be an integer from 0"),
    ({"process": "builder", "call": "s3.PutObject", "action": "fail"}, "fail needs code"),
    ({"process": "builder", "call": "s3.PutObject", "action": "fail", "code": ""}, "fail needs code"),
    ({"process": "builder", "call": "s3.PutObject", "action": "fail", "code": "X", "status": 200}, "status must be an HTTP error status"),
    ({"process": "builder", "call": "s3.PutObject", "action": "raise", "message": 3}, "message must be a string"),
    ({"process": "builder", "call": "s3.PutObject", "action": "delay"}, "delay needs seconds"),
    ({"process": "builder", "call": "s3.PutObject", "action": "delay", "seconds": -1}, "delay needs seconds"),
    ({"process": "builder", "call": "s3.PutObject", "action": "delay", "seconds": "5"}, "delay needs seconds"),
]


@pytest.mark.parametrize("raw, expected", MISTAKES, ids=[m[1] for m in MISTAKES])
def test_each_document_mistake_is_one_clear_error(raw, expected):
    with pytest.raises(FaultRulesError) as err:
        parse(raw)
    assert expected in str(err.value)


@pytest.mark.parametrize("rule, expected", RULE_MISTAKES, ids=[f"{i}-{m[1]}" for i, m in enumerate(RULE_MISTAKES)])
def test_each_rule_mistake_is_one_clear_error_naming_the_rule(rule, expected):
    ok = {"process": "builder", "call": "s3.PutObject", "action": "kill"}
    with pytest.raises(FaultRulesError) as err:
        parse({"state_dir": STATE, "rules": [ok, rule]})
    assert str(err.value).startswith("rule 2: ") and expected in str(err.value), str(err.value)


def test_the_deploy_side_checks_calls_against_botocores_models(tmp_path):
    ok = bundle.faults_json(tmp_path, [{"process": "builder", "call": "stepfunctions.StartExecution", "action": "kill"}],
                            record=True)
    doc = json.loads(ok)
    assert doc["record"] == f"{doc['state_dir']}/calls.jsonl" and doc["state_dir"].startswith(str(tmp_path.resolve()))
    with pytest.raises(FaultRulesError, match="no service 'sfn' \\(did you mean stepfunctions\\?\\)"):
        bundle.faults_json(tmp_path, [{"process": "builder", "call": "sfn.StartExecution", "action": "kill"}])
    with pytest.raises(FaultRulesError, match="dynamodb has no operation 'Putitem' \\(did you mean PutItem\\?\\)"):
        bundle.faults_json(tmp_path, [{"process": "builder", "call": "dynamodb.Putitem", "action": "kill"}])


def test_each_run_gets_a_fresh_state_folder(tmp_path):
    rules = [{"process": "builder", "call": "s3.PutObject", "action": "kill"}]
    first, second = (json.loads(bundle.faults_json(tmp_path, rules))["state_dir"] for _ in range(2))
    assert first != second and len(list(tmp_path.iterdir())) == 2
