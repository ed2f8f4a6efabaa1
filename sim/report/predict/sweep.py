"""`--sweep`: one setting at a time moved away from the chosen settings, the model run for each,
drain time and cost tabulated, and the setting that moves each most named.

Drain is read two ways, because a burst rarely fills its last manifest: `drain_s` waits for the
files the scheduled flush converts only after FLUSH_MAX_WAIT_SECONDS, `drain_before_flush_s` stops
at the last full manifest. The setting that moves drain most is judged on the second, the one the
conversion settings can change; the flush's wait is swept too, since it moves the first.
"""

from __future__ import annotations

from typing import Callable

from .aws import Setting, with_changes

VALUES = (  # (label, Setting field, values); None is "not set"
    ("Glue MaxConcurrentRuns", "max_concurrent_runs", (1, 2, 5, 10, 20, 50)),
    ("files per manifest (batch size)", "files_per_manifest", (50, 100, 200, 400, 1000)),
    ("SQS mapping MaximumConcurrency", "maximum_concurrency", (2, 5, 10, 100, None)),
    ("FLUSH_MAX_WAIT_SECONDS", "flush_max_wait_s", (60.0, 300.0, 900.0, 3600.0)),
)


def _spread(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if r.get(key) is not None]
    return (max(values) - min(values)) if values else 0.0


def sweep(base: Setting, predict: Callable[[Setting], dict]) -> dict:
    """`predict(setting)` runs the model and returns its prediction block."""
    rows = []
    for label, field, values in VALUES:
        for value in values:
            pr = predict(with_changes(base, **{field: value}))
            first = pr["first_saturated"]
            rows.append({"setting": label, "field": field, "value": value,
                         "is_base": value == getattr(base, field),
                         "drain_s": pr["drain_s"], "drain_before_flush_s": pr["drain_before_flush_s"],
                         "files_held_for_flush": pr["files_held_for_flush"],
                         "end_to_end_p95_s": pr["end_to_end_s"]["p95"], "cost_usd": pr["cost_usd"],
                         "first_saturated": first["resource"] if first else None})
    by_setting = {}
    for label, _field, _values in VALUES:
        mine = [r for r in rows if r["setting"] == label]
        by_setting[label] = {"drain_before_flush_spread_s": round(_spread(mine, "drain_before_flush_s"), 1),
                             "drain_spread_s": round(_spread(mine, "drain_s"), 1),
                             "cost_spread_usd": round(_spread(mine, "cost_usd"), 4)}
    return {
        "base": base.name,
        "rows": rows,
        "spread": by_setting,
        "moves_drain_most": max(by_setting, key=lambda k: by_setting[k]["drain_before_flush_spread_s"]),
        "moves_last_file_most": max(by_setting, key=lambda k: by_setting[k]["drain_spread_s"]),
        "moves_cost_most": max(by_setting, key=lambda k: by_setting[k]["cost_spread_usd"]),
    }
