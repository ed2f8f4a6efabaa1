"""The one quantile definition of the project: linear interpolation between ranks, as
`statistics.quantiles(data, n=100, method="inclusive")` computes it (the R-7 / NumPy default).

`sim load`, `sim bench` and `sim report` all call this, so a p95 means the same in each.
"""

from __future__ import annotations

import statistics
from typing import Iterable, Sequence

PERCENTILES = (50, 95, 99)


def _cuts(data: Sequence[float]) -> list[float]:
    """Percentiles 0..100 of sorted, non-empty data (101 values)."""
    if len(data) == 1:
        return [data[0]] * 101
    return [data[0], *statistics.quantiles(data, n=100, method="inclusive"), data[-1]]


def percentiles(values: Iterable[float], qs: Iterable[int] = PERCENTILES, digits: int = 3) -> dict:
    """{"p50": ..., "p95": ..., "p99": ...}; None each when there are no values."""
    data = sorted(values)
    cuts = _cuts(data) if data else None
    return {f"p{q}": (round(cuts[q], digits) if cuts else None) for q in qs}


def quantile(values: Iterable[float], q: int) -> float | None:
    """One percentile (0-100) of the values, unrounded; None when there are none."""
    data = sorted(values)
    return _cuts(data)[q] if data else None


def curve(values: Iterable[float], digits: int = 3) -> list[float]:
    """Percentiles 0, 1, ..., 100: a distribution in 101 numbers, enough for a CDF."""
    data = sorted(values)
    return [round(c, digits) for c in _cuts(data)] if data else []


def summary(values: Iterable[float]) -> dict:
    """count, mean, p50, p95, max and total of a list of measurements."""
    data = sorted(values)
    if not data:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "max": None, "total": 0}
    cuts = _cuts(data)
    return {"count": len(data), "mean": round(sum(data) / len(data), 2), "p50": cuts[50], "p95": cuts[95],
            "max": data[-1], "total": round(sum(data), 2)}
