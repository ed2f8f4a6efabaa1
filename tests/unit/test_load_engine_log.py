"""Builder timeouts counted from the engine's log, in the lines MiniStack writes."""

from sim.load import engine_log

BUILDER = "sim-ingest-manifest-builder"
BEFORE = f"""2026-11-29 17:50:01 WARNING [lambda_runtime] Lambda {BUILDER} timed out after 60s — killing worker
"""
RUN = f"""2026-11-29 17:54:29 INFO [lambda_runtime] Lambda worker spawned for {BUILDER} (python3.11, cold start)
2026-11-29 17:54:30 INFO [lambda] ESM: Lambda {BUILDER} processed 1 SQS messages from sim-ingest-landing-events
2026-11-29 17:54:30 INFO [lambda] ESM: Lambda {BUILDER} output:
lock_busy date=2026-11-29 timed out after 60 s of waiting
2026-11-29 17:58:02 WARNING [lambda_runtime] Lambda {BUILDER} timed out after 60s — killing worker
2026-11-29 17:58:02 WARNING [lambda] ESM: Lambda {BUILDER} failed processing SQS batch from sim-ingest-landing-events (errorType=Sandbox.Timedout errorMessage=Task timed out after 60.00 seconds)
2026-11-29 17:59:10 WARNING [lambda_runtime] Lambda sim-ingest-converter timed out after 900s — killing worker
2026-11-29 18:01:40 WARNING [lambda_runtime] Lambda {BUILDER}: Task timed out after 60.00 seconds
"""


def test_counts_each_kill_of_the_builder_once_and_nothing_else():
    found = engine_log.timeouts(RUN, BUILDER)
    assert [f["at"] for f in found] == ["2026-11-29 17:58:02", "2026-11-29 18:01:40"]
    assert {f["after_s"] for f in found} == {60.0}
    assert engine_log.timeouts(RUN, "sim-ingest-converter") == [{"at": "2026-11-29 17:59:10", "after_s": 900.0}]
    assert engine_log.timeouts(RUN, "other-function") == []


def test_reads_only_what_the_run_appended(tmp_path):
    log = tmp_path / "ministack.log"
    log.write_text(BEFORE, encoding="utf-8")
    mark = engine_log.mark(log)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(RUN)
    result = engine_log.builder_timeouts(log, mark, BUILDER)
    assert result["count"] == 2 and result["at"][0] == "2026-11-29 17:58:02"
    assert engine_log.builder_timeouts(log, 0, BUILDER)["count"] == 3


def test_without_an_engine_log_the_count_is_unknown_not_zero(tmp_path):
    assert engine_log.mark(None) is None
    assert engine_log.builder_timeouts(None, None, BUILDER)["count"] is None
    assert engine_log.builder_timeouts(tmp_path / "gone.log", 0, BUILDER)["count"] is None
