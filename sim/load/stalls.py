"""Where a run's work waits, and the longest time it waited without anything moving.

Both read the rows of a run's timeline (sim/load/timeline.py): one sample a second of what was
uploaded and what the pipeline holds. Pure: no I/O, no clock.

Stages of a landed file, each counted in files so they stack up to what was uploaded:
- `queued`: uploaded, not yet tracked by the builder (its S3 event is in the queue or in flight);
- `pending`: tracked, waiting for a manifest;
- `converting`: in a manifest that is not converted yet (waiting for or in its Glue run);
- `converted`: in a manifest whose conversion succeeded.

A stall is a stretch with unfinished work (something queued, pending or converting, or a workflow
running) during which nothing was tracked, manifested or converted and no workflow finished. It
starts at the first sample that shows unfinished work after the last progress, and ends at the
first sample that shows progress (or the end of the timeline, when it never moved again).
"""

from __future__ import annotations

STAGES = ("queued", "pending", "converting", "converted")
PROGRESS = ("tracked", "manifested", "converted", "workflows_finished")
STAGE_NAMES = {
    "queued": "in the queue (not yet tracked)",
    "pending": "pending a manifest",
    "converting": "manifested, not yet converted",
    "converted": "converted",
}


def stages(row: dict) -> dict:
    """A sample's files by stage. Counts never go negative: the upload count is read from the
    upload logs a moment apart from the table, so it can trail what is already tracked."""
    return {
        "queued": max(0, row["uploaded"] - row["tracked"]),
        "pending": max(0, row["pending"]),
        "converting": max(0, row["manifested"] - row["converted"]),
        "converted": max(0, row["converted"]),
    }


def unfinished(row: dict) -> bool:
    """Work the pipeline still owes: files not tracked, pending, or in a workflow that runs."""
    return (row["uploaded"] > row["tracked"] or row["queue_visible"] + row["queue_in_flight"] > 0
            or row["pending"] > 0 or row["workflows_running"] > 0)


def _moved(prev: dict, row: dict) -> bool:
    return any(row.get(k, 0) > prev.get(k, 0) for k in PROGRESS)


def stalls(rows: list[dict]) -> list[dict]:
    """Every stall of the timeline, in order: start and end (run seconds), length, whether it was
    still going when the timeline ended, and where the work waited when it began."""
    out: list[dict] = []
    start: dict | None = None
    prev: dict | None = None

    def close(end: dict, ongoing: bool) -> None:
        out.append({
            "start_t": start["t"], "end_t": end["t"], "seconds": round(end["t"] - start["t"], 2),
            "ongoing": ongoing, "waiting": stages(start),
        })

    for row in rows:
        if prev is not None and _moved(prev, row):
            if start is not None:
                close(row, False)
            start = None
        if unfinished(row):
            if start is None:
                start = row
        elif start is not None:
            close(row, False)  # the work finished without a counted move (nothing left to wait for)
            start = None
        prev = row
    if start is not None and prev is not None and prev is not start:
        close(prev, True)
    return out


def longest_stall(rows: list[dict]) -> dict:
    """The longest stall: {"seconds", "start_t", "end_t", "ongoing", "waiting"}; 0 s when the
    pipeline never stood still with work in hand."""
    found = stalls(rows)
    if not found:
        return {"seconds": 0.0, "start_t": None, "end_t": None, "ongoing": False, "waiting": None}
    return max(found, key=lambda s: s["seconds"])


def describe(stall: dict) -> str:
    """One line for people: how long, when, and where the work waited."""
    if not stall or not stall.get("seconds"):
        return "no stall"
    waiting = stall.get("waiting") or {}
    where = ", ".join(f"{waiting[k]} {STAGE_NAMES[k]}" for k in STAGES[:3] if waiting.get(k))
    when = f"{stall['start_t']:.0f}-{stall['end_t']:.0f} s into the run"
    return (f"{stall['seconds']:.0f} s with nothing tracked, manifested or converted ({when}"
            + (", still stalled at the end" if stall.get("ongoing") else "") + (f"; waiting: {where}" if where else "") + ")")
