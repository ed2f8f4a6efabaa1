"""The peak window's judgement: a profile passes on its shape, not only on its average.

The daily profile exists to replay its busiest hour; an average rate that holds while that hour
falls short is no pass. The peak window must reach MIN_RATE_RATIO of its own target, or of the
engine's raw PUT ceiling measured in the same run when that is lower (then the ceiling is named as
the limit: the local front door, not the pipeline, is what the window could not exceed). Pure.
"""

from __future__ import annotations

MIN_RATE_RATIO = 0.95


def judge_peak(window_s: tuple[float, float], target: float, achieved: float, ceiling_fps: float | None,
               same_as_window: bool = False, min_ratio: float = MIN_RATE_RATIO) -> dict:
    """The peak window's verdict: figures, what it was held to (`limit`), `pass`, and `reason`
    (None on a pass) naming the window and the figure."""
    by_ceiling = bool(ceiling_fps) and ceiling_fps < target
    basis = ceiling_fps if by_ceiling else target
    required = min_ratio * basis
    ok = achieved >= required - 1e-9
    lo, hi = window_s
    where = f"the peak window ({lo:.0f}-{hi:.0f} s of the run, {hi - lo:.0f} s)"
    if by_ceiling:
        against = (f"{achieved / basis:.0%} of the engine's raw PUT ceiling measured in this run, "
                   f"{basis:.2f} files/s, below the window's target {target:.2f} (the limit)")
    else:
        against = f"{achieved / basis:.0%} of its target {target:.2f} files/s" if basis else "no target"
    reason = None if ok else (f"{where} got {achieved:.2f} files/s, {against}; at least {min_ratio:.0%} needed")
    return {
        "window_s": [round(lo, 3), round(hi, 3)],
        "target_files_per_s": round(target, 3),
        "achieved_files_per_s": round(achieved, 3),
        "limit": "raw_put_ceiling" if by_ceiling else "target",
        "limit_files_per_s": round(basis, 3),
        "required_files_per_s": round(required, 3),
        "ratio": round(achieved / basis, 4) if basis else None,
        "same_as_window": same_as_window,
        "pass": ok,
        "reason": reason,
        "summary": f"{where}: {achieved:.2f} files/s, {against}",
    }
