"""examples/seed-plan, its pure parts: a user's code (nothing from `sim`, Python 3.9's grammar),
the builder's event decoding, batching and switches, the converter's table building and its
JSON-text fallback (checked by writing Parquet and reading it back), and the two description
files (the same but for the switches)."""

from __future__ import annotations

import ast
import io
import json
import logging
import tomllib
from collections import Counter
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.workload.generator import file_key
from tests.seed_plan_example import (BUILDER, CONVERTER, EXAMPLE, SOURCES, canonical, load, load_builder,
                                     root_logger_kept, rows_as_records)
from tests.unit.test_pipeline_python_version import GLUE_PYTHON_SHELL_OLDEST, too_new

SETTINGS = {"MANIFEST_TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:s",
            "MANIFEST_BUCKET": "m", "LOG_LEVEL": "INFO"}


@pytest.fixture
def builder(monkeypatch):
    with root_logger_kept():
        yield load_builder(monkeypatch, SETTINGS)


@pytest.fixture(scope="module")
def converter():
    return load(CONVERTER)


# -- the example is a user's code ------------------------------------------------------------------

def test_the_example_has_its_builder_and_converter():
    assert BUILDER in SOURCES and CONVERTER in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_runs_on_glues_python_and_imports_nothing_from_sim(path):
    source = path.read_text()
    tree = ast.parse(source, filename=str(path), feature_version=GLUE_PYTHON_SHELL_OLDEST)
    assert too_new(source, GLUE_PYTHON_SHELL_OLDEST) == []
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [m for m in imported if m == "sim" or m.startswith(("sim.", "tests"))] == []
    assert all(n.level == 0 for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))


# -- builder: S3 events in SQS messages ------------------------------------------------------------

def sqs_event(keys, bucket="landing", event_time="2026-11-25T10:00:00.000Z", encode=quote_plus):
    return {"Records": [{"messageId": f"m{i}", "body": json.dumps({"Records": [{
        "eventName": "ObjectCreated:Put", "eventTime": event_time,
        "s3": {"bucket": {"name": bucket}, "object": {"key": encode(k), "size": 100 + i}}}]})}
        for i, k in enumerate(keys)]}


def test_keys_arrive_url_encoded_and_are_decoded(builder):
    keys = [file_key(7, i, "2026-11-25") for i in range(40)]
    awkward = [k for k in keys if " " in k and "+" in k]
    assert awkward, "the generator gives some keys with spaces and '+'"
    objects = builder.s3_objects_from_sqs_event(sqs_event(keys))
    assert [o[1] for o in objects] == keys
    assert {o[0] for o in objects} == {"landing"} and {o[3] for o in objects} == {"2026-11-25"}
    assert objects[3][2] == 103


def test_a_keys_date_folder_wins_over_the_events_date(builder):
    objects = builder.s3_objects_from_sqs_event(
        sqs_event(["in/2026-01-02/a.ndjson", "in/undated/b.ndjson", "2026-03-04/c.json"],
                  event_time="2026-11-25T23:59:59Z"))
    assert [o[3] for o in objects] == ["2026-01-02", "2026-11-25", "2026-03-04"]


def test_test_events_other_events_and_folder_markers_carry_no_file(builder):
    event = sqs_event(["in/2026-11-25/a.ndjson", "in/2026-11-25/folder/"])
    event["Records"].append({"messageId": "t", "body": json.dumps({"Event": "s3:TestEvent", "Bucket": "landing"})})
    removed = json.loads(event["Records"][0]["body"])
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    event["Records"].append({"messageId": "r", "body": json.dumps(removed)})
    assert [o[1] for o in builder.s3_objects_from_sqs_event(event)] == ["in/2026-11-25/a.ndjson"]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", json.dumps({"Records": "x"}),
                                  json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {}}]})])
def test_a_message_that_is_no_s3_notification_fails_the_batch_naming_the_message(builder, body):
    with pytest.raises(ValueError, match="SQS message bad "):
        builder.s3_objects_from_sqs_event({"Records": [{"messageId": "bad", "body": body}]})


# -- builder: batching ---------------------------------------------------------------------------

@pytest.mark.parametrize("n, size, flush, expected", [
    (12, 5, False, [5, 5]), (12, 5, True, [5, 5, 2]), (10, 5, True, [5, 5]), (4, 5, False, []),
    (4, 5, True, [4]), (0, 5, True, []), (200, 200, False, [200])])
def test_manifest_batches_are_full_unless_flushed(builder, n, size, flush, expected):
    files = [f"f{i:03d}" for i in range(n)]
    batches = builder.manifest_batches(files, size, flush)
    assert [len(b) for b in batches] == expected
    assert [f for b in batches for f in b] == files[:sum(expected)]  # in order, each once


def test_the_manifest_object_lists_each_files_bucket_and_key(builder):
    doc = json.loads(builder.manifest_document([{"bucket": "b", "file_key": "k 1+x", "status": "pending"},
                                                {"bucket": "b", "file_key": "k2"}]))
    assert doc == [{"bucket": "b", "key": "k 1+x"}, {"bucket": "b", "key": "k2"}]


# -- builder: switches and settings --------------------------------------------------------------

def test_unset_switches_are_the_plans_original_code(monkeypatch):
    with root_logger_kept():
        module = load_builder(monkeypatch, {k: v for k, v in SETTINGS.items() if k != "LOG_LEVEL"})
        assert logging.getLogger().level == logging.DEBUG  # fixed in the code before item 3
    assert (module.IDEMPOTENT_TRACKING, module.MANIFEST_ORDER, module.CONDITIONAL_CLAIMS,
            module.REDACT_EVENT_LOG, module.BATCH_SIZE) == (False, "original", False, False, 200)


def test_switches_on(monkeypatch):
    with root_logger_kept():
        module = load_builder(monkeypatch, {**SETTINGS, "IDEMPOTENT_TRACKING": "true", "MANIFEST_ORDER": "plan",
                                            "CONDITIONAL_CLAIMS": "1", "REDACT_EVENT_LOG": "yes",
                                            "LOG_LEVEL": "warning", "BATCH_SIZE": "5"})
        assert logging.getLogger().level == logging.WARNING
    assert (module.IDEMPOTENT_TRACKING, module.MANIFEST_ORDER, module.CONDITIONAL_CLAIMS,
            module.REDACT_EVENT_LOG, module.BATCH_SIZE) == (True, "plan", True, True, 5)


@pytest.mark.parametrize("name, value, message", [
    ("MANIFEST_ORDER", "sideways", "MANIFEST_ORDER='sideways': expected one of original, plan"),
    ("IDEMPOTENT_TRACKING", "maybe", "IDEMPOTENT_TRACKING='maybe': expected true or false"),
    ("BATCH_SIZE", "0", "BATCH_SIZE='0': expected a whole number of at least 1"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD': expected DEBUG, INFO"),
    ("STATE_MACHINE_ARN", "", "environment variable STATE_MACHINE_ARN is not set")])
def test_a_bad_setting_is_one_clear_error(monkeypatch, name, value, message):
    with root_logger_kept(), pytest.raises(ValueError) as caught:
        load_builder(monkeypatch, {**SETTINGS, name: value})
    assert type(caught.value).__name__ == "ConfigError" and str(caught.value).startswith(message)


# -- converter -----------------------------------------------------------------------------------

def roundtrip(table: pa.Table) -> pa.Table:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return pq.read_table(io.BytesIO(buffer.getvalue()))


def text_fields(table: pa.Table) -> dict[str, str]:
    return {f.name: f.metadata[b"sim.json_text"].decode() for f in table.schema
            if f.metadata and b"sim.json_text" in f.metadata}


def test_parse_lines_keeps_objects_and_counts_the_rest(converter):
    body = "\n".join(['{"a": 1}', "", "   ", "[1, 2]", '"text"', "{broken", '{"b": "é"}', "null"]).encode()
    body += b"\n\xff\xfe{}\r\n" + b'{"c": {}}\r\n'
    records, skipped = converter.parse_lines(body)
    assert records == [{"a": 1}, {"b": "é"}, {"c": {}}]
    assert skipped == 5  # array, string, malformed, null, invalid UTF-8; blank lines are not lines


def test_every_records_keys_make_the_schema_and_strings_stay_strings(converter):
    records = [{"id": 1, "at": "2026-11-25T10:00:00+02:00"},
               {"id": 2, "at": "2026-11-25", "late": {"x": [1, 2], "y": "ü"}},
               {"id": 3, "day": "12:00:00+05:30", "late": None}]
    table, text = converter.records_to_table(records)
    back = roundtrip(table)
    assert text == {} and text_fields(back) == {}
    assert back.column_names == ["id", "at", "late", "day"]
    assert back.schema.field("at").type == pa.string() and back.schema.field("day").type == pa.string()
    assert back.schema.field("id").type == pa.int64()
    assert rows_as_records(back) == [{k: v for k, v in r.items() if v is not None} for r in records]


def test_fields_a_typed_column_cannot_hold_are_json_text_and_come_back_whole(converter):
    records = [
        {"n": 1, "big": None, "mixed": 1, "empty": {}, "deep": {"a": {}}, "ok": 0.1},
        {"n": 2, "big": 2**64 + 12345, "mixed": "one", "empty": {}, "deep": {"a": {}}, "ok": 0.30000000000000004},
        {"n": 3, "big": 5, "mixed": [1, "x"], "empty": None, "wide": 2**63 + 1, "nested": {"v": 2**70}},
        {"n": 4, "bigdec": 2**60, "ok": 1e-300},
        {"n": 5, "bigdec": 0.5, "s": "\ud800"},
    ]
    table, text = converter.records_to_table(records)
    back = roundtrip(table)
    assert text_fields(back) == text == {
        "big": converter.REFUSED, "mixed": converter.REFUSED, "empty": converter.EMPTY_OBJECT,
        "deep": converter.EMPTY_OBJECT, "wide": converter.REFUSED, "nested": converter.REFUSED,
        "bigdec": converter.REFUSED, "s": converter.REFUSED}
    assert back.schema.field("n").type == pa.int64() and back.schema.field("ok").type == pa.float64()
    assert back.column("big").to_pylist()[:3] == [None, str(2**64 + 12345), "5"]
    assert rows_as_records(back) == [{k: v for k, v in r.items() if v is not None} for r in records]


def test_an_empty_object_beside_one_with_members_stays_a_struct(converter):
    table, text = converter.records_to_table([{"meta": {}}, {"meta": {"k": "v"}}])
    back = roundtrip(table)
    assert text == {} and pa.types.is_struct(back.schema.field("meta").type)
    assert back.column("meta").to_pylist() == [{"k": None}, {"k": "v"}]  # absent reads back as null


def test_generated_records_come_back_value_for_value(converter):
    from sim.workload.generator import generate_file

    landed = [json.loads(line) for i in range(4)
              for line in generate_file(11, i, size=40_000).body.splitlines()]
    table, text = converter.records_to_table(landed)
    assert "ledger_id" in text  # integers beyond int64 in some records, nulls in the rest
    back = roundtrip(table)
    assert Counter(canonical(r) for r in rows_as_records(back)) == Counter(canonical(r) for r in landed)


def test_the_output_key(converter):
    assert converter.output_key("2026-11-25", "abc") == "parquet/date=2026-11-25/manifest=abc.parquet"


# -- description files -----------------------------------------------------------------------------

def _switch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.split(" ", 1)[0] in
            ("IDEMPOTENT_TRACKING", "MANIFEST_ORDER", "CONDITIONAL_CLAIMS")]


def test_the_two_descriptions_differ_only_in_name_and_switches():
    original = (EXAMPLE / "pipeline.toml").read_text()
    fixed = (EXAMPLE / "pipeline-fixed.toml").read_text()
    a, b = tomllib.loads(original), tomllib.loads(fixed)
    assert a["builder"]["environment"] | {"IDEMPOTENT_TRACKING": "true", "MANIFEST_ORDER": "plan",
                                          "CONDITIONAL_CLAIMS": "true"} == b["builder"]["environment"]
    assert {k: v for k, v in a["builder"]["environment"].items() if k in ("IDEMPOTENT_TRACKING", "MANIFEST_ORDER",
                                                                            "CONDITIONAL_CLAIMS")} == {
        "IDEMPOTENT_TRACKING": "false", "MANIFEST_ORDER": "original", "CONDITIONAL_CLAIMS": "false"}
    same = {"name", "description", "builder"}
    assert {k: v for k, v in a.items() if k not in same} == {k: v for k, v in b.items() if k not in same}
    # Line by line, only the header, name, description and the three switches differ.
    differ = [i for i, (x, y) in enumerate(zip(original.splitlines(), fixed.splitlines())) if x != y]
    assert len(original.splitlines()) == len(fixed.splitlines())
    assert [original.splitlines()[i] for i in differ[4:]] == _switch_lines(original)


def test_the_description_names_what_the_code_reads():
    spec = tomllib.loads((EXAMPLE / "pipeline.toml").read_text())
    builder_source = BUILDER.read_text()
    for name in spec["builder"]["environment"]:
        assert f'"{name}"' in builder_source
    table = spec["tables"][0]
    assert (table["hash_key"], table["range_key"]) == ("date_prefix", "file_key")
    index = table["indexes"][0]
    assert f'STATUS_INDEX = "{index["name"]}"' in builder_source
    assert (index["hash_key"], index["range_key"]) == ("status", "date_prefix")
    assert (EXAMPLE / spec["builder"]["code"] / (spec["builder"]["handler"].split(".")[0] + ".py")) == BUILDER
    assert EXAMPLE / spec["converter"]["script"] == CONVERTER
    glue_arguments = set(load(CONVERTER).ARGUMENTS)
    asl = (EXAMPLE / spec["state_machine"]["definition"]).read_text()
    passed = {a.strip('"-').split(".")[0] for a in asl.split() if a.startswith('"--')}
    assert passed | {a.lstrip("-") for a in spec["converter"]["arguments"]} == glue_arguments
    assert spec["builder"]["flush_event"] == '{"action": "flush"}'


def test_the_state_machine_is_json_once_its_placeholders_are_filled():
    text = (EXAMPLE / "statemachine.asl.json").read_text()
    placeholders = set(__import__("re").findall(r"\$\{(\w+)\}", text))
    assert placeholders == {"GlueJobName", "TableName", "PollSeconds"}
    filled = text.replace("${PollSeconds}", "5").replace("${GlueJobName}", "job").replace("${TableName}", "table")
    definition = json.loads(filled)
    states = definition["States"]
    assert states["WaitForGlueJob"]["Seconds"] == 5
    assert states[definition["StartAt"]]["Resource"] == "arn:aws:states:::aws-sdk:glue:startJobRun"
    assert states["GetGlueJobRun"]["Resource"] == "arn:aws:states:::aws-sdk:glue:getJobRun"
    assert states["MarkManifestComplete"]["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert states["MarkManifestComplete"]["Parameters"]["Key"]["file_key"] == {
        "S.$": "States.Format('MANIFEST#{}', $.manifest_id)"}
