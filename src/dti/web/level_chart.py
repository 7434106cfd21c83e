"""The national page's chart: the national DTI and the group averages over the years, as an
inline SVG drawn on the server (no script, no CDN), like the maps of :mod:`dti.web.maps`.

A year whose value was not published has no mark and breaks its line: the chart never draws a
missing figure as 0.  Each series has its own colour *and* dash and marker, so it reads in grey
too.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from dti.web.i18n import number

WIDTH, HEIGHT = 640, 340
LEFT, RIGHT, TOP, BOTTOM = 60, 28, 18, 44
FONT = 18   # still legible when a phone draws the chart at 340 px wide
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# series key → (colour, dash, marker); the colours keep 4.5:1 against white
STYLES = {"national": ("#0b3d66", "", "circle"),
          "provinces": ("#a04a00", "6 3", "square"),
          "with_public_services": ("#1b6e2e", "2 3", "diamond"),
          "without_public_services": ("#6a2c7a", "8 3 2 3", "triangle")}


@dataclass(frozen=True)
class Series:
    """One line of the chart: a key of :data:`STYLES`, its label, and (year, value or None)."""

    key: str
    label: str
    points: tuple[tuple[int, float | None], ...]


def _x(year: int, years: tuple[int, ...]) -> float:
    span = max(len(years) - 1, 1)
    return LEFT + (WIDTH - LEFT - RIGHT) * years.index(year) / span


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value)


def _marker(kind: str, x: float, y: float, colour: str, size: float = 7) -> str:
    """A series' marker centred on (x, y), ``size`` from the centre to a corner."""
    if kind == "square":
        side = size * 1.6
        return (f'<rect x="{x - side / 2:.1f}" y="{y - side / 2:.1f}" width="{side:.1f}" '
                f'height="{side:.1f}" fill="{colour}"/>')
    if kind == "diamond":
        return (f'<path d="M{x:.1f} {y - size:.1f}L{x + size:.1f} {y:.1f}L{x:.1f} {y + size:.1f}'
                f'L{x - size:.1f} {y:.1f}Z" fill="{colour}"/>')
    if kind == "triangle":
        return (f'<path d="M{x:.1f} {y - size:.1f}L{x + size:.1f} {y + size * 0.8:.1f}'
                f'L{x - size:.1f} {y + size * 0.8:.1f}Z" fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size * 0.9:.1f}" fill="{colour}"/>'


def _axes(years: tuple[int, ...], lang: str) -> list[str]:
    parts = []
    for tick in TICKS:
        y = _y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d0d7de" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 6:.1f}" text-anchor="end" font-size="{FONT}" '
                     f'fill="#3d4650">{number(tick, lang, 1)}</text>')
    for year in years:
        parts.append(f'<text x="{_x(year, years):.1f}" y="{HEIGHT - 14}" text-anchor="middle" '
                     f'font-size="{FONT}" fill="#3d4650">{year}</text>')
    return parts


def _line(series: Series, years: tuple[int, ...], lang: str) -> list[str]:
    """The series' segments between published values (a gap where a year is not published),
    its markers, and each value's title for a pointer or a screen reader."""
    colour, dash, marker = STYLES[series.key]
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    parts, run = [], []
    for year, value in (*series.points, (None, None)):
        if value is None:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                             f'stroke-width="3"{dashed}/>')
            run = []
            continue
        run.append((_x(year, years), _y(value)))
    for year, value in series.points:
        if value is not None:
            x, y = _x(year, years), _y(value)
            title = escape(f"{series.label}, {year}: {number(value, lang)}")
            parts.append(f'<g><title>{title}</title>{_marker(marker, x, y, colour)}</g>')
    return parts


def national_svg(series: tuple[Series, ...], title: str, lang: str) -> str:
    """The chart of ``series`` across the years they share (values between 0 and 1)."""
    years = tuple(sorted({year for s in series for year, _ in s.points}))
    body = _axes(years, lang)
    for s in series:
        body += _line(s, years, lang)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def swatch(key: str) -> str:
    """A series' colour, dash and marker as a small SVG for the legend beside the chart."""
    colour, dash, marker = STYLES[key]
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<svg class="swatch" viewBox="0 0 36 12" width="36" height="12" aria-hidden="true">'
            f'<line x1="0" x2="36" y1="6" y2="6" stroke="{colour}" stroke-width="2"{dashed}/>'
            f'{_marker(marker, 18, 6, colour, 5)}</svg>')
