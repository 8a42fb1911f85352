"""Server-drawn SVG charts: valid SVG, one mark per score, thresholds in words, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from companion.portal.charts import Point, Threshold, describe_trend, line_chart

SVG = "{http://www.w3.org/2000/svg}"
SCORES = [Point(date(2026, 3, 1), 18), Point(date(2026, 3, 15), 14), Point(date(2026, 4, 12), 9)]


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_chart_is_an_accessible_svg_with_a_point_per_score() -> None:
    svg = _parse(line_chart("chart-phq9", "PHQ-9 total", SCORES, maximum=27,
                            threshold=Threshold(10, "Case threshold")))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "down by 9 points" in (desc.text or "") and "The latest score, 9, is below the case threshold of 10." in (desc.text or "")
    points = svg.findall(f"{SVG}circle")
    assert [(p.get("data-date"), p.get("data-value")) for p in points] == [
        ("2026-03-01", "18"), ("2026-03-15", "14"), ("2026-04-12", "9")]
    line = svg.find(f"{SVG}polyline")
    assert line is not None and len((line.get("points") or "").split()) == 3
    # Higher scores sit higher on the picture.
    ys = [float(p.get("cy") or 0) for p in points]
    assert ys[0] < ys[1] < ys[2]
    # The threshold is drawn and labelled in words, not colour alone.
    assert svg.find(f"{SVG}line[@class='chart-threshold']") is not None
    assert any(t.text == "Case threshold (10)" for t in svg.iter(f"{SVG}text"))


def test_labels_are_escaped_and_ids_are_sanitised() -> None:
    markup = str(line_chart('x"><script>', "<script>alert(1)</script> & more", SCORES, maximum=27,
                            threshold=Threshold(10, "<b>cut</b>")))
    assert "<script>" not in markup and "<b>" not in markup
    svg = _parse(markup)  # still well-formed XML
    assert svg.find(f"{SVG}title").text == "Chart of <script>alert(1)</script> & more over time"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}title").get("id") == "xscript-title"  # type: ignore[union-attr]


def test_empty_and_single_point_charts_say_so() -> None:
    empty = _parse(line_chart("mood", "Mood", [], maximum=10))
    assert empty.findall(f"{SVG}circle") == [] and any(t.text == "No scores yet" for t in empty.iter(f"{SVG}text"))
    one = _parse(line_chart("mood", "Mood", [Point(date(2026, 5, 1), 4)], maximum=10))
    assert len(one.findall(f"{SVG}circle")) == 1 and one.find(f"{SVG}polyline") is None


def test_values_off_the_scale_are_clamped_on_the_picture() -> None:
    svg = _parse(line_chart("c", "Mood", [Point(date(2026, 5, 1), 12), Point(date(2026, 5, 2), -1)], maximum=10))
    ys = [float(p.get("cy") or 0) for p in svg.findall(f"{SVG}circle")]
    assert min(ys) >= 0 and max(ys) <= 260


def test_trend_sentences() -> None:
    assert describe_trend("GAD-7", []) == "GAD-7: no scores yet."
    assert describe_trend("GAD-7", [Point(date(2026, 1, 2), 8)], threshold=Threshold(8, "Case threshold")) == (
        "GAD-7: one score, 8 on 2 Jan. The latest score, 8, is at the case threshold of 8.")
    assert "up by 1 point)" in describe_trend("Mood", [Point(date(2026, 1, 2), 3), Point(date(2026, 1, 3), 4)])


def test_a_scale_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="maximum must be at least 1"):
        line_chart("c", "Mood", [], maximum=0)
