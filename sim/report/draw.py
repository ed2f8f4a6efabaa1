"""A tiny drawing surface with two outputs: SVG text for the HTML report and PNG bytes for files.

Charts are drawn once as shapes (rectangles, lines, polylines, text) and rendered by both backends,
so the PNG and the HTML show the same picture. PNG text uses the 5x7 bitmap font in font.py; the
encoder is zlib + struct, so no imaging library is needed.
"""

from __future__ import annotations

import html
import struct
import zlib
from dataclasses import dataclass, field

from . import font

CHAR_W = font.WIDTH + 1  # one column of spacing


def rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def text_width(s: str, scale: int = 2) -> int:
    return len(s) * CHAR_W * scale


@dataclass
class Scene:
    width: int
    height: int
    background: str = "#ffffff"
    shapes: list[tuple] = field(default_factory=list)

    def rect(self, x, y, w, h, fill):
        self.shapes.append(("rect", x, y, w, h, fill))

    def line(self, x1, y1, x2, y2, stroke, width=1, dash=False):
        self.shapes.append(("line", x1, y1, x2, y2, stroke, width, dash))

    def polyline(self, points, stroke, width=2):
        self.shapes.append(("poly", list(points), stroke, width))

    def text(self, x, y, s, color="#222222", scale=2, anchor="start"):
        """Text whose top-left (or top-right for anchor='end', top-centre for 'middle') is at x, y."""
        self.shapes.append(("text", x, y, str(s), color, scale, anchor))

    # -- SVG ------------------------------------------------------------------------------------
    def svg(self) -> str:
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
               f'width="100%" style="max-width:{self.width}px" role="img">',
               f'<rect width="{self.width}" height="{self.height}" fill="{self.background}"/>']
        for s in self.shapes:
            kind = s[0]
            if kind == "rect":
                _, x, y, w, h, fill = s
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0, w):.1f}" height="{max(0, h):.1f}" fill="{fill}"/>')
            elif kind == "line":
                _, x1, y1, x2, y2, stroke, width, dash = s
                d = ' stroke-dasharray="4 3"' if dash else ""
                out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" stroke-width="{width}"{d}/>')
            elif kind == "poly":
                _, pts, stroke, width = s
                p = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                out.append(f'<polyline points="{p}" fill="none" stroke="{stroke}" stroke-width="{width}"/>')
            elif kind == "text":
                _, x, y, t, color, scale, anchor = s
                a = {"start": "start", "end": "end", "middle": "middle"}[anchor]
                size = 8.6 * scale
                out.append(f'<text x="{x:.1f}" y="{y + 7 * scale:.1f}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
                           f'font-size="{size:.1f}" fill="{color}" text-anchor="{a}">{html.escape(t)}</text>')
        out.append("</svg>")
        return "\n".join(out)

    # -- PNG ------------------------------------------------------------------------------------
    def png(self) -> bytes:
        canvas = _Canvas(self.width, self.height, rgb(self.background))
        for s in self.shapes:
            kind = s[0]
            if kind == "rect":
                _, x, y, w, h, fill = s
                canvas.fill(x, y, w, h, rgb(fill))
            elif kind == "line":
                _, x1, y1, x2, y2, stroke, width, dash = s
                canvas.line(x1, y1, x2, y2, rgb(stroke), width, dash)
            elif kind == "poly":
                _, pts, stroke, width = s
                for (a, b), (c, d) in zip(pts, pts[1:]):
                    canvas.line(a, b, c, d, rgb(stroke), width)
            elif kind == "text":
                _, x, y, t, color, scale, anchor = s
                w = text_width(t, scale)
                x0 = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
                canvas.text(x0, y, t, rgb(color), scale)
        return canvas.encode()


class _Canvas:
    def __init__(self, width: int, height: int, background):
        self.w, self.h = width, height
        self.px = bytearray(bytes(background) * (width * height))

    def _set(self, x: int, y: int, color) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            i = 3 * (y * self.w + x)
            self.px[i:i + 3] = bytes(color)

    def fill(self, x, y, w, h, color) -> None:
        x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
        x1, y1 = min(self.w, int(round(x + w))), min(self.h, int(round(y + h)))
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(y0, y1):
            i = 3 * (yy * self.w + x0)
            self.px[i:i + len(row)] = row

    def line(self, x1, y1, x2, y2, color, width=1, dash=False) -> None:
        steps = int(max(abs(x2 - x1), abs(y2 - y1))) + 1
        half = (width - 1) / 2
        for i in range(steps + 1):
            if dash and (i // 4) % 2:
                continue
            t = i / steps if steps else 0
            x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
            self.fill(x - half, y - half, max(1, width), max(1, width), color)

    def text(self, x, y, s: str, color, scale: int) -> None:
        cx = int(round(x))
        for ch in s:
            drop = font.DESCENT.get(ch, 0)
            for r, row in enumerate(font.glyph(ch)):
                for c, cell in enumerate(row):
                    if cell == "#":
                        self.fill(cx + c * scale, int(round(y)) + (r + drop) * scale, scale, scale, color)
            cx += CHAR_W * scale

    def encode(self) -> bytes:
        stride = 3 * self.w
        raw = b"".join(b"\x00" + bytes(self.px[y * stride:(y + 1) * stride]) for y in range(self.h))

        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
