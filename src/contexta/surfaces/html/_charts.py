"""Inline SVG charts: no script, no external file, every label escaped.

Charts take plain numbers and labels (x = one position per run, oldest first). Missing or
non-finite values leave a gap instead of failing. Runs that diagnostics flagged get a
shaded band so the eye finds them first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contexta.surfaces.html._markup import Markup, format_number, join, text

__all__ = ["Series", "line_chart", "severity_strip", "stacked_bars"]

# No red in the palette: red marks flagged runs.
PALETTE = ("#2563eb", "#059669", "#7c3aed", "#d97706", "#0891b2", "#db2777", "#65a30d", "#4b5563")
SEVERITY_COLORS = {"error": "#dc2626", "warning": "#f59e0b", "info": "#93c5fd", None: "#d1d5db"}
_BAND = {"error": "#fee2e2", "warning": "#fef3c7"}


@dataclass(frozen=True)
class Series:
    """One named line or bar layer; ``values`` align with the chart's labels."""

    name: str
    values: Sequence[float | int | None]


def _finite(value: float | int | None) -> bool:
    return value is not None and not isinstance(value, bool) and math.isfinite(value)


class _Frame:
    """Plot area geometry and the value → pixel mapping."""

    def __init__(self, count: int, lo: float, hi: float, width: int, height: int) -> None:
        self.left, self.right, self.top, self.bottom = 64, 16, 16, 40
        self.width, self.height = width, height
        self.count = max(count, 1)
        if hi <= lo:
            hi = lo + (abs(lo) or 1.0)
        self.step = _nice_step((hi - lo) / 4)
        self.lo = math.floor(lo / self.step) * self.step
        self.hi = max(math.ceil(hi / self.step) * self.step, self.lo + self.step)

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def slot(self) -> float:
        return self.plot_w / self.count

    def x(self, index: int) -> float:
        return self.left + self.slot() * (index + 0.5)

    def y(self, value: float) -> float:
        return self.top + self.plot_h * (1.0 - (value - self.lo) / (self.hi - self.lo))


def _nice_step(raw: float) -> float:
    """Round a tick step up to 1, 2, 2.5 or 5 times a power of ten."""
    if not math.isfinite(raw) or raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10.0 * power


def _axes(frame: _Frame, labels: Sequence[str], y_unit: str) -> list[Markup]:
    parts: list[Markup] = []
    ticks = round((frame.hi - frame.lo) / frame.step)
    for step in range(ticks + 1):
        value = frame.lo + frame.step * step
        y = frame.y(value)
        parts.append(
            Markup(
                f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}" class="grid"/>'
                f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                f"{text(format_number(value, digits=3) + y_unit)}</text>"
            )
        )
    every = max(1, math.ceil(len(labels) / 10))
    for index, label in enumerate(labels):
        if index % every and index != len(labels) - 1:
            continue
        parts.append(
            Markup(
                f'<text x="{frame.x(index):.1f}" y="{frame.height - frame.bottom + 16}" '
                f'text-anchor="middle" class="tick">{text(label)}</text>'
            )
        )
    return parts


def _bands(frame: _Frame, flags: Mapping[int, str | None]) -> list[Markup]:
    parts: list[Markup] = []
    for index, severity in sorted(flags.items()):
        fill = _BAND.get(severity or "")
        if fill is None:
            continue
        x = frame.left + frame.slot() * index
        parts.append(
            Markup(
                f'<rect x="{x:.1f}" y="{frame.top}" width="{frame.slot():.1f}" '
                f'height="{frame.plot_h:.1f}" fill="{fill}"/>'
            )
        )
    return parts


def _legend(names: Sequence[str], width: int) -> Markup:
    items = []
    for index, name in enumerate(names):
        color = PALETTE[index % len(PALETTE)]
        items.append(
            Markup(f'<span class="key"><i style="background:{color}"></i>{text(name)}</span>')
        )
    return Markup(f'<div class="legend" style="max-width:{width}px">{join(items)}</div>')


def _svg(frame: _Frame, title: str, body: list[Markup]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {frame.width} {frame.height}" role="img">'
        f"<title>{text(title)}</title>{join(body)}</svg>"
    )


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    flags: Mapping[int, str | None] | None = None,
    y_unit: str = "",
    zero_based: bool = True,
    width: int = 820,
    height: int = 240,
) -> Markup:
    """One line per series across the runs; gaps where a run has no finite value."""
    values = [float(v) for s in series for v in s.values if _finite(v)]  # type: ignore[arg-type]
    lo = min([*values, 0.0] if zero_based else values or [0.0])
    hi = max(values or [1.0])
    frame = _Frame(len(labels), lo, hi, width, height)
    body = [*_bands(frame, flags or {}), *_axes(frame, labels, y_unit)]
    dots = len(labels) <= 60
    for index, one in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for position, value in enumerate(one.values):
            if not _finite(value):
                segment = []
                segments.append(segment)
                continue
            x, y = frame.x(position), frame.y(float(value))  # type: ignore[arg-type]
            segment.append(f"{x:.1f},{y:.1f}")
            if dots:
                tip = f"{labels[position]} · {one.name}: {format_number(value)}"
                body.append(
                    Markup(
                        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                        f"<title>{text(tip)}</title></circle>"
                    )
                )
        for points in segments:
            if len(points) > 1:
                body.append(
                    Markup(
                        f'<polyline points="{" ".join(points)}" fill="none" '
                        f'stroke="{color}" stroke-width="2"/>'
                    )
                )
    return Markup(_svg(frame, title, body) + _legend([s.name for s in series], width))


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    flags: Mapping[int, str | None] | None = None,
    y_unit: str = "",
    width: int = 820,
    height: int = 240,
) -> Markup:
    """Bars per run, one stacked layer per series (for example stage durations)."""
    totals = [
        sum(float(s.values[i]) for s in series if i < len(s.values) and _finite(s.values[i]))  # type: ignore[arg-type]
        for i in range(len(labels))
    ]
    frame = _Frame(len(labels), 0.0, max(totals or [1.0]), width, height)
    body = [*_bands(frame, flags or {}), *_axes(frame, labels, y_unit)]
    bar_w = max(frame.slot() * 0.7, 1.0)
    for position in range(len(labels)):
        base = 0.0
        for index, one in enumerate(series):
            value = one.values[position] if position < len(one.values) else None
            if not _finite(value):
                continue
            top = base + float(value)  # type: ignore[arg-type]
            y_top, y_base = frame.y(top), frame.y(base)
            tip = f"{labels[position]} · {one.name}: {format_number(value)}{y_unit}"
            body.append(
                Markup(
                    f'<rect x="{frame.x(position) - bar_w / 2:.1f}" y="{y_top:.1f}" '
                    f'width="{bar_w:.1f}" height="{max(y_base - y_top, 0.0):.1f}" '
                    f'fill="{PALETTE[index % len(PALETTE)]}"><title>{text(tip)}</title></rect>'
                )
            )
            base = top
    return Markup(_svg(frame, title, body) + _legend([s.name for s in series], width))


def severity_strip(labels: Sequence[str], severities: Sequence[str | None]) -> Markup:
    """One square per run, coloured by its most severe diagnostic (grey = none)."""
    size, gap = 14, 3
    per_row = 60
    rows = max(1, math.ceil(len(labels) / per_row))
    width = min(len(labels), per_row) * (size + gap) + gap
    height = rows * (size + gap) + gap
    cells = []
    for index, (label, severity) in enumerate(zip(labels, severities, strict=True)):
        x = gap + (index % per_row) * (size + gap)
        y = gap + (index // per_row) * (size + gap)
        fill = SEVERITY_COLORS.get(severity, SEVERITY_COLORS[None])
        tip = f"{label}: {severity or 'no issues'}"
        cells.append(
            Markup(
                f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="2" fill="{fill}">'
                f"<title>{text(tip)}</title></rect>"
            )
        )
    return Markup(
        f'<svg viewBox="0 0 {max(width, 1)} {height}" width="{max(width, 1)}" '
        f'height="{height}" role="img">'
        f"<title>Most severe diagnostic per run</title>{join(cells)}</svg>"
    )
