"""The fault bundle's telemetry lines (sim/inject/telemetry.py): the same line sim's own pipeline
writes (sim/pipeline/telemetry.py) for the same calls, read by the report as sim's own are.

Real botocore clients answered by botocore's Stubber (nothing is sent): sim's own hooks are
registered on the test's session exactly as `install()` registers them on the default one, and
the bundle's meter counts the same calls where it does in a Lambda, in `_make_api_call`."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import botocore.client
import pytest
from botocore.stub import Stubber

from sim.inject import hooks
from sim.inject import telemetry as bundle_telemetry
from sim.inject.rules import InjectError, parse
from sim.pipeline import telemetry as own_telemetry

ROOT = Path(__file__).resolve().parents[2]
OWN_KEYS = {"component", "ok", "at", "duration_ms", "cpu_ms", "max_rss_mb", "calls", "write_units", "read_units",
            "call_ms", "pid"}


def session_with_owns_hooks():
    """A session whose events carry sim's own telemetry hooks, as install() puts them on the default session."""
    session = boto3.session.Session()
    session.events.register("provide-client-params.dynamodb.*", own_telemetry._before_params)
    session.events.register("before-call.*.*", own_telemetry._before_call)
    session.events.register("after-call.*.*", own_telemetry._after_call)
    return session


def clients(session):
    kw = dict(region_name="us-east-1", endpoint_url="http://127.0.0.1:9", aws_access_key_id="x",
              aws_secret_access_key="x")
    return session.client("dynamodb", **kw), session.client("stepfunctions", **kw)


ITEM = {"pk": {"S": "2026-11-25"}}


def stub_a_batch(ddb_stub, sfn_stub):
    """What a builder batch does: two puts (the engine's write units), a query answered with the
    total only, a batch write answered per table, a conditional put the service refuses, a start."""
    ddb_stub.add_response("put_item", {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0,
                                                            "WriteCapacityUnits": 1.0}})
    ddb_stub.add_response("put_item", {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 2.0,
                                                            "WriteCapacityUnits": 2.0}})
    ddb_stub.add_response("query", {"Items": [], "Count": 0, "ScannedCount": 0,
                                    "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}})
    ddb_stub.add_response("batch_write_item", {"UnprocessedItems": {}, "ConsumedCapacity": [
        {"TableName": "t", "CapacityUnits": 3.0, "WriteCapacityUnits": 3.0},
        {"TableName": "u", "CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}]})
    ddb_stub.add_client_error("put_item", "ConditionalCheckFailedException", http_status_code=400)
    sfn_stub.add_response("start_execution", {"executionArn": "arn:aws:states:us-east-1:1:execution:m:x",
                                              "startDate": "2026-11-25T00:00:00Z"})


def make_the_batch_calls(ddb, sfn):
    ddb.put_item(TableName="t", Item=ITEM)
    ddb.put_item(TableName="t", Item=ITEM)
    ddb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "x"}})
    ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": ITEM}}]})
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName="t", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:m", name="x", input="{}")


@pytest.fixture
def unhooked():
    yield
    hooks.uninstall()


def test_the_bundles_line_is_sims_own_line_for_the_same_calls(tmp_path, monkeypatch, unhooked):
    own_path, bundle_path = tmp_path / "own.jsonl", tmp_path / "bundle.jsonl"
    monkeypatch.setenv(own_telemetry.ENV, str(own_path))
    monkeypatch.setattr(own_telemetry, "_installed", True)  # its hooks are on the test's session instead
    ddb, sfn = clients(session_with_owns_hooks())
    meter = bundle_telemetry.Meter("builder", str(bundle_path))
    hooks.install("builder", None, meter)
    event = {"Records": [{"body": "{}"}, {"body": "{}"}]}
    with Stubber(ddb) as ddb_stub, Stubber(sfn) as sfn_stub:
        stub_a_batch(ddb_stub, sfn_stub)
        with own_telemetry.invocation("builder", kind="sqs", records=len(event["Records"])):
            meter.begin()
            make_the_batch_calls(ddb, sfn)
            meter.end(True, **bundle_telemetry.invocation_fields("builder", event))
        ddb_stub.assert_no_pending_responses()
    own, mine = json.loads(own_path.read_text()), json.loads(bundle_path.read_text())
    assert set(mine) == set(own) == OWN_KEYS | {"kind", "records"}
    for key in ("component", "ok", "calls", "write_units", "read_units", "pid", "kind", "records"):
        assert mine[key] == own[key], key
    assert set(mine["call_ms"]) == set(own["call_ms"]) == set(own["calls"])
    # what the two agree on, spelled out: an answered error is a call; units come from each answer
    assert mine["calls"] == {"dynamodb.BatchWriteItem": 1, "dynamodb.PutItem": 3, "dynamodb.Query": 1,
                             "stepfunctions.StartExecution": 1}
    assert (mine["write_units"], mine["read_units"]) == (7.0, 0.5)
    for key in ("duration_ms", "cpu_ms", "max_rss_mb"):
        assert isinstance(mine[key], float) and mine[key] >= 0


def test_dynamodb_is_asked_for_its_consumed_capacity_unless_the_code_asked_itself(unhooked, tmp_path):
    ddb, _ = clients(boto3.session.Session())  # no hooks of sim's own: only the bundle asks
    hooks.install("builder", None, bundle_telemetry.Meter("builder", str(tmp_path / "t.jsonl")))
    with Stubber(ddb) as stub:
        stub.add_response("get_item", {}, {"TableName": "t", "Key": ITEM, "ReturnConsumedCapacity": "TOTAL"})
        stub.add_response("get_item", {}, {"TableName": "t", "Key": ITEM, "ReturnConsumedCapacity": "INDEXES"})
        stub.add_response("describe_table", {}, {"TableName": "t"})  # not a data call: nothing added
        ddb.get_item(TableName="t", Key=ITEM)
        ddb.get_item(TableName="t", Key=ITEM, ReturnConsumedCapacity="INDEXES")
        ddb.describe_table(TableName="t")
        stub.assert_no_pending_responses()


def test_a_call_a_rule_failed_before_it_went_out_is_not_counted_a_lost_reply_is(tmp_path, unhooked):
    ddb, sfn = clients(boto3.session.Session())
    meter = bundle_telemetry.Meter("builder", str(tmp_path / "t.jsonl"))
    config = parse({"state_dir": str(tmp_path / "state"), "rules": [
        {"process": "builder", "call": "dynamodb.PutItem", "action": "fail", "code": "InternalServerError"},
        {"process": "builder", "call": "stepfunctions.StartExecution", "action": "lose_reply"}]})
    injector = hooks.install("builder", config, meter)
    injector.begin_invocation()
    meter.begin()
    with Stubber(ddb) as ddb_stub, Stubber(sfn) as sfn_stub:
        ddb_stub.add_response("put_item", {"ConsumedCapacity": {"TableName": "t", "WriteCapacityUnits": 1.0}})
        sfn_stub.add_response("start_execution", {"executionArn": "arn:aws:states:us-east-1:1:execution:m:x",
                                                  "startDate": "2026-11-25T00:00:00Z"})
        with pytest.raises(ddb.exceptions.InternalServerError):
            ddb.put_item(TableName="t", Item=ITEM)  # failed by the rule: never sent
        ddb.put_item(TableName="t", Item=ITEM)  # the rule fired once: sent
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:m", name="x", input="{}")
    line = meter.line(False)
    assert line["calls"] == {"dynamodb.PutItem": 1, "stepfunctions.StartExecution": 1}
    assert line["write_units"] == 1.0


def test_nothing_is_patched_without_rules_and_without_telemetry(unhooked):
    before = botocore.client.BaseClient._make_api_call
    assert hooks.install("builder", None) is None and hooks.install("builder", "") is None
    assert botocore.client.BaseClient._make_api_call is before


def test_telemetry_alone_patches_and_counts_with_no_fault_rules(tmp_path, unhooked):
    before = botocore.client.BaseClient._make_api_call
    meter = bundle_telemetry.Meter("converter", str(tmp_path / "t.jsonl"))
    assert hooks.install("converter", None, meter) is None  # no Injector: no rules, no record
    assert botocore.client.BaseClient._make_api_call is not before
    _, sfn = clients(boto3.session.Session())
    meter.begin()
    with Stubber(sfn) as stub:
        stub.add_response("describe_execution", {"executionArn": "a", "stateMachineArn": "m", "status": "RUNNING",
                                                 "startDate": "2026-11-25T00:00:00Z"})
        sfn.describe_execution(executionArn="a")
    assert meter.line(True)["calls"] == {"stepfunctions.DescribeExecution": 1}
    hooks.uninstall()
    assert botocore.client.BaseClient._make_api_call is before


@pytest.mark.parametrize("values, message", [
    ({"SIM_INJECT_TELEMETRY": "yes", "SIM_TELEMETRY_FILE": "/tmp/t.jsonl"}, "SIM_INJECT_TELEMETRY must be 1 (on) or 0"),
    ({"SIM_INJECT_TELEMETRY": "1"}, "SIM_INJECT_TELEMETRY=1 needs SIM_TELEMETRY_FILE"),
    ({"SIM_INJECT_TELEMETRY": "1", "SIM_TELEMETRY_FILE": "relative.jsonl"}, "an absolute path"),
])
def test_a_bad_switch_is_one_clear_error(values, message):
    with pytest.raises(InjectError, match=re.escape(message)):
        bundle_telemetry.from_settings("builder", values)


def test_the_switch_off_or_absent_is_no_meter_even_with_a_file():
    assert bundle_telemetry.from_settings("builder", {"SIM_TELEMETRY_FILE": "/tmp/t.jsonl"}) is None
    assert bundle_telemetry.from_settings("builder", {"SIM_INJECT_TELEMETRY": "0", "SIM_TELEMETRY_FILE": "/t"}) is None
    meter = bundle_telemetry.from_settings("converter", {"SIM_INJECT_TELEMETRY": "1", "SIM_TELEMETRY_FILE": "/t/x"})
    assert (meter.component, meter.path) == ("converter", "/t/x")


@pytest.mark.parametrize("component, event, fields", [
    ("builder", {"Records": [{}, {}, {}]}, {"kind": "sqs", "records": 3}),
    ("builder", {"action": "flush"}, {"kind": "flush"}),
    ("builder", {"source": "aws.events"}, {"kind": "flush"}),
    ("builder", "not a dict", {"kind": "flush"}),
    ("converter", {"manifest_id": "m-1", "manifest_key": "k"}, {"runtime": "lambda", "manifest_id": "m-1"}),
    ("converter", {}, {"runtime": "lambda", "manifest_id": ""}),
])
def test_what_a_line_says_of_the_invocation_is_what_sims_own_handlers_say(component, event, fields):
    assert bundle_telemetry.invocation_fields(component, event) == fields


def read_lines(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines()] if Path(path).exists() else []


USER_HANDLER = textwrap.dedent("""
    import boto3
    from botocore.stub import Stubber

    ddb = boto3.session.Session().client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                         aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ddb)
    for _ in range(10):
        stub.add_response("put_item", {})
    stub.activate()

    def handler(event, context):
        for _ in range(event.get("puts", 0)):
            ddb.put_item(TableName="t", Item={"pk": {"S": "a"}})
        if event.get("fail"):
            raise RuntimeError("the user's own error")
        return {"batchItemFailures": []}
""")

INVOKE = textwrap.dedent("""
    import json, sys
    from sim.inject import lambda_wrapper
    for event in json.loads(sys.argv[1]):
        try:
            print(json.dumps(lambda_wrapper.handler(event, None)), flush=True)
        except RuntimeError as exc:
            print(json.dumps({"raised": str(exc)}), flush=True)
""")


def invoke(tmp_path, events, **env):
    """The deployed wrapper handler, cold-started as Lambda does (its settings in the environment),
    given `events` in turn; (exit code, what each invocation gave back, the telemetry lines)."""
    (tmp_path / "user_handler.py").write_text(USER_HANDLER)
    path = tmp_path / "t.jsonl"
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{ROOT}:{tmp_path}", "SIM_USER_HANDLER": "user_handler.handler",
            "SIM_INJECT_PROCESS": "builder", "SIM_INJECT_TELEMETRY": "1", "SIM_TELEMETRY_FILE": str(path)}
    proc = subprocess.run([sys.executable, "-c", INVOKE, json.dumps(events)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={**base, **env})
    return proc, [json.loads(l) for l in proc.stdout.splitlines()], read_lines(path)


def test_the_wrapper_writes_one_line_per_invocation_returned_or_raised(tmp_path):
    proc, answers, lines = invoke(tmp_path, [{"Records": [{}, {}], "puts": 2}, {"fail": True, "puts": 1},
                                             {"action": "flush"}])
    assert proc.returncode == 0, proc.stderr
    assert answers == [{"batchItemFailures": []}, {"raised": "the user's own error"}, {"batchItemFailures": []}]
    assert [(l["ok"], l["kind"], l.get("records"), l["calls"]) for l in lines] == [
        (True, "sqs", 2, {"dynamodb.PutItem": 2}), (False, "flush", None, {"dynamodb.PutItem": 1}),
        (True, "flush", None, {})]
    assert all(l["component"] == "builder" and l["pid"] == lines[0]["pid"] for l in lines)


def test_without_the_switch_the_wrapper_writes_nothing(tmp_path):
    proc, answers, lines = invoke(tmp_path, [{"Records": [{}], "puts": 1}], SIM_INJECT_TELEMETRY="0")
    assert proc.returncode == 0, proc.stderr
    assert answers == [{"batchItemFailures": []}] and lines == []


def test_a_killed_invocation_writes_no_line(tmp_path):
    faults = json.dumps({"state_dir": str(tmp_path / "state"), "rules": [
        {"process": "builder", "call": "dynamodb.PutItem", "nth": 2, "action": "kill", "when": "before"}]})
    proc, answers, lines = invoke(tmp_path, [{"Records": [{}], "puts": 1}, {"Records": [{}, {}], "puts": 2},
                                             {"Records": [{}], "puts": 1}], SIM_FAULTS=faults)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert answers == [{"batchItemFailures": []}]  # the second was killed before its second put
    assert len(lines) == 1 and lines[0]["calls"] == {"dynamodb.PutItem": 1} and lines[0]["records"] == 1


# -- the report reads the bundle's lines as it reads sim's own ------------------------------------
def answer(client_, operation, params):
    """Stands for the service: DynamoDB answers the capacity it was asked for, as the engine does."""
    if "ReturnConsumedCapacity" in params:
        units = {"Query": 0.5, "GetItem": 0.5}.get(operation, 1.0)
        return {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": units}}
    return {}


def invocation(meter, calls, event=None, fields=None):
    """One invocation of `calls` ((client, operation) pairs), its line appended."""
    meter.begin()
    for c, operation in calls:
        meter.call(answer, c, operation, {})
    meter.end(True, **(fields if fields is not None else bundle_telemetry.invocation_fields(meter.component, event)))


def test_the_report_reads_the_bundles_lines_as_work_of_the_runs_pipeline(tmp_path, monkeypatch):
    import shutil
    import time

    from sim.core.runs import write_run
    from sim.report import collect, run_pipeline

    folder = tmp_path / "mine"  # a pipeline sim did not write, with settings of its own
    shutil.copytree(ROOT / "examples" / "seed-plan", folder)
    toml = folder / "pipeline.toml"
    toml.write_text(toml.read_text().replace("memory = 512", "memory = 1024"))
    monkeypatch.delenv("SIM_PREFIX", raising=False)
    ddb, sfn = clients(boto3.session.Session())
    s3 = boto3.session.Session().client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                        aws_access_key_id="x", aws_secret_access_key="x")
    path = tmp_path / "telemetry.jsonl"
    started = time.time() - 1
    builder, converter = bundle_telemetry.Meter("builder", str(path)), bundle_telemetry.Meter("converter", str(path))
    for records in (1, 3, 5, 2):  # batches: one put per file, a query of the date's pending files
        invocation(builder, [(ddb, "PutItem")] * records + [(ddb, "Query")], {"Records": [{}] * records})
    manifest = [(ddb, "PutItem")] + [(ddb, "UpdateItem")] * 5 + [(s3, "PutObject"), (sfn, "StartExecution")]
    invocation(builder, [(ddb, "PutItem")] * 5 + [(ddb, "Query")] + manifest, {"Records": [{}] * 5})
    invocation(builder, [(ddb, "Query")] + manifest[:1] + [(ddb, "UpdateItem")] * 2 + manifest[-2:], {"action": "flush"})
    for _ in range(2):
        invocation(converter, [(s3, "GetObject")] * 6 + [(s3, "PutObject")], fields={"runtime": "glue", "manifest_id": "m"})
    run_dir = tmp_path / "reports" / "demo-1"
    run_dir.mkdir(parents=True)
    write_run(run_dir, kind="demo", started_at=started, ended_at=time.time(), files=16, file_size_bytes=4096,
              batch_size=5, target="ministack", telemetry_file=str(path), pipeline=str(toml), pipeline_name="seed-plan",
              pipeline_own=False, prefix="sim-seed-plan")

    m = collect.collect(run_dir, use_engine=False, pipeline=run_pipeline.of_run(run_dir.name, json.loads(
        (run_dir / "run.json").read_text()), toml))
    assert m["pipeline"] == {"name": "seed-plan", "path": str(toml.resolve()), "own": False, "prefix": "sim-seed-plan"}
    b = m["lambda"]["builder"]
    assert (b["invocations"], b["sqs_invocations"], b["flush_invocations"], b["records"]) == (6, 5, 1, 16)
    assert b["manifests_built"] == 2 and b["memory_mb"] == 1024  # the description's memory, not sim's own 512
    assert m["manifests"] == 2 and m["glue"]["runs"] == 2 and m["glue"]["runtime"] == ["glue"]
    puts = 16 + 1 + 1  # every track_file, then a MANIFEST record per manifest
    assert m["dynamodb"]["calls"] == {"PutItem": puts, "Query": 6, "UpdateItem": 7}
    assert m["dynamodb"]["write_units"] == puts + 7 and m["dynamodb"]["read_units"] == 6 * 0.5
    by_service = m["requests_per_file"]["by_service"]
    assert set(by_service) >= {"dynamodb", "s3", "stepfunctions", "sqs", "lambda", "glue"}
    assert by_service["dynamodb"] == pytest.approx((puts + 6 + 7) / 16, abs=1e-3)
    assert by_service["lambda"] == pytest.approx(6 / 16, abs=1e-3)
    assert [n["figure"] for n in m["not_measured"]] == ["end_to_end", "manifest_objects"] and m["end_to_end"] is None
