"""The chart of one metric across versions: an SVG drawn on the server, escaped, with gaps where a version has
no value."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from emberflow.engine.ui.chart import MAX_X_LABELS, metric_chart, number_text

SVG = "{http://www.w3.org/2000/svg}"


def points_of(svg: str) -> list[tuple[str, str]]:
    root = ET.fromstring(svg)
    return [(c.get("data-version"), c.find(f"{SVG}title").text) for c in root.iter(f"{SVG}circle")]


def test_one_point_per_value_in_version_order_with_its_value():
    svg = metric_chart("accuracy", [(1, 0.5), (2, 0.75), (5, 0.625)])
    assert points_of(svg) == [("1", "version 1: accuracy 0.5"), ("2", "version 2: accuracy 0.75"),
                              ("5", "version 5: accuracy 0.625")]
    root = ET.fromstring(svg)
    ys = [float(c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert ys[1] < ys[2] < ys[0], "a higher value is drawn higher"
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "accuracy across versions"
    assert root.find(f"{SVG}desc").text == "version 1: 0.5; version 2: 0.75; version 5: 0.625"


def test_a_version_without_the_value_leaves_a_gap():
    svg = metric_chart("auc", [(1, 0.5), (2, 0.6), (3, None), (4, math.nan), (5, 0.7), (6, 0.8)])
    assert [v for v, _ in points_of(svg)] == ["1", "2", "5", "6"]
    path = ET.fromstring(svg).find(f"{SVG}path").get("d")
    assert path.count("M ") == 2 and path.count(" L ") == 2
    assert "version 3: none; version 4: none" in ET.fromstring(svg).find(f"{SVG}desc").text


def test_a_single_or_constant_value_is_drawn_and_no_value_draws_nothing():
    assert points_of(metric_chart("rows", [(3, 100)])) == [("3", "version 3: rows 100")]
    flat = ET.fromstring(metric_chart("rows", [(1, 7), (2, 7)]))
    assert len({c.get("cy") for c in flat.iter(f"{SVG}circle")}) == 1
    assert metric_chart("rows", [(1, None), (2, math.inf)]) is None


def test_text_from_a_manifest_is_escaped():
    name = '<script>alert("x")</script> & "quotes"'
    svg = metric_chart(name, [(1, 1.0), (2, 2.0)])
    assert "<script>" not in svg
    assert ET.fromstring(svg).find(f"{SVG}title").text == f"{name} across versions"


def test_version_labels_are_thinned_out_but_keep_the_last():
    svg = metric_chart("m", [(v, float(v)) for v in range(1, 101)])
    labels = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    versions = labels[:-1]  # the last is the axis title
    assert labels[-1] == "version" and versions[0] == "1" and versions[-1] == "100"
    assert len(versions) <= MAX_X_LABELS + 1
    assert number_text(0.123456) == "0.1235"
