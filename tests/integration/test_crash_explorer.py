"""The crash explorer's recording on the embedded engine: the invocation it sends is the one it
replays, whatever else the engine runs.

The engine fires the pipeline's flush schedule every minute (MiniStack runs EventBridge's rate
rules). A scheduled flush recorded in place of the invocation made the crash matrix replay a
flush's calls as the builder's boundaries; the explorer now deploys without the schedule and plays
it on its scaled timeline, and says so when another invocation was recorded anyway.
"""

import pytest
from botocore.exceptions import ClientError

from sim.faults import explorer
from sim.scenario.framework import Context


@pytest.fixture
def ctx(project):
    context = Context(project, "crash-matrix")
    yield context
    context.restore()


def _schedule(project) -> str | None:
    try:
        return project.target.client("events").describe_rule(Name=project.names.flush_rule)["ScheduleExpression"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return None


def test_the_explorer_deploys_without_the_engines_schedule_and_records_its_own_invocation(project, ctx):
    calls, clean = explorer.record_invocation(ctx, 2)
    assert _schedule(project) is None  # while the explorer runs, only it sends the flush
    assert clean["violations"] == []
    labels = [c.label for c in calls]
    # The SQS invocation's calls (a flush would make queries only): files tracked, then one manifest.
    assert "stepfunctions.StartExecution #1" in labels and "s3.PutObject #1" in labels
    assert clean["flushes"] >= 1  # recovery played the schedule itself
    ctx.restore()
    assert _schedule(project) == "rate(1 minute)"  # the pipeline's own schedule is back after it


def test_another_invocation_recorded_beside_the_clean_one_is_named(ctx, monkeypatch):
    sent = explorer._invoke

    def flush_first(c, event):
        c.watcher().flush(0)  # what the engine's schedule did at the wrong moment
        return sent(c, event)

    monkeypatch.setattr(explorer, "_invoke", flush_first)
    _calls, clean = explorer.record_invocation(ctx, 2)
    assert any("other builder invocation(s) made AWS calls while the clean invocation was recorded" in v
               for v in clean["violations"]), clean["violations"]
