"""The charts as vector SVG: documents that parse, shapes where they were drawn, labels whole."""

import xml.etree.ElementTree as ET

from sim.report import charts
from sim.report.svg import Scene, text_width


def _num(el, name):
    return float(el.get(name, 0))


def _inside(x, y, pts):
    """Ray casting: is (x, y) inside the polygon?"""
    inside = False
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def probe(svg: str):
    """A function giving the fill painted at (x, y): the last rectangle or polygon covering it."""
    root = ET.fromstring(svg)
    shapes = []
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag == "rect":
            x, y, w, h = (_num(el, k) for k in ("x", "y", "width", "height"))
            shapes.append((lambda px, py, x=x, y=y, w=w, h=h: x <= px < x + w and y <= py < y + h, el.get("fill")))
        elif tag == "polygon":
            pts = [tuple(map(float, p.split(","))) for p in el.get("points").split()]
            shapes.append((lambda px, py, pts=pts: _inside(px, py, pts), el.get("fill")))

    def at(x, y):
        for covers, fill in reversed(shapes):
            if covers(x + 0.5, y + 0.5):
                return fill
        return None

    return at


def texts(svg: str) -> list[str]:
    return [el.text for el in ET.fromstring(svg).iter() if el.tag.endswith("text")]


def test_the_scene_holds_the_rectangles_drawn():
    sc = Scene(40, 20, background="#ffffff")
    sc.rect(10, 5, 10, 5, "#ff0000")
    at = probe(sc.svg())
    root = ET.fromstring(sc.svg())
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("40", "20", "0 0 40 20")
    assert at(12, 7) == "#ff0000"
    assert at(2, 2) == "#ffffff"
    assert at(25, 7) == "#ffffff"


def test_text_is_real_text_escaped():
    sc = Scene(60, 20)
    sc.text(2, 2, "A & <g>", "#000000", size=12)
    assert texts(sc.svg()) == ["A & <g>"]
    assert text_width("abcd", 10) > text_width("ab", 10) > 0


def test_charts_render_as_svg_with_every_label_whole():
    long_label = "Lambda: concurrent executions of the batch custom metrics"
    rows = [{"component": "Glue", "limit": "job", "short": "Glue job", "utilization": {"1x": 0.03, "600x": 20.0}},
            {"component": "S3", "limit": "PUT", "utilization": {"1x": 1e-7, "600x": None}},
            {"component": "Lambda", "limit": "x", "short": long_label, "utilization": {"1x": 0.5, "600x": 2.0}}]
    cost_rows = [{"component": "Glue", "monthly_usd": 2.2, "plan_usd": 220}, {"component": "SNS", "monthly_usd": 0.0, "plan_usd": None}]
    scenes = [charts.utilization(rows), charts.cost(cost_rows, 12), charts.timeline([(0, 0), (1, 3), (2, 1)], "q", "messages"),
              charts.cdf([1.0, 2.0, 2.5, 9.0], "latency")]
    for sc in scenes:
        root = ET.fromstring(sc.svg())
        assert root.tag.endswith("svg") and root.get("viewBox") == f"0 0 {sc.width} {sc.height}"
    util = scenes[0].svg()
    assert long_label in texts(util)  # whole, not cut to fit a column
    label = next(el for el in ET.fromstring(util).iter() if el.text == long_label)
    assert label.get("text-anchor") == "end" and float(label.get("x")) - text_width(long_label, 13) >= 0
    assert any(t.startswith("p95 ") for t in texts(scenes[3].svg()))


def test_axis_maxima_are_round_numbers():
    assert charts.nice_ceiling(0.7) == 1
    assert charts.nice_ceiling(13) == 20
    assert charts.nice_ceiling(240) == 250
    assert charts.nice_ceiling(5) == 5
