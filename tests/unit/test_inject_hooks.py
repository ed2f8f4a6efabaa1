"""The hooks' decisions, call by call: which call a rule hits (nth, per invocation or run-wide, how
many times across processes), what the code then sees (botocore's own exception classes and
response shape), and what the record says. Real botocore clients; the request itself is replaced
by a function that stands for the service, so nothing is sent (the engine tests send for real)."""

import functools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap

import boto3
import botocore.client
import botocore.endpoint
import botocore.exceptions
import botocore.parsers
import pytest

from sim.inject import errors, hooks
from sim.inject.rules import parse
from sim.inject.tokens import Tokens

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@functools.lru_cache(maxsize=None)
def client(service):
    return boto3.session.Session().client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                          aws_access_key_id="x", aws_secret_access_key="x")


class Service:
    """Stands for the service: answers every call and remembers it."""

    def __init__(self):
        self.calls = []

    def __call__(self, client_, operation, params):
        self.calls.append(operation)
        return {"n": len(self.calls)}


def injector(tmp_path, rules, role="builder", record=True):
    doc = {"state_dir": str(tmp_path / "state"), "rules": rules}
    if record:
        doc["record"] = str(tmp_path / "calls.jsonl")
    return hooks.Injector(role, parse(doc))


def outcome(inj, service, c, operation="PutItem"):
    try:
        inj.call(service, c, operation, {})
        return "ok"
    except botocore.exceptions.ClientError as exc:
        return exc.response["Error"]["Code"]
    except Exception as exc:
        return type(exc).__name__


def records(tmp_path):
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_nth_counts_within_each_invocation_and_times_zero_fires_always(tmp_path):
    inj = injector(tmp_path, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2, "times": 0,
                               "action": "fail", "code": "ConditionalCheckFailedException"}])
    ddb, service = client("dynamodb"), Service()
    inj.begin_invocation()
    first = [outcome(inj, service, ddb) for _ in range(3)]
    inj.begin_invocation()
    second = [outcome(inj, service, ddb) for _ in range(2)]
    assert first == ["ok", "ConditionalCheckFailedException", "ConditionalCheckFailedException"]
    assert second == ["ok", "ConditionalCheckFailedException"]
    assert len(service.calls) == 2  # a fail before the call: the request was never sent


def test_other_operations_do_not_advance_the_count(tmp_path):
    inj = injector(tmp_path, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2, "action": "raise"}])
    ddb, service = client("dynamodb"), Service()
    inj.begin_invocation()
    got = [outcome(inj, service, ddb, op) for op in ("PutItem", "GetItem", "GetItem", "PutItem", "PutItem")]
    assert got == ["ok", "ok", "ok", "InjectedFault", "ok"]  # times 1: once in all


def test_times_holds_across_invocations_and_processes(tmp_path):
    rule = [{"process": "*", "call": "s3.PutObject", "action": "throttle", "times": 2}]
    a, b = injector(tmp_path, rule), injector(tmp_path, rule, role="converter")  # two processes, one state folder
    s3, service = client("s3"), Service()
    got = []
    for inj in (a, b, a, b):
        inj.begin_invocation()
        got.append(outcome(inj, service, s3, "PutObject"))
    assert got == ["SlowDown", "SlowDown", "ok", "ok"]


def test_run_wide_numbers_are_shared_and_kept_per_process_role(tmp_path):
    rules = [{"process": "builder", "call": "dynamodb.PutItem", "count": "run", "nth": 3, "times": 0,
              "action": "fail", "code": "InternalServerError"}]
    a, b, conv = injector(tmp_path, rules), injector(tmp_path, rules), injector(tmp_path, rules, role="converter")
    ddb, service = client("dynamodb"), Service()
    for inj in (a, b, conv):
        inj.begin_invocation()
    order = [(a, "a"), (conv, "c"), (b, "b"), (conv, "c"), (a, "a"), (b, "b")]
    got = [(name, outcome(inj, service, ddb)) for inj, name in order]
    # builder calls numbered 1 (a), 2 (b), 3 (a), 4 (b) across both builders; the converter's never count
    assert got == [("a", "ok"), ("c", "ok"), ("b", "ok"), ("c", "ok"), ("a", "InternalServerError"),
                   ("b", "InternalServerError")]
    # past the nth a rule waits for, a process counts no further: every later number is higher anyway
    assert [outcome(inj, service, ddb) for inj in (a, b, a)] == ["InternalServerError"] * 3
    assert len(list((tmp_path / "state").glob("run.builder.dynamodb.PutItem.*"))) == 4


def _botocores_own(c, operation, status, body, headers):
    """What botocore makes of an error answer: its parser, then the endpoint's modeled fields."""
    model = c.meta.service_model.operation_model(operation)
    parser = botocore.parsers.create_parser(c.meta.service_model.metadata["protocol"])
    response = {"status_code": status, "headers": headers, "body": body}
    parsed = parser.parse(response, model.output_shape)
    botocore.endpoint.Endpoint._add_modeled_error_fields(None, response, parsed, model, parser)
    return parsed


@pytest.mark.parametrize("service, operation, code, status, body, headers", [
    ("dynamodb", "PutItem", "ConditionalCheckFailedException", 400,
     b'{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"m"}',
     {"x-amzn-requestid": "r"}),
    ("stepfunctions", "StartExecution", "ExecutionAlreadyExists", 400,
     b'{"__type":"ExecutionAlreadyExists","message":"m"}', {"x-amzn-requestid": "r"}),
    ("s3", "PutObject", "SlowDown", 503,
     b"<Error><Code>SlowDown</Code><Message>m</Message><RequestId>r</RequestId></Error>", {"x-amz-request-id": "r"}),
])
def test_an_injected_failure_is_the_exception_botocore_raises(service, operation, code, status, body, headers):
    c = client(service)
    own = _botocores_own(c, operation, status, body, headers)
    expected_class = c.exceptions.from_code(own["Error"]["Code"])
    injected = errors.client_error(c, operation, code, "m")
    assert type(injected) is expected_class and isinstance(injected, botocore.exceptions.ClientError)
    assert injected.response["Error"] == {"Code": code, "Message": "m"} == {k: own["Error"][k] for k in ("Code", "Message")}
    assert set(injected.response) == set(own), (injected.response, own)
    assert injected.response["ResponseMetadata"]["HTTPStatusCode"] == status == own["ResponseMetadata"]["HTTPStatusCode"]
    assert str(injected) == str(expected_class(own, operation))


@pytest.mark.parametrize("service, operation, code, status", [
    ("dynamodb", "PutItem", "ProvisionedThroughputExceededException", 400),
    ("dynamodb", "DescribeTable", "ThrottlingException", 400),
    ("s3", "GetObject", "SlowDown", 503),
    ("sqs", "SendMessage", "RequestThrottled", 400),
    ("sns", "Publish", "Throttled", 429),
    ("lambda", "Invoke", "TooManyRequestsException", 429),
    ("stepfunctions", "StartExecution", "ThrottlingException", 400),
    ("glue", "StartJobRun", "ThrottlingException", 400),
    ("cloudwatch", "PutMetricData", "Throttling", 400),
])
def test_throttle_answers_with_the_services_throttling_code(tmp_path, service, operation, code, status):
    inj = injector(tmp_path, [{"process": "builder", "call": f"{service}.{operation}", "action": "throttle"}])
    c = client(service)
    inj.begin_invocation()
    with pytest.raises(botocore.exceptions.ClientError) as err:
        inj.call(Service(), c, operation, {})
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert type(err.value) is c.exceptions.from_code(code)


def test_fail_takes_the_models_status_unless_given(tmp_path):
    c = client("sns")
    assert errors.client_error(c, "Publish", "Throttled").response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert errors.client_error(c, "Publish", "InternalError").response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert errors.client_error(c, "Publish", "Throttled", status=503).response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_after_the_call_the_effect_happened_and_the_code_sees_the_fault(tmp_path):
    inj = injector(tmp_path, [
        {"process": "builder", "call": "dynamodb.PutItem", "when": "after", "action": "fail", "code": "InternalServerError"},
        {"process": "builder", "call": "s3.PutObject", "action": "lose_reply"},
    ])
    ddb, s3, service = client("dynamodb"), client("s3"), Service()
    inj.begin_invocation()
    assert outcome(inj, service, ddb) == "InternalServerError"
    with pytest.raises(botocore.exceptions.ConnectionClosedError) as lost:
        inj.call(service, s3, "PutObject", {})
    assert service.calls == ["PutItem", "PutObject"]  # both were sent
    assert isinstance(lost.value, botocore.exceptions.HTTPClientError) and "http://127.0.0.1:9" in str(lost.value)


def test_raise_before_runs_the_codes_handlers_and_sends_nothing(tmp_path):
    inj = injector(tmp_path, [{"process": "builder", "call": "dynamodb.PutItem", "action": "raise"}])
    service, cleaned = Service(), []
    inj.begin_invocation()
    try:
        inj.call(service, client("dynamodb"), "PutItem", {})
    except errors.InjectedFault as exc:
        cleaned.append(str(exc))
    finally:
        cleaned.append("finally")
    assert cleaned == ["injected fault before dynamodb.PutItem #1", "finally"] and service.calls == []


def test_delay_sleeps_the_given_seconds_then_the_call_goes_on(tmp_path, monkeypatch):
    slept = []
    monkeypatch.setattr(hooks.time, "sleep", slept.append)
    inj = injector(tmp_path, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2, "action": "delay", "seconds": 2.5},
                              {"process": "builder", "action": "delay", "when": "start", "seconds": 6}])
    service = Service()
    inj.begin_invocation()
    inj.at_process("start")
    got = [outcome(inj, service, client("dynamodb")) for _ in range(3)]
    assert slept == [6.0, 2.5] and got == ["ok"] * 3 and len(service.calls) == 3


def test_a_real_error_is_recorded_and_passed_on_unchanged(tmp_path):
    inj = injector(tmp_path, [])
    ddb = client("dynamodb")
    real = errors.client_error(ddb, "PutItem", "ValidationException", "bad")

    def failing(*_):
        raise real

    inj.begin_invocation()
    with pytest.raises(botocore.exceptions.ClientError) as err:
        inj.call(failing, ddb, "PutItem", {})
    assert err.value is real
    (line,) = records(tmp_path)
    assert (line["error"], line["sent"], line["injected"]) == ("ValidationException", True, None)


def test_the_record_lists_every_call_in_order_with_its_numbers(tmp_path):
    inj = injector(tmp_path, [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2, "action": "fail",
                               "code": "ConditionalCheckFailedException"}])
    ddb, s3, service = client("dynamodb"), client("s3"), Service()
    inj.begin_invocation("req-1")
    for c, op in ((ddb, "PutItem"), (ddb, "PutItem"), (s3, "PutObject"), (ddb, "PutItem")):
        outcome(inj, service, c, op)
    inj.begin_invocation("req-2")
    outcome(inj, service, ddb)
    lines = records(tmp_path)
    pid = os.getpid()
    assert [(r["invocation"], r["seq"], r["call"], r["nth"], r["error"], r["sent"], r["injected"]) for r in lines] == [
        (f"{pid}.1", 1, "dynamodb.PutItem", 1, None, True, None),
        (f"{pid}.1", 2, "dynamodb.PutItem", 2, "ConditionalCheckFailedException", False, ["fail"]),
        (f"{pid}.1", 3, "s3.PutObject", 1, None, True, None),
        (f"{pid}.1", 4, "dynamodb.PutItem", 3, None, True, None),
        (f"{pid}.2", 1, "dynamodb.PutItem", 1, None, True, None),
    ]
    assert {r["process"] for r in lines} == {"builder"} and [r["request_id"] for r in lines] == ["req-1"] * 4 + ["req-2"]
    assert all(a["t"] <= b["t"] for a, b in zip(lines, lines[1:]))


def test_process_rules_fire_at_start_and_exit_as_often_as_times_says(tmp_path):
    inj = injector(tmp_path, [{"process": "builder", "action": "raise", "when": "exit", "times": 2}], record=False)
    fired = []
    for _ in range(3):
        inj.begin_invocation()
        inj.at_process("start")
        try:
            inj.at_process("exit")
            fired.append(False)
        except errors.InjectedFault:
            fired.append(True)
    assert fired == [True, True, False]


KILL_SCRIPT = textwrap.dedent("""
    import json, sys
    import boto3
    from sim.inject import hooks
    from sim.inject.rules import parse
    effects = sys.argv[2]
    inj = hooks.Injector("builder", parse(sys.argv[1]))
    def service(client, operation, params):
        with open(effects, "a") as fh:
            fh.write(operation + "\\n")
        return {}
    c = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                     aws_access_key_id="x", aws_secret_access_key="x")
    inj.begin_invocation()
    for _ in range(4):
        inj.call(service, c, "PutItem", {})
    with open(effects, "a") as fh:
        fh.write("returned\\n")
""")


@pytest.mark.parametrize("when, effects", [("after", 2), ("before", 1)])
def test_kill_ends_the_process_at_once_after_recording_the_call(tmp_path, when, effects):
    doc = json.dumps({"state_dir": str(tmp_path / "state"), "record": str(tmp_path / "calls.jsonl"),
                      "rules": [{"process": "builder", "call": "dynamodb.PutItem", "nth": 2, "action": "kill",
                                 "when": when}]})
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, doc, str(tmp_path / "effects")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (tmp_path / "effects").read_text().splitlines() == ["PutItem"] * effects  # nothing after the kill
    lines = records(tmp_path)
    assert [(r["nth"], r["sent"], r["injected"]) for r in lines] == [(1, True, None), (2, when == "after", ["kill"])]


def _numbers(state_dir, n, out):
    tokens = Tokens(state_dir)
    out.put(([tokens.next_number("run.builder.s3.PutObject") for _ in range(n)],
             [tokens.take("fire.0", 3) for _ in range(n)]))


def test_tokens_give_each_number_once_across_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_numbers, args=(str(tmp_path), 40, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    numbers = sorted(n for got, _ in results for n in got)
    assert numbers == list(range(1, 121))
    assert sum(took for _, takes in results for took in takes) == 3
    assert all(got == sorted(got) for got, _ in results)  # each process sees its own numbers grow


def test_install_patches_only_when_the_process_has_something_to_do(tmp_path):
    original = botocore.client.BaseClient._make_api_call
    try:
        converter_only = json.dumps({"state_dir": str(tmp_path), "rules": [
            {"process": "converter", "call": "s3.PutObject", "action": "kill"}]})
        assert hooks.install("builder", None) is None and hooks.install("builder", converter_only) is None
        assert botocore.client.BaseClient._make_api_call is original
        inj = hooks.install("converter", converter_only)
        assert inj is not None and hooks.current() is inj
        assert botocore.client.BaseClient._make_api_call is hooks._patched_make_api_call
    finally:
        hooks.uninstall()
    assert botocore.client.BaseClient._make_api_call is original


def test_install_refuses_an_unknown_role():
    with pytest.raises(ValueError, match="role must be builder or converter"):
        hooks.install("", None)
