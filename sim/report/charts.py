"""The report's charts as Scenes (see draw.py): utilization against quotas, the monthly bill beside
the plan's, and for load runs where the work waits over time (by stage) and the end-to-end latency
CDF (the queue depth over time for timelines without stages).
"""

from __future__ import annotations

import math

from . import fmt
from .draw import Scene, text_width

BLUE, ORANGE, GREY, RED, INK, LIGHT = "#3b6fb6", "#e08a2c", "#9aa3ad", "#c0392b", "#222222", "#e6e9ed"
# Where the work waits, bottom to top: the waiting stages first so they read against the axis.
STAGE_COLORS = (("queued", BLUE, "in the queue"), ("pending", RED, "pending a manifest"),
                ("converting", ORANGE, "manifested, not converted"), ("converted", "#c9d3dd", "converted"))
LOG_MIN, LOG_MAX = -6, 2  # utilization 0.0001% .. 10,000%


def _pct_label(u: float) -> str:
    return fmt.pct(u)


def utilization(rows: list[dict], keys: tuple[str, str] = ("1x", "600x")) -> Scene:
    label_w = 360
    plot_w = 600
    row_h = 40
    top = 70
    rows = [r for r in rows if r["utilization"].get(keys[0]) is not None]
    sc = Scene(label_w + plot_w + 150, top + row_h * len(rows) + 70)
    sc.text(16, 14, f"Utilization of each limit at the peak hour: today ({keys[0]}) and {keys[1]}", INK, 2)
    sc.rect(16, 44, 14, 14, BLUE)
    sc.text(36, 45, keys[0], INK, 2)
    sc.rect(110, 44, 14, 14, ORANGE)
    sc.text(130, 45, keys[1], INK, 2)
    sc.text(240, 45, "log scale; red line = the quota", GREY, 2)

    def x_of(u: float) -> float:
        lu = math.log10(max(u, 10 ** LOG_MIN))
        return label_w + plot_w * (min(lu, LOG_MAX) - LOG_MIN) / (LOG_MAX - LOG_MIN)

    bottom = top + row_h * len(rows)
    for d in range(LOG_MIN, LOG_MAX + 1):
        x = x_of(10 ** d)
        sc.line(x, top - 4, x, bottom, LIGHT, 1)
        if d % 2 == 0:
            sc.text(x, bottom + 8, _pct_label(10 ** d), GREY, 2, "middle")
    for i, r in enumerate(rows):
        y = top + i * row_h
        label = r.get("short") or f"{r['component']}: {r['limit']}"
        if len(label) > 28:
            label = label[:27] + "~"
        sc.text(label_w - 12, y + 12, label, INK, 2, "end")
        for j, (key, color) in enumerate(zip(keys, (BLUE, ORANGE))):
            u = r["utilization"].get(key)
            if u is None:
                continue
            by = y + 4 + j * 16
            sc.rect(label_w, by, x_of(u) - label_w, 14, color)
            sc.text(min(x_of(u), label_w + plot_w) + 6, by, _pct_label(u), color if u < 1 else RED, 2)
    qx = x_of(1.0)
    sc.line(qx, top - 8, qx, bottom + 2, RED, 2)
    return sc


def cost(rows: list[dict], month: int) -> Scene:
    label_w, plot_w, row_h, top = 230, 640, 40, 70
    shown = [r for r in rows if r["monthly_usd"] > 0.005 or r.get("plan_usd")]
    peak = max([r["monthly_usd"] for r in shown] + [r.get("plan_usd") or 0 for r in shown] + [1])
    sc = Scene(label_w + plot_w + 140, top + row_h * len(shown) + 30)
    sc.text(16, 14, f"Monthly cost per component: the model (month {month}) and the plan", INK, 2)
    sc.rect(16, 44, 14, 14, BLUE)
    sc.text(36, 45, f"model, month {month}", INK, 2)
    sc.rect(250, 44, 14, 14, GREY)
    sc.text(270, 45, "plan", INK, 2)
    for i, r in enumerate(shown):
        y = top + i * row_h
        sc.text(label_w - 12, y + 12, r["component"], INK, 2, "end")
        for j, (value, color) in enumerate(((r["monthly_usd"], BLUE), (r.get("plan_usd"), GREY))):
            if value is None:
                continue
            by = y + 4 + j * 16
            w = plot_w * value / peak
            sc.rect(label_w, by, max(1, w), 14, color)
            sc.text(label_w + max(1, w) + 6, by, f"${value:,.2f}", INK if j == 0 else GREY, 2)
    sc.line(label_w, top - 4, label_w, top + row_h * len(shown), INK, 1)
    return sc


def nice_ceiling(x: float) -> float:
    """The next 1, 2, 2.5, 3, 4 or 5 x 10^k at or above x, so axis ticks fall on round numbers."""
    if x <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(x))
    return next(m * base for m in (1, 2, 2.5, 3, 4, 5, 10) if m * base >= x * (1 - 1e-9))


def _axes(sc: Scene, x0, y0, w, h, xmax, ymax, xlabel, ylabel, yfmt=None):
    sc.line(x0, y0 + h, x0 + w, y0 + h, INK, 1)
    sc.line(x0, y0, x0, y0 + h, INK, 1)
    for k in range(5):
        yv = ymax * k / 4
        y = y0 + h - h * k / 4
        sc.line(x0, y, x0 + w, y, LIGHT, 1)
        sc.text(x0 - 8, y - 7, yfmt.format(yv) if yfmt else fmt.sig(yv, 2), GREY, 2, "end")
        sc.text(x0 + w * k / 4, y0 + h + 8, fmt.sig(xmax * k / 4, 2), GREY, 2, "middle")
    sc.text(x0 + w / 2, y0 + h + 32, xlabel, INK, 2, "middle")
    sc.text(x0, y0 - 24, ylabel, INK, 2)


def timeline(points: list[tuple[float, float]], title: str, ylabel: str) -> Scene:
    sc = Scene(900, 420)
    sc.text(16, 14, title, INK, 2)
    x0, y0, w, h = 110, 80, 740, 260
    t0 = points[0][0]
    xmax = nice_ceiling(max(p[0] - t0 for p in points))
    ymax = nice_ceiling(max(p[1] for p in points))
    _axes(sc, x0, y0, w, h, xmax, ymax, "seconds since the run started", ylabel)
    sc.polyline([(x0 + w * (t - t0) / xmax, y0 + h - h * v / ymax) for t, v in points], BLUE, 2)
    return sc


def cdf(latencies_s: list[float], title: str) -> Scene:
    v = sorted(latencies_s)
    sc = Scene(900, 420)
    sc.text(16, 14, title, INK, 2)
    x0, y0, w, h = 110, 80, 740, 260
    xmax = nice_ceiling(v[-1])
    _axes(sc, x0, y0, w, h, xmax, 100, "end-to-end latency, seconds (landed -> in Parquet)", "% of files", "{:.0f}%")
    pts = [(x0 + w * x / xmax, y0 + h - h * (i + 1) / len(v)) for i, x in enumerate(v)]
    sc.polyline([(x0, y0 + h)] + pts, ORANGE, 2)
    for q in (0.5, 0.95, 0.99):
        x = v[min(len(v) - 1, int(q * (len(v) - 1)))]
        px = x0 + w * x / xmax
        sc.line(px, y0, px, y0 + h, GREY, 1, dash=True)
        label = f"p{int(q * 100)} {x:,.1f}s"
        sc.text(min(px + 4, x0 + w - text_width(label)), y0 + 4 + 18 * [0.5, 0.95, 0.99].index(q), label, GREY, 2)
    return sc


def work_by_stage(points: list[tuple[float, dict]], title: str, uploads_end: float | None = None) -> Scene:
    """Files in each stage at every moment, stacked: the top edge is every file uploaded so far.

    One column per pixel, from the last sample at or before it, so a long run stays a few hundred
    rectangles."""
    sc = Scene(900, 470)
    sc.text(16, 14, title, INK, 2)
    x, y = 16, 44
    for _key, color, label in STAGE_COLORS:
        if x + 20 + text_width(label) > sc.width - 16:
            x, y = 16, y + 24
        sc.rect(x, y, 14, 14, color)
        sc.text(x + 20, y + 1, label, INK, 2)
        x += 20 + text_width(label) + 24
    x0, y0, w, h = 110, 120, 740, 260
    t0 = points[0][0]
    xmax = nice_ceiling(max(max(t - t0 for t, _ in points), 1e-9))
    ymax = nice_ceiling(max(max(sum(v.values()) for _, v in points), 1))
    _axes(sc, x0, y0, w, h, xmax, ymax, "seconds since the run started", "files")
    j, last = 0, points[-1][0]
    for px in range(int(w)):
        t = t0 + xmax * px / w
        if t > last:
            break
        while j + 1 < len(points) and points[j + 1][0] <= t:
            j += 1
        bottom = y0 + h
        for key, color, _label in STAGE_COLORS:
            n = points[j][1].get(key, 0)
            if n <= 0:
                continue
            bar = h * n / ymax
            sc.rect(x0 + px, bottom - bar, 1, bar, color)
            bottom -= bar
    sc.line(x0, y0 + h, x0 + w, y0 + h, INK, 1)
    if uploads_end is not None and uploads_end > t0:
        ux = x0 + w * (uploads_end - t0) / xmax
        sc.line(ux, y0 - 6, ux, y0 + h, INK, 1, dash=True)
        sc.text(min(ux + 4, x0 + w - text_width("uploads end")), y0 - 20, "uploads end", INK, 2)
    return sc
