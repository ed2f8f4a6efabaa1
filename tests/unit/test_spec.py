import json
from pathlib import Path

import pytest

from sim.infra import description
from sim.infra.spec import Settings, Wiring


def wiring(**kw) -> Wiring:
    return Wiring("123456789012", "us-east-1", Settings(**kw))


def test_dlq_is_on_the_queue_redrive_policy_with_14_day_retention():
    w = wiring()
    redrive = json.loads(w.queue_attributes()["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": w.queue_arn(w.names.dlq), "maxReceiveCount": 5}
    assert int(w.dlq_attributes()["MessageRetentionPeriod"]) == 14 * 24 * 3600


def test_visibility_timeout_is_at_least_six_times_the_builder_timeout():
    for timeout in (30, 60, 300):
        w = wiring(builder_timeout_s=timeout)
        assert int(w.queue_attributes()["VisibilityTimeout"]) >= 6 * w.builder_config()["Timeout"]


def test_queue_policy_lets_only_the_landing_bucket_send():
    w = wiring()
    (stmt,) = json.loads(w.queue_attributes()["Policy"])["Statement"]
    assert stmt["Principal"] == {"Service": "s3.amazonaws.com"} and stmt["Action"] == "sqs:SendMessage"
    assert stmt["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:s3:::" + w.names.landing_bucket


def test_event_source_mapping_reports_batch_item_failures():
    esm = wiring().event_source_mapping()
    assert esm["BatchSize"] == 10 and esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_alarm_notifies_the_alerts_topic():
    w = wiring()
    alarms = w.alarms()
    assert {a["MetricName"] for a in alarms} == {"ApproximateNumberOfMessagesVisible", "Errors", "ExecutionsFailed",
                                                 "QuarantinedRecords", "QuarantinedFiles", "OverwrittenFiles"}
    ours = [a for a in alarms if a["Namespace"] == w.names.metrics_namespace]
    assert len(ours) == 3 and all(a["Statistic"] == "Sum" and a["Threshold"] == 0 for a in ours)
    assert all(a["AlarmActions"] == [w.topic_arn()] and a["ActionsEnabled"] for a in alarms)


def test_log_level_info_in_production_debug_elsewhere_and_overridable(monkeypatch):
    monkeypatch.delenv("SIM_LOG_LEVEL", raising=False)
    assert wiring(target="aws").builder_environment()["LOG_LEVEL"] == "INFO"
    assert wiring(target="ministack").builder_environment()["LOG_LEVEL"] == "DEBUG"
    assert wiring(target="ministack", environment="production").builder_environment()["LOG_LEVEL"] == "INFO"
    assert wiring(target="aws", log_level="WARNING").builder_environment()["LOG_LEVEL"] == "WARNING"
    monkeypatch.setenv("SIM_LOG_LEVEL", "ERROR")
    assert wiring(target="aws").builder_environment()["LOG_LEVEL"] == "ERROR"


def test_glue_timeout_is_minutes_on_aws_and_seconds_on_ministack():
    assert wiring(target="aws").glue_job()["Timeout"] == 60
    assert wiring(target="ministack").glue_job()["Timeout"] == 600


def test_converter_runs_as_lambda_only_where_glue_is_absent():
    assert Settings(target="localstack").converter_mode == "lambda"
    assert Settings(target="ministack").converter_mode == "glue"
    assert Settings(target="aws").converter_mode == "glue"


def _reachable(definition: str) -> set:
    doc = json.loads(definition)
    states = doc["States"]
    seen, todo = set(), [doc["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        assert name in states, f"{name} is referenced but not defined"
        seen.add(name)
        s = states[name]
        todo += [s[k] for k in ("Next", "Default") if k in s]
        todo += [c["Next"] for c in s.get("Choices", []) + s.get("Catch", [])]
    assert seen == set(states), f"unreachable states: {set(states) - seen}"
    return seen


def test_state_machines_are_closed_graphs_with_a_failure_path_to_sns():
    w = wiring()
    glue = w.state_machine_definition()
    lam = wiring(target="localstack").state_machine_definition()
    assert "glue:startJobRun" in glue and "lambda:invoke" in lam
    for definition in (glue, lam):
        states = _reachable(definition)
        assert {"MarkFailed", "NotifyFailure", "Failed", "MarkSucceeded"} <= states
        doc = json.loads(definition)["States"]
        assert doc["NotifyFailure"]["Parameters"]["TopicArn"] == w.topic_arn()
        assert doc["Failed"]["Type"] == "Fail"


def test_resource_names_take_a_prefix_from_the_environment(monkeypatch):
    from sim.core.errors import SimError
    from sim.infra.spec import Names

    monkeypatch.setenv("SIM_PREFIX", "acme-ingest")
    names = Names()
    assert (names.landing_bucket, names.table, names.metrics_namespace) == (
        "acme-ingest-landing", "acme-ingest-state", "acme-ingest/pipeline")
    w = Wiring("123456789012", "us-east-1", Settings(target="aws"))
    assert w.builder_environment()["TABLE_NAME"] == "acme-ingest-state"
    assert all(a["AlarmName"].startswith("acme-ingest-") for a in w.alarms())
    for bad in ("Acme", "a", "-acme", "acme-", "ac--me", "acme_ingest", "x" * 41):
        monkeypatch.setenv("SIM_PREFIX", bad)
        with pytest.raises(SimError, match="lowercase letters"):
            Names()
    monkeypatch.delenv("SIM_PREFIX")
    assert Names().landing_bucket == "sim-ingest-landing"


SEED_PLAN = Path(__file__).resolve().parents[2] / "examples" / "seed-plan" / "pipeline.toml"
TELEMETRY = "/work/.sim/telemetry.jsonl"


def _inject_telemetry(w: Wiring) -> dict:
    """Where the deploy tells the fault bundle to write telemetry lines: builder, Glue job, its argv names."""
    job = w.glue_job()["DefaultArguments"]
    return {"builder": w.builder_config()["Environment"]["Variables"].get("SIM_INJECT_TELEMETRY"),
            "glue": job.get("--SIM_INJECT_TELEMETRY"),
            "glue_names": "SIM_INJECT_TELEMETRY" in job.get("--SIM_ARG_NAMES", "").split(",")}


def test_the_bundle_writes_telemetry_only_for_another_pipeline_on_an_emulator_with_a_telemetry_file():
    seed = description.load(SEED_PLAN)
    on = Wiring("123456789012", "us-east-1", Settings(target="ministack", telemetry_file=TELEMETRY), pipeline=seed)
    assert _inject_telemetry(on) == {"builder": "1", "glue": "1", "glue_names": True}
    assert on.builder_config()["Environment"]["Variables"]["SIM_TELEMETRY_FILE"] == TELEMETRY
    own = Wiring("123456789012", "us-east-1", Settings(target="ministack", telemetry_file=TELEMETRY))
    assert _inject_telemetry(own) == {"builder": None, "glue": None, "glue_names": False}  # its code writes its own
    assert own.builder_config()["Environment"]["Variables"]["SIM_TELEMETRY_FILE"] == TELEMETRY
    off = Wiring("123456789012", "us-east-1", Settings(target="ministack"), pipeline=seed)
    assert _inject_telemetry(off) == {"builder": None, "glue": None, "glue_names": False}
    aws = Wiring("123456789012", "us-east-1", Settings(target="aws"), pipeline=seed)
    assert _inject_telemetry(aws) == {"builder": None, "glue": None, "glue_names": False}



def test_a_failed_glue_start_is_waited_out_before_the_failure_is_recorded():
    """A StartJobRun that failed may still have made a run (InternalServiceException, a lost
    reply): it is neither retried inside the execution nor recorded failed (which lets the flush
    redrive) before the converter's run limit has passed, so two runs of a manifest never overlap."""
    w = wiring()
    doc = json.loads(w.state_machine_definition())["States"]
    start = doc["StartConversion"]
    retried = {e for r in start.get("Retry", []) for e in r["ErrorEquals"]}
    assert retried <= {"Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"}  # refused: no run made
    (catch,) = start["Catch"]
    name, waited = catch["Next"], []
    while name != "MarkFailed":
        state = doc[name]
        if state["Type"] == "Wait":
            waited.append(state.get("Seconds"))
        assert state["Type"] in ("Pass", "Wait"), name
        name = state["Next"]
    assert waited == [w.settings.run_limit_s]
