"""The report's charts as vector Scenes (svg.py): utilization against each quota, the monthly bill
beside the plan's, and for load runs where the work waits over time (by stage) and the end-to-end
latency CDF (the queue depth over time for timelines without stages).

Label columns and legends are as wide as their text, so no label is cut.
"""

from __future__ import annotations

import math

from sim.core import stats

from . import fmt
from .svg import Scene, text_width

BLUE, ORANGE, GREY, RED, INK, LIGHT = "#3b6fb6", "#e08a2c", "#8a939c", "#c0392b", "#222222", "#e6e9ed"
# Where the work waits, bottom to top: the waiting stages first so they read against the axis.
STAGE_COLORS = (("queued", BLUE, "in the queue"), ("pending", RED, "pending a manifest"),
                ("converting", ORANGE, "manifested, not converted"), ("converted", "#c9d3dd", "converted"))
LOG_MIN, LOG_MAX = -6, 2  # utilization 0.0001% .. 10,000%
TITLE, LABEL, TICK = 16, 13, 12  # font sizes, px
PAD = 16


def _title(sc: Scene, text: str) -> None:
    sc.text(PAD, 12, text, INK, TITLE, bold=True)


def _legend(sc: Scene, y: float, items: list[tuple[str, str]]) -> float:
    """Colour swatches and their labels from the left, wrapping; the y below the legend."""
    x = PAD
    for color, label in items:
        w = 20 + text_width(label, LABEL) + 24
        if x + w > sc.width - PAD and x > PAD:
            x, y = PAD, y + 22
        sc.rect(x, y + 1, 13, 13, color)
        sc.text(x + 19, y, label, INK, LABEL)
        x += w
    return y + 22


def utilization(rows: list[dict], keys: tuple[str, str] = ("1x", "600x")) -> Scene:
    rows = [r for r in rows if r["utilization"].get(keys[0]) is not None]
    labels = [r.get("short") or f"{r['component']}: {r['limit']}" for r in rows]
    label_w = max([text_width(s, LABEL) for s in labels] + [120]) + 2 * PAD
    plot_w, row_h, top = 600, 40, 84
    value_w = text_width("10,000%", LABEL) + 2 * PAD
    sc = Scene(int(label_w + plot_w + value_w), top + row_h * len(rows) + 44,
               title="Utilization of each limit at the peak hour")
    _title(sc, f"Utilization of each limit at the peak hour: today ({keys[0]}) and {keys[1]}")
    _legend(sc, 40, [(BLUE, keys[0]), (ORANGE, keys[1]), (RED, "the quota (100%); log scale")])

    def x_of(u: float) -> float:
        lu = math.log10(max(u, 10 ** LOG_MIN))
        return label_w + plot_w * (min(lu, LOG_MAX) - LOG_MIN) / (LOG_MAX - LOG_MIN)

    bottom = top + row_h * len(rows)
    for d in range(LOG_MIN, LOG_MAX + 1):
        x = x_of(10 ** d)
        sc.line(x, top - 4, x, bottom, LIGHT, 1)
        if d % 2 == 0:
            sc.text(x, bottom + 8, fmt.pct(10 ** d), GREY, TICK, "middle")
    for i, (r, label) in enumerate(zip(rows, labels)):
        y = top + i * row_h
        sc.text(label_w - 12, y + 11, label, INK, LABEL, "end")
        for j, (key, color) in enumerate(zip(keys, (BLUE, ORANGE))):
            u = r["utilization"].get(key)
            if u is None:
                continue
            by = y + 4 + j * 16
            sc.rect(label_w, by, x_of(u) - label_w, 14, color, f"{label}, {key}: {fmt.pct(u)}")
            sc.text(min(x_of(u), label_w + plot_w) + 6, by + 1, fmt.pct(u), color if u < 1 else RED, TICK)
    qx = x_of(1.0)
    sc.line(qx, top - 8, qx, bottom + 2, RED, 2)
    return sc


def cost(rows: list[dict], month: int) -> Scene:
    shown = [r for r in rows if r["monthly_usd"] > 0.005 or r.get("plan_usd")]
    label_w = max([text_width(r["component"], LABEL) for r in shown] + [120]) + 2 * PAD
    plot_w, row_h, top = 640, 40, 84
    peak = max([r["monthly_usd"] for r in shown] + [r.get("plan_usd") or 0 for r in shown] + [1])
    value_w = text_width("$10,000.00", LABEL) + 2 * PAD
    sc = Scene(int(label_w + plot_w + value_w), top + row_h * len(shown) + 24, title="Monthly cost per component")
    _title(sc, f"Monthly cost per component: the model (month {month}) and the plan")
    _legend(sc, 40, [(BLUE, f"model, month {month}"), (GREY, "plan")])
    for i, r in enumerate(shown):
        y = top + i * row_h
        sc.text(label_w - 12, y + 11, r["component"], INK, LABEL, "end")
        for j, (value, color) in enumerate(((r["monthly_usd"], BLUE), (r.get("plan_usd"), GREY))):
            if value is None:
                continue
            by = y + 4 + j * 16
            w = max(1, plot_w * value / peak)
            sc.rect(label_w, by, w, 14, color, f"{r['component']}: ${value:,.2f}")
            sc.text(label_w + w + 6, by + 1, f"${value:,.2f}", INK if j == 0 else GREY, TICK)
    sc.line(label_w, top - 4, label_w, top + row_h * len(shown), INK, 1)
    return sc


def nice_ceiling(x: float) -> float:
    """The next 1, 2, 2.5, 3, 4 or 5 x 10^k at or above x, so axis ticks fall on round numbers."""
    if x <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(x))
    return next(m * base for m in (1, 2, 2.5, 3, 4, 5, 10) if m * base >= x * (1 - 1e-9))


PLOT = (110, 0, 740, 260)  # x0, (y0 set per chart), width, height of a time or latency plot
BELOW_PLOT = 56  # tick labels and the axis title under a plot


def divisions(vmax: float) -> int:
    """How many equal steps split an axis ending at a nice_ceiling value into round numbers
    (250 in 5 steps of 50, 40 in 4 of 10, 3 in 3 of 1)."""
    mantissa = round(vmax / 10 ** math.floor(math.log10(vmax)), 6) if vmax > 0 else 1
    return {2.5: 5, 3: 3, 5: 5}.get(mantissa, 4)


def _tick(v: float) -> str:
    text = fmt.sig(v, 3)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _axes(sc: Scene, x0, y0, w, h, xmax, ymax, xlabel, ylabel, yfmt=None):
    sc.line(x0, y0 + h, x0 + w, y0 + h, INK, 1)
    sc.line(x0, y0, x0, y0 + h, INK, 1)
    ny, nx = divisions(ymax), divisions(xmax)
    for k in range(ny + 1):
        yv = ymax * k / ny
        y = y0 + h - h * k / ny
        sc.line(x0, y, x0 + w, y, LIGHT, 1)
        sc.text(x0 - 8, y - 7, yfmt.format(yv) if yfmt else _tick(yv), GREY, TICK, "end")
    for k in range(nx + 1):
        sc.text(x0 + w * k / nx, y0 + h + 8, _tick(xmax * k / nx), GREY, TICK, "middle")
    sc.text(x0 + w / 2, y0 + h + 30, xlabel, INK, LABEL, "middle")
    sc.text(x0, y0 - 26, ylabel, INK, LABEL)


def timeline(points: list[tuple[float, float]], title: str, ylabel: str) -> Scene:
    x0, _, w, h = PLOT
    y0 = 80
    sc = Scene(900, y0 + h + BELOW_PLOT, title=title)
    _title(sc, title)
    t0 = points[0][0]
    xmax = nice_ceiling(max(p[0] - t0 for p in points))
    ymax = nice_ceiling(max(p[1] for p in points))
    _axes(sc, x0, y0, w, h, xmax, ymax, "seconds since the run started", ylabel)
    sc.polyline([(x0 + w * (t - t0) / xmax, y0 + h - h * v / ymax) for t, v in points], BLUE, 2)
    return sc


def cdf(latencies_s: list[float], title: str) -> Scene:
    """The share of files converted within each latency, with p50, p95 and p99 marked (the project's
    one quantile definition, sim.core.stats)."""
    v = sorted(latencies_s)
    x0, _, w, h = PLOT
    y0 = 80
    sc = Scene(900, y0 + h + BELOW_PLOT, title=title)
    _title(sc, title)
    xmax = nice_ceiling(v[-1])
    _axes(sc, x0, y0, w, h, xmax, 100, "end-to-end latency, seconds (landed -> in Parquet)", "% of files", "{:.0f}%")
    pts = [(x0 + w * x / xmax, y0 + h - h * (i + 1) / len(v)) for i, x in enumerate(v)]
    sc.polyline([(x0, y0 + h)] + pts, ORANGE, 2)
    marks = stats.percentiles(v, digits=6)
    for row, (name, x) in enumerate(marks.items()):
        px = x0 + w * x / xmax
        sc.line(px, y0, px, y0 + h, GREY, 1, dash=True)
        label = f"{name} {x:,.1f} s"
        sc.text(min(px + 4, x0 + w - text_width(label, TICK)), y0 + 4 + 18 * row, label, GREY, TICK)
    return sc


def _step_edge(xs: list[float], ys: list[float], end_x: float) -> list[tuple[float, float]]:
    """A step line through (x_i, y_i): each value holds until the next x, the last until end_x."""
    out = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        nxt = xs[i + 1] if i + 1 < len(xs) else end_x
        out += [(x, y), (nxt, y)]
    return out


def work_by_stage(points: list[tuple[float, dict]], title: str, uploads_end: float | None = None) -> Scene:
    """Files in each stage at every moment, stacked (one area a stage): the top edge is every file
    uploaded so far. Each plot column takes the last sample at or before it, so a long run stays a
    few hundred points an edge, and only where the counts change."""
    sc = Scene(900, 120 + PLOT[3] + BELOW_PLOT, title=title)
    _title(sc, title)
    below = _legend(sc, 40, [(color, label) for _key, color, label in STAGE_COLORS])
    x0, _, w, h = PLOT
    y0 = max(120, below + 40)
    sc.height = int(y0 + h + BELOW_PLOT)
    t0, last = points[0][0], points[-1][0]
    xmax = nice_ceiling(max(last - t0, 1e-9))
    ymax = nice_ceiling(max(max(sum(v.values()) for _, v in points), 1))
    _axes(sc, x0, y0, w, h, xmax, ymax, "seconds since the run started", "files")
    columns, j = [], 0  # (x, counts) at each plot column while the run lasts
    for px in range(int(w)):
        t = t0 + xmax * px / w
        if t > last:
            break
        while j + 1 < len(points) and points[j + 1][0] <= t:
            j += 1
        if not columns or columns[-1][1] != points[j][1]:  # a column only where the counts change
            columns.append((x0 + px, points[j][1]))
    xs = [x for x, _ in columns]
    end_x = x0 + w * (last - t0) / xmax
    lower = [0.0] * len(columns)
    for key, color, label in STAGE_COLORS:
        upper = [lo + max(0, counts.get(key, 0)) for lo, (_x, counts) in zip(lower, columns)]
        if any(u > lo for u, lo in zip(upper, lower)):
            to_y = lambda n: y0 + h - h * n / ymax  # noqa: E731
            top_edge = _step_edge(xs, [to_y(u) for u in upper], end_x)
            bottom_edge = _step_edge(xs, [to_y(lo) for lo in lower], end_x)
            sc.polygon(top_edge + bottom_edge[::-1], color, label)
        lower = upper
    sc.line(x0, y0 + h, x0 + w, y0 + h, INK, 1)
    if uploads_end is not None and uploads_end > t0:
        ux = x0 + w * (uploads_end - t0) / xmax
        sc.line(ux, y0 - 6, ux, y0 + h, INK, 1, dash=True)
        sc.text(min(ux + 4, x0 + w - text_width("uploads end", TICK)), y0 - 20, "uploads end", INK, TICK)
    return sc
