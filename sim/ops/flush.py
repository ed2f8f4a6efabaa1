"""`sim flush`: ask the builder to turn every pending file into manifests now, and say what happened.

One attempt invokes the builder's flush (the code the schedule runs) and then reads the pipeline
back, so the answer is one of:
- `started`: manifests were started (or ones a crashed builder left open were finished);
- `lease_held`: files are pending on a date whose lease another builder holds (the scheduled flush,
  or a batch being built); the builder says until when, so the answer says when to retry;
- `pending_left`: files are pending and nothing was started, with no lease to blame (a lagging
  index, or a builder deployed before it reported leases): retry;
- `already_running`: nothing is pending, and manifests started earlier are still converting;
- `nothing_pending`: nothing is pending and nothing is running.

`wait_s` retries until no file is pending and the queue is empty, or the time is up.
"""

from __future__ import annotations

import time
from typing import Callable

from sim.ops.watch import Watcher

DONE = ("started", "already_running", "nothing_pending")
RETRY_POLL_S = 5.0  # a lease is often let go before it runs out: look again at least this often


def attempt(watcher: Watcher) -> dict:
    """One flush, classified."""
    answer = watcher.flush(0.0)
    snap = watcher.snapshot()
    built, recovered = answer.get("manifests", []), answer.get("recovered", [])
    now = time.time()
    leases = []
    for held in answer.get("leases_held", []):
        if not held.get("pending"):
            continue
        expires = held.get("expires_at")
        leases.append({**held, "retry_in_s": 0.0 if expires is None else round(max(0.0, expires - now), 1)})
    running = max(0, snap.manifests_open - len(built) - len(recovered))
    if leases:
        outcome = "lease_held"
    elif built or recovered:
        outcome = "started"
    elif snap.pending:
        outcome = "pending_left"
    elif running:
        outcome = "already_running"
    else:
        outcome = "nothing_pending"
    return {
        "outcome": outcome,
        "manifests": built,
        "recovered": recovered,
        "pending": snap.pending,
        "already_running": running,
        "queue": snap.queue_visible + snap.queue_in_flight,
        "leases_held": leases,
        "retry_in_s": min((lease["retry_in_s"] for lease in leases), default=None),
    }


def settled(result: dict) -> bool:
    """Nothing left to manifest: no file pending, nothing in the queue to become one."""
    return result["pending"] == 0 and result["queue"] == 0 and not result["leases_held"]


def flush(watcher: Watcher, wait_s: float | None = None,
          on_retry: Callable[[dict, float], None] | None = None) -> dict:
    """Flush once, or with `wait_s` until everything pending is manifested (at most that long)."""
    started = time.monotonic()
    built: list[str] = []
    recovered: list[str] = []
    attempts = 0
    while True:
        result = attempt(watcher)
        attempts += 1
        built += result["manifests"]
        recovered += result["recovered"]
        waited = time.monotonic() - started
        if wait_s is None or settled(result) or waited >= wait_s:
            break
        pause = min(RETRY_POLL_S, max(1.0, result["retry_in_s"] or 0.0), max(0.0, wait_s - waited))
        if on_retry:
            on_retry(result, pause)
        time.sleep(pause)
    result["last_attempt"] = {"outcome": result["outcome"], "manifests": result["manifests"],
                              "recovered": result["recovered"]}
    if attempts > 1 and (built or recovered) and result["outcome"] in ("already_running", "nothing_pending"):
        result["outcome"] = "started"  # an earlier attempt started them; this one found nothing left
    result.update({"manifests": built, "recovered": recovered, "attempts": attempts,
                   "waited_s": round(time.monotonic() - started, 1)})
    result["pass"] = result["outcome"] in DONE and (wait_s is None or settled(result))
    return result


def waiting_for(result: dict) -> str:
    """One line: what a retry waits for."""
    parts = [f"{_files(lease)} file(s) on {lease['date_prefix']} behind another builder's lease"
             for lease in result["leases_held"]]
    if not parts and result["pending"]:
        parts.append(f"{result['pending']} file(s) pending")
    if result["queue"]:
        parts.append(f"{result['queue']} message(s) in the queue")
    return ", ".join(parts) or "nothing"


def _files(lease: dict) -> str:
    """The files behind a lease: the flush counts up to one manifest's worth ("at least N")."""
    return f"at least {lease['pending']}" if lease.get("pending_at_least") else str(lease["pending"])


def _utc(epoch: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


def describe(result: dict) -> list[str]:
    """What happened, in words: the outcome first, then what is left."""
    built, recovered = result["manifests"], result["recovered"]
    outcome, lines = result["outcome"], []
    if built or recovered:
        lines.append(f"started {len(built)} manifest(s)"
                     + (f", finished {len(recovered)} a crashed builder left open" if recovered else ""))
        lines += [f"  {mid}" for mid in built + recovered]
    if outcome == "lease_held":
        for lease in result["leases_held"]:
            until = "until " + _utc(lease["expires_at"]) if lease.get("expires_at") is not None else "(let go since)"
            lines.append(f"{_files(lease)} file(s) pending on {lease['date_prefix']}: another builder holds the "
                         f"date's lease {until}; retry in {lease['retry_in_s']:.0f} s, or use --wait")
    elif outcome == "pending_left":
        lines.append(f"{result['pending']} file(s) pending and no manifest started; retry in a few seconds, "
                     "or use --wait")
    elif not (built or recovered):
        lines.append("nothing pending" + (f"; {result['already_running']} manifest(s) already running"
                                          if result["already_running"] else "; no manifest running"))
    else:
        if result["pending"]:
            lines.append(f"{result['pending']} file(s) still pending")
        if result["already_running"]:
            lines.append(f"{result['already_running']} manifest(s) started earlier still running")
    if result["queue"]:
        lines.append(f"{result['queue']} message(s) in the queue not yet tracked: flush again once they are, "
                     "or use --wait")
    if result.get("attempts", 1) > 1:
        lines.append(f"{result['attempts']} attempts in {result['waited_s']:.0f} s")
    return lines
