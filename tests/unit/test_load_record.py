"""The record a load run keeps for the model (sim/load/record.py): FILE and MANIFEST items joined
with the workflow's executions, the converter's telemetry and the Glue slot log."""

import datetime as dt

from sim.load import record


def _s(v):
    return {"S": v}


def _n(v):
    return {"N": str(v)}


ITEMS = [
    {"record_type": _s("FILE"), "file_key": _s("in/b.json"), "size": _n(10), "tracked_at": _n(5.5), "manifest_id": _s("m1")},
    {"record_type": _s("FILE"), "file_key": _s("in/a.json"), "size": _n(20), "tracked_at": _n(5.0), "manifest_id": _s("m1")},
    {"record_type": _s("FILE"), "file_key": _s("in/c.json"), "size": _n(30), "tracked_at": _n(7.0)},
    {"record_type": _s("MANIFEST"), "manifest_id": _s("m1"), "status": _s("succeeded"), "file_count": _n(2),
     "created_at": _n(6.0), "converted_at": _n(20.0), "finished_at": _s("1970-01-01T00:00:22.500Z")},
]


def test_files_in_landing_order_with_their_manifest():
    rows = record.file_rows(ITEMS, {"in/a.json": 1.0, "in/b.json": 2.0})
    assert [(r["key"], r["landed_at"], r["manifest_id"]) for r in rows] == [
        ("in/a.json", 1.0, "m1"), ("in/b.json", 2.0, "m1"), ("in/c.json", None, "")]


def test_a_manifest_joins_its_execution_its_converter_and_its_glue_slot():
    executions = {"m1": {"startDate": dt.datetime.fromtimestamp(6.5, dt.timezone.utc), "stopDate": None}}
    converter = [{"component": "converter", "manifest_id": "m1", "at": 19.9, "duration_ms": 9900.0, "pid": 42}]
    slots = [{"pid": 42, "asked_at": 7.0, "slot_at": 9.0}, {"pid": 7, "asked_at": 1.0, "slot_at": 1.0}]
    [row] = record.manifest_rows(ITEMS, executions, converter, slots)
    assert row["files"] == 2 and row["bytes"] == 30
    assert row["execution_started_at"] == 6.5
    assert (row["glue_asked_at"], row["glue_slot_at"]) == (7.0, 9.0)
    assert row["convert_started_at"] == 10.0 and row["convert_ended_at"] == 19.9
    assert row["execution_stopped_at"] == 22.5  # no stopDate: the workflow's finished_at


def test_the_csv_round_trips(tmp_path):
    rows = record.file_rows(ITEMS, {"in/a.json": 1.0})
    record._write_csv(tmp_path / "files.csv", record.FILE_COLUMNS, rows)
    back = record.read_csv(tmp_path / "files.csv")
    assert back[0] == {"key": "in/a.json", "size": 20.0, "landed_at": 1.0, "tracked_at": 5.0, "manifest_id": "m1"}
    assert back[-1]["landed_at"] is None
