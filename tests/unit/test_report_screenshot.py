"""report.html as a person sees it: built from a real small load run's saved files (run.json,
metrics.json, timeline.csv, load.json, as `sim load` and `sim report` wrote them), opened in a real
headless Chromium, and checked: every chart is there as SVG and painted, no table is empty.

Chromium comes from Debian's packages (`apt-get install chromium`; .ci/run installs it). Where it is
missing the test is skipped with the reason, unless SIM_SCREENSHOT_REQUIRED=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.report import build, charts, inputs

RUN = Path(__file__).resolve().parents[1] / "data" / "load-run"
RUN_NAME = "load-20261129T205518Z"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
WIDTH, HEIGHT, SCALE = 1280, 9000, 0.5  # CSS pixels down to the charts; half-size pixels keep decoding quick


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB bytes of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        prev = line
        rows.append(bytes(line) if bpp == 3 else bytes(b for j in range(0, stride, 4) for b in line[j:j + 3]))
    return width, height, rows


class _Page(HTMLParser):
    """The page's SVG charts, and the data rows of each table."""

    def __init__(self):
        super().__init__()
        self.svgs, self.tables, self._cells = 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.svgs += 1
        elif tag == "tbody":
            self.tables.append(0)
        elif tag == "td" and self.tables:
            self._cells = ""

    def handle_data(self, data):
        if self._cells is not None:
            self._cells += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cells is not None:
            if self._cells.strip():
                self.tables[-1] += 1
            self._cells = None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("reports") / RUN_NAME
    shutil.copytree(RUN, run_dir)
    return build.build(run_dir, inputs.build())


def test_the_page_holds_every_chart_and_no_empty_table(report):
    html = Path(report["files"]["report_html"]).read_text()
    page = _Page()
    page.feed(html)
    expected = {"utilization", "cost", "work_by_stage", "latency_cdf"}
    assert set(report["files"]["charts"]) == expected
    assert page.svgs == len(expected)  # each chart inline, once
    assert len(page.tables) >= 6 and min(page.tables) > 0, page.tables
    md = Path(report["files"]["report_md"]).read_text()
    assert sorted(re.findall(r"\]\((chart-[a-z_]+\.svg)\)", md)) == sorted(f"chart-{n}.svg" for n in expected)


def test_a_browser_paints_the_charts(report, tmp_path):
    browser = chromium()
    if browser is None:
        reason = "chromium not found (apt-get install chromium): report.html not looked at in a browser"
        if os.environ.get("SIM_SCREENSHOT_REQUIRED") == "1":
            pytest.fail(reason)
        print(f"skipped: {reason}")
        pytest.skip(reason)
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", f"--force-device-scale-factor={SCALE}",
                           Path(report["files"]["report_html"]).as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    width, height, rows = read_png(shot.read_bytes())
    assert (width, height) == (WIDTH * SCALE, HEIGHT * SCALE)
    counts: dict[bytes, int] = {}
    for row in rows:
        for i in range(0, len(row), 3):
            px = row[i:i + 3]
            counts[px] = counts.get(px, 0) + 1
    assert len(counts) > 50, "a blank page"
    # Every chart's own colours are painted in solid areas: bars (blue, orange), the plan's bars
    # (grey), and the stages of the work chart (pending in red, converted in its light grey).
    wanted = {"1x bars": charts.BLUE, "600x bars": charts.ORANGE, "plan bars": charts.GREY,
              **{f"stage {key}": color for key, color, _ in charts.STAGE_COLORS if key in ("pending", "converted")}}
    painted = {name: counts.get(bytes.fromhex(color.lstrip("#")), 0) for name, color in wanted.items()}
    assert all(n >= 50 for n in painted.values()), painted
