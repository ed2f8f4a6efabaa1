"""A small vector drawing surface: charts are drawn as shapes (rectangles, lines, polylines,
polygons, text) and written as SVG, the file report.md links and the markup report.html inlines.

Text is real SVG text in a sans-serif font, sized in pixels; `text_width` is a generous estimate
(0.62 em a character) that the charts use to lay out legends and label columns so nothing is cut.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
EM_PER_CHAR = 0.62


def text_width(s: str, size: float = 13) -> float:
    return len(s) * size * EM_PER_CHAR


@dataclass
class Scene:
    width: int
    height: int
    title: str = ""
    background: str = "#ffffff"
    shapes: list[str] = field(default_factory=list)

    def rect(self, x, y, w, h, fill, label: str = "") -> None:
        tip = f"<title>{html.escape(label)}</title>" if label else ""
        self.shapes.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0, w):.1f}" height="{max(0, h):.1f}" '
                           f'fill="{fill}">{tip}</rect>')

    def line(self, x1, y1, x2, y2, stroke, width=1, dash=False) -> None:
        d = ' stroke-dasharray="5 4"' if dash else ""
        self.shapes.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
                           f'stroke-width="{width}"{d}/>')

    def polyline(self, points, stroke, width=2) -> None:
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.shapes.append(f'<polyline points="{p}" fill="none" stroke="{stroke}" stroke-width="{width}" '
                           'stroke-linejoin="round"/>')

    def polygon(self, points, fill, label: str = "") -> None:
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        tip = f"<title>{html.escape(label)}</title>" if label else ""
        self.shapes.append(f'<polygon points="{p}" fill="{fill}">{tip}</polygon>')

    def text(self, x, y, s, color="#222222", size: float = 13, anchor="start", bold=False) -> None:
        """Text whose top-left (top-right for anchor='end', top-centre for 'middle') is at x, y."""
        weight = ' font-weight="bold"' if bold else ""
        self.shapes.append(f'<text x="{x:.1f}" y="{y + 0.8 * size:.1f}" font-size="{size:g}" fill="{color}" '
                           f'text-anchor="{anchor}"{weight}>{html.escape(str(s))}</text>')

    def svg(self) -> str:
        """A standalone SVG document (with the XML namespace), also valid inline in HTML."""
        label = f' aria-label="{html.escape(self.title)}"' if self.title else ""
        return "\n".join([
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" width="{self.width}" '
            f'height="{self.height}" style="max-width:100%;height:auto" font-family="{FONT}" role="img"{label}>',
            f'<rect width="{self.width}" height="{self.height}" fill="{self.background}"/>',
            *self.shapes,
            "</svg>",
        ])
