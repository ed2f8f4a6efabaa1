"""The load report's chart of where the work waits, from a timeline written as `sim load` writes it."""

import csv
import xml.etree.ElementTree as ET

from sim.load.timeline import COLUMNS, row_of
from sim.ops.watch import StageCounts
from sim.report import charts, loadseries

from .test_report_render import probe


def write_timeline(path):
    """100 files land in 10 s and are tracked at once; they wait for a manifest until 60 s (the
    queue is empty all along), then convert; the run ends at 100 s."""
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for t in range(0, 101):
            up = min(100, 10 * t)
            if t < 60:
                snap = StageCounts(tracked=up, pending=up)
            elif t < 70:
                snap = StageCounts(tracked=100, manifested=100, manifests={"started": 1})
            else:
                snap = StageCounts(tracked=100, manifested=100, converted=100, manifests={"succeeded": 1})
            w.writerow(row_of(snap, float(t), 1000.0 + t, "load" if t <= 10 else "drain", up))


def test_work_by_stage_reads_every_sample_and_the_end_of_the_uploads(tmp_path):
    write_timeline(tmp_path / "timeline.csv")
    points, uploads_end = loadseries.work_by_stage(tmp_path)
    assert len(points) == 101 and uploads_end == 10.0
    assert points[30] == (30.0, {"queued": 0, "pending": 100, "converting": 0, "converted": 0})
    assert points[65][1]["converting"] == 100 and points[80][1]["converted"] == 100
    # The queue-depth series of the same run is flat at zero: the chart it replaces showed nothing.
    assert {d for _t, d in loadseries.queue_depth(tmp_path)} == {0.0}


def test_the_chart_shows_the_files_waiting_where_they_wait(tmp_path):
    write_timeline(tmp_path / "timeline.csv")
    points, uploads_end = loadseries.work_by_stage(tmp_path)
    scene = charts.work_by_stage(points, "where the work waits", uploads_end)
    px = probe(scene.svg())
    x0, y0, w, h = 110, 120, 740, 260  # the plot area; both axes end at 100 here
    bottom = y0 + h - 3

    def at(t):
        return int(x0 + w * t / 100) + 1

    colors = {key: color for key, color, _ in charts.STAGE_COLORS}
    assert px(at(30), bottom) == colors["pending"] and px(at(30), y0 + 3) == colors["pending"]
    assert px(at(65), bottom) == colors["converting"]
    assert px(at(80), bottom) == colors["converted"]
    assert px(at(5), y0 + 3) == "#ffffff" and px(at(5), bottom) == colors["pending"]  # half landed at 5 s
    texts = [el.text for el in ET.fromstring(scene.svg()).iter() if el.tag.endswith("text")]
    assert "uploads end" in texts and "pending a manifest" in texts


def test_the_cpu_by_part_of_a_load_run_is_a_table_of_the_report(tmp_path):
    import json

    from sim.report import loadseries, render

    assert loadseries.cpu_by_part(tmp_path) is None  # not a load run
    cpu = {"engine": 41.2, "builder": 5.1, "converter": 60.3, "validation": 20.0, "load_generator": 12.1, "harness": 3.0}
    (tmp_path / "load.json").write_text(json.dumps({"cpu_s": cpu, "cpu_s_until_drained": {**cpu, "validation": 0.0},
                                                    "cpu_nice": {"converter": 10, "builder": 5, "validation": 10}}))
    got = loadseries.cpu_by_part(tmp_path)
    table = next(b for b in render.cpu_blocks(got) if b[0] == "table")
    rows = {row[0]: row[1:] for row in table[2]}
    assert rows["Converter (Glue runs)"] == ["60.3", "60.3", "10"] and rows["Validation"] == ["20.0", "0.0", "10"]
    assert rows["Engine (MiniStack: S3, SQS, DynamoDB, Step Functions)"][2] == "0"
    page = render.html_of(render.cpu_blocks(got), "t", {})
    assert "CPU by part" in page and "60.3" in page
    # with the last upload's figures and the machine's idle (load.json from this version on)
    (tmp_path / "load.json").write_text(json.dumps({
        "cpu_s": cpu, "cpu_s_until_drained": {**cpu, "validation": 0.0},
        "cpu_s_until_last_upload": {**cpu, "converter": 4.4, "validation": 0.0},
        "cpu_idle_s": {"until_last_upload": 41.7, "until_drained": 45.8, "until_verdict": 50.0}}))
    table = next(b for b in render.cpu_blocks(loadseries.cpu_by_part(tmp_path)) if b[0] == "table")
    assert table[1][3] == "CPU s, until the last upload"
    rows = {row[0]: row[1:] for row in table[2]}
    assert rows["Converter (Glue runs)"] == ["60.3", "60.3", "4.4", "0"]
    assert rows["Idle (no process, all cores)"] == ["50.0", "45.8", "41.7", ""]
