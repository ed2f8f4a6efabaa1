"""Number formatting shared by the tables, charts and terminal summary: no exponents, few digits."""

from __future__ import annotations

import math


def sig(x: float, digits: int = 2) -> str:
    """A small or large number with about `digits` significant digits and no exponent."""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:,.{decimals}f}"


def pct(u: float | None, none: str = "no limit") -> str:
    """A utilization (1.0 = 100%) as a percentage."""
    if u is None:
        return none
    return sig(100 * u) + "%"


def usd(x: float | None) -> str:
    if x is None:
        return "—"
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def multiple(m: float | None) -> str:
    return "never" if m is None else f"{m:,.0f}x" if m >= 10 else f"{m:.1f}x"
