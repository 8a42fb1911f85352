"""Server-drawn SVG line charts for the therapist's progress page (no JavaScript, no requests).

`line_chart` draws dated scores (PHQ-9, GAD-7, mood check-ins) as an inline SVG picture: a
line through the points, a labelled axis, and a dashed threshold line with its own words
(so the threshold does not rely on colour). The picture has `role="img"`, a `<title>` and a
`<desc>` that say what the trend is; `describe_trend` gives the same sentence for the page.
The SVG is built with `xml.etree.ElementTree`, so every piece of text in it is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

__all__ = ["Point", "Threshold", "describe_trend", "line_chart"]

WIDTH, HEIGHT = 480, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 44
INK, MUTED, LINE, MARK = "#1b1f24", "#4a5561", "#1f5f8b", "#a4161a"
FONT = "system-ui, sans-serif"


@dataclass(frozen=True)
class Point:
    """One dated value on a chart."""

    on: date
    value: int


@dataclass(frozen=True)
class Threshold:
    """A horizontal reference line, e.g. the caseness cut-off, drawn dashed with its label."""

    value: int
    label: str


def _short(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def describe_trend(name: str, points: Sequence[Point], *, threshold: Threshold | None = None) -> str:
    """Say in one or two sentences what a series shows, for the chart's title and for screen readers."""
    if not points:
        return f"{name}: no scores yet."
    first, last = points[0], points[-1]
    if len(points) == 1:
        text = f"{name}: one score, {first.value} on {_short(first.on)}."
    else:
        change = last.value - first.value
        movement = ("no change" if change == 0 else
                    f"up by {change} point{'s' if abs(change) != 1 else ''}" if change > 0 else
                    f"down by {-change} point{'s' if abs(change) != 1 else ''}")
        text = (f"{name}: {len(points)} scores, from {first.value} on {_short(first.on)} "
                f"to {last.value} on {_short(last.on)} ({movement}).")
    if threshold is not None:
        side = ("at" if last.value == threshold.value else
                "above" if last.value > threshold.value else "below")
        text += f" The latest score, {last.value}, is {side} the {threshold.label.lower()} of {threshold.value}."
    return text


def _text(parent: ET.Element, x: float, y: float, words: str, *, anchor: str = "middle",
          size: int = 13, fill: str = INK) -> ET.Element:
    node = ET.SubElement(parent, "text", {
        "x": f"{x:.1f}", "y": f"{y:.1f}", "text-anchor": anchor, "font-size": str(size),
        "font-family": FONT, "fill": fill,
    })
    node.text = words
    return node


def line_chart(chart_id: str, name: str, points: Sequence[Point], *, maximum: int,
               threshold: Threshold | None = None) -> Markup:
    """Draw `points` (oldest first) on a 0..`maximum` scale as an accessible inline SVG.

    Args:
        chart_id: a page-unique id prefix (letters, digits, hyphens) for the title and description.
        name: what is measured, e.g. "PHQ-9 total"; used in the title and axis label.
        points: the dated values, oldest first; values outside 0..maximum are clamped on the picture.
        maximum: the top of the scale (27 for PHQ-9, 21 for GAD-7, 10 for mood).
        threshold: an optional reference line, drawn dashed and labelled in words.
    """
    if maximum < 1:
        raise ValueError(f"chart {chart_id!r}: maximum must be at least 1, got {maximum}")
    safe_id = "".join(c for c in chart_id if c.isalnum() or c == "-") or "chart"
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    svg = ET.Element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {WIDTH} {HEIGHT}", "class": "chart",
        "role": "img", "aria-labelledby": f"{safe_id}-title {safe_id}-desc", "focusable": "false",
    })
    ET.SubElement(svg, "title", {"id": f"{safe_id}-title"}).text = f"Chart of {name} over time"
    ET.SubElement(svg, "desc", {"id": f"{safe_id}-desc"}).text = describe_trend(name, points, threshold=threshold)

    def y_of(value: int) -> float:
        return TOP + plot_h * (1 - min(max(value, 0), maximum) / maximum)

    step = max(1, round(maximum / 5))
    for tick in range(0, maximum + 1, step):
        y = y_of(tick)
        ET.SubElement(svg, "line", {"x1": str(LEFT), "x2": str(WIDTH - RIGHT), "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                    "stroke": "#d5dbe1", "stroke-width": "1"})
        _text(svg, LEFT - 6, y + 4, str(tick), anchor="end", fill=MUTED)
    _text(svg, LEFT, HEIGHT - 8, name, anchor="start", size=13, fill=MUTED)
    if threshold is not None and 0 <= threshold.value <= maximum:
        y = y_of(threshold.value)
        ET.SubElement(svg, "line", {"x1": str(LEFT), "x2": str(WIDTH - RIGHT), "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                    "stroke": MARK, "stroke-width": "2", "stroke-dasharray": "6 4",
                                    "class": "chart-threshold"})
        _text(svg, WIDTH - RIGHT, y - 6, f"{threshold.label} ({threshold.value})", anchor="end", size=12, fill=MARK)
    if points:
        span = max((points[-1].on - points[0].on).days, 0)
        coords = []
        for index, point in enumerate(points):
            if span:
                x = LEFT + plot_w * (point.on - points[0].on).days / span
            else:
                x = LEFT + plot_w * ((index + 1) / (len(points) + 1))
            coords.append((x, y_of(point.value)))
        if len(coords) > 1:
            ET.SubElement(svg, "polyline", {
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in coords), "fill": "none",
                "stroke": LINE, "stroke-width": "3", "stroke-linejoin": "round",
            })
        for (x, y), point in zip(coords, points, strict=True):
            dot = ET.SubElement(svg, "circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "5", "fill": LINE,
                                                "class": "chart-point", "data-value": str(point.value),
                                                "data-date": point.on.isoformat()})
            ET.SubElement(dot, "title").text = f"{point.value} on {point.on.isoformat()}"
        _text(svg, coords[0][0], HEIGHT - 26, _short(points[0].on), anchor="start", size=12, fill=MUTED)
        if len(points) > 1:
            _text(svg, coords[-1][0], HEIGHT - 26, _short(points[-1].on), anchor="end", size=12, fill=MUTED)
    else:
        _text(svg, LEFT + plot_w / 2, TOP + plot_h / 2, "No scores yet", fill=MUTED)
    return Markup(ET.tostring(svg, encoding="unicode", short_empty_elements=True))  # noqa: S704 - built by ElementTree, text escaped
