"""The dependency-free renderers: PNG bytes that decode to the drawn picture, SVG that parses."""

import struct
import xml.etree.ElementTree as ET
import zlib

from sim.report import charts, font
from sim.report.draw import Scene


def decode_png(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc
        chunks.setdefault(tag, b"")
        chunks[tag] += body
        pos += 12 + length
    w, h, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    raw = zlib.decompress(chunks[b"IDAT"])
    assert (depth, color) == (8, 2) and len(raw) == h * (1 + 3 * w)
    rows = [raw[y * (1 + 3 * w) + 1:(y + 1) * (1 + 3 * w)] for y in range(h)]
    return w, h, lambda x, y: tuple(rows[y][3 * x:3 * x + 3])


def test_png_holds_the_rectangles_drawn():
    sc = Scene(40, 20, background="#ffffff")
    sc.rect(10, 5, 10, 5, "#ff0000")
    w, h, px = decode_png(sc.png())
    assert (w, h) == (40, 20)
    assert px(12, 7) == (255, 0, 0)
    assert px(2, 2) == (255, 255, 255)
    assert px(25, 7) == (255, 255, 255)


def test_text_inks_pixels_and_every_glyph_is_five_by_seven():
    for code in range(32, 127):
        rows = font.glyph(chr(code))
        assert len(rows) == 7 and all(len(r) == 5 for r in rows), chr(code)
    sc = Scene(60, 20)
    sc.text(2, 2, "Ag", "#000000", scale=1)
    _, _, px = decode_png(sc.png())
    inked = sum(px(x, y) == (0, 0, 0) for x in range(60) for y in range(20))
    assert inked > 10


def test_charts_render_as_svg_and_png():
    rows = [{"component": "Glue", "limit": "job", "short": "Glue job", "utilization": {"1x": 0.03, "600x": 20.0}},
            {"component": "S3", "limit": "PUT", "utilization": {"1x": 1e-7, "600x": None}}]
    cost_rows = [{"component": "Glue", "monthly_usd": 2.2, "plan_usd": 220}, {"component": "SNS", "monthly_usd": 0.0, "plan_usd": None}]
    scenes = [charts.utilization(rows), charts.cost(cost_rows, 12), charts.timeline([(0, 0), (1, 3), (2, 1)], "q", "messages"),
              charts.cdf([1.0, 2.0, 2.5, 9.0], "latency")]
    for sc in scenes:
        root = ET.fromstring(sc.svg())
        assert root.tag.endswith("svg")
        w, h, _ = decode_png(sc.png())
        assert (w, h) == (sc.width, sc.height)


def test_axis_maxima_are_round_numbers():
    assert charts.nice_ceiling(0.7) == 1
    assert charts.nice_ceiling(13) == 20
    assert charts.nice_ceiling(240) == 250
    assert charts.nice_ceiling(5) == 5
