"""Builder timeouts, counted from the embedded engine's own log.

MiniStack runs a Python function in a warm worker process and, when an invocation outlives the
function's timeout, kills the worker and logs one line from its `lambda_runtime` logger
(ministack/core/lambda_runtime.py):

    2026-11-29 17:58:02 WARNING [lambda_runtime] Lambda sim-ingest-manifest-builder timed out after 60s — killing worker

(its `provided` runtimes log `Lambda <name>: Task timed out after 60.00 seconds` instead). Every
invocation counts, whoever made it: an SQS batch, the flush schedule or `sim flush`. The SQS event
source mapping then logs the failed batch (`errorType=Sandbox.Timedout`) for the same timeout, so
those lines are not counted again.

The log is appended to across runs, so a run notes the log's size when it starts (`mark`) and
reads only what was written after it.
"""

from __future__ import annotations

import re
from pathlib import Path

_TIMEOUT = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\S*\s+\w+\s+\[lambda_runtime\]\s+"
    r"Lambda (?P<fn>[^\s:]+):? (?:Task )?timed out after (?P<after>[\d.]+)"
)


def mark(log: str | Path | None) -> int | None:
    """Where the engine log ends now (None without a log to read)."""
    if not log:
        return None
    try:
        return Path(log).stat().st_size
    except OSError:
        return 0


def timeouts(text: str, function: str) -> list[dict]:
    """Each timeout of `function` in the log text: when (the log's own clock) and after how long."""
    out = []
    for line in text.splitlines():
        m = _TIMEOUT.match(line)
        if m and m["fn"] == function:
            out.append({"at": m["at"], "after_s": float(m["after"])})
    return out


def builder_timeouts(log: str | Path | None, since: int | None, function: str) -> dict:
    """{"count", "at": [...], "source"}; count is None when there is no engine log to read (an
    engine someone else runs)."""
    if not log or since is None:
        return {"count": None, "at": [], "source": "not counted: no log of the engine (it was not started by sim)"}
    try:
        with open(log, "rb") as fh:
            fh.seek(since)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return {"count": None, "at": [], "source": f"not counted: the engine log could not be read ({exc.strerror})"}
    found = timeouts(text, function)
    return {"count": len(found), "at": [f["at"] for f in found], "source": f"{log} (lambda_runtime timeouts)"}
