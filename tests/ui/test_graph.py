"""The layered layout behind the workflow graphs: layers, waypoints, crossings and the SVG drawn from them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest
from emberflow.engine.ui.graph import (
    MAX_DRAWN_STEPS,
    NODE_H,
    NODE_W,
    STATUS_COLOURS,
    GraphEdge,
    GraphNode,
    TooLargeToDraw,
    layout,
    longest_path_layers,
    render_svg,
    run_graph,
)

SVG = "{http://www.w3.org/2000/svg}"


def edges(*pairs: str) -> list[GraphEdge]:
    return [GraphEdge(*pair.split(">")) for pair in pairs]


def test_each_step_goes_one_layer_right_of_its_furthest_input():
    layers = longest_path_layers(["a", "b", "c", "d", "e"], edges("a>b", "b>c", "a>c", "c>d", "a>e"))
    assert layers == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 1}


def test_a_cycle_still_gets_drawn():
    layers = longest_path_layers(["a", "b", "c"], edges("a>b", "b>c", "c>b"))
    assert layers["a"] == 0 and layers["b"] == layers["c"] == 1


def test_long_edges_get_waypoints_and_every_edge_points_right():
    placed = layout([GraphNode(i) for i in "abcd"], edges("a>b", "b>c", "c>d", "a>d"))
    chain = next(chain for edge, chain in placed.routes if (edge.source, edge.target) == ("a", "d"))
    assert len(chain) == 4, "one waypoint in each of the two layers between"
    for _edge, chain in placed.routes:
        xs = [placed.position[node][0] for node in chain]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)


def crossings(placed) -> int:
    """Pairs of edge segments between the same two layers whose ends swap order."""
    segments = [(placed.position[u], placed.position[v]) for _e, chain in placed.routes
                for u, v in zip(chain, chain[1:], strict=False)]
    count = 0
    for (a1, a2), (b1, b2) in combinations(segments, 2):
        if a1[0] == b1[0] and a2[0] == b2[0] and (a1[1] - b1[1]) * (a2[1] - b2[1]) < 0:
            count += 1
    return count


def test_ordering_removes_crossings_that_the_file_order_would_make():
    # In file order, x1 feeds y2 and x2 feeds y1: drawn as written, the two edges cross.
    nodes = [GraphNode(i) for i in ["x1", "x2", "y1", "y2"]]
    placed = layout(nodes, edges("x1>y2", "x2>y1"))
    assert crossings(placed) == 0


def test_nodes_never_overlap():
    nodes = [GraphNode(f"n{i}") for i in range(9)]
    placed = layout(nodes, edges("n0>n1", "n0>n2", "n0>n3", "n1>n4", "n2>n4", "n3>n5", "n4>n6", "n5>n6",
                                 "n0>n6", "n7>n8"))
    boxes = [placed.position[n.id] for n in nodes]
    for (x1, y1), (x2, y2) in combinations(boxes, 2):
        assert abs(x1 - x2) >= NODE_W or abs(y1 - y2) >= NODE_H


def test_svg_has_one_element_per_step_coloured_by_status_and_escapes_text():
    record = {
        "run_id": "r1",
        "steps": [{"id": "read", "node": "ReadCSV", "engine": "sklearn", "status": "ok", "seconds": 0.5,
                   "rows": 700},
                  {"id": "train", "node": "TrainLR", "engine": "spark", "status": "failed", "seconds": 1.0,
                   "error": "ValueError: <bad> & worse"},
                  {"id": "save", "node": "SaveModel", "engine": "spark", "status": "skipped"}],
        "edges": [{"from": "read", "to": "train", "port": "data"}, {"from": "train", "to": "save", "port": "model"}],
    }
    svg = run_graph(record)
    root = ET.fromstring(svg)  # well-formed XML: the error text with < and & was escaped
    groups = root.findall(f"{SVG}g[@class]")
    nodes = [g for g in groups if g.get("class").startswith("node")]
    assert [g.get("data-step") for g in nodes] == ["read", "train", "save"]
    for group, status in zip(nodes, ["ok", "failed", "skipped"], strict=True):
        assert group.get("data-status") == status
        rect = group.find(f"{SVG}rect")
        assert (rect.get("fill"), rect.get("stroke")) == STATUS_COLOURS[status]
    assert "ValueError: <bad> & worse" in nodes[1].find(f"{SVG}title").text
    assert len([g for g in groups if g.get("class") == "edge"]) == 2
    assert re.search(r'viewBox="0 0 \d+ \d+"', svg)


def test_an_empty_graph_is_still_a_valid_svg():
    root = ET.fromstring(render_svg([], []))
    assert root.tag == f"{SVG}svg" and root.findall(f"{SVG}g") == []


def test_a_run_record_missing_fields_still_draws():
    """Run records are not signed and may be edited by hand: a step without an id, rows or a number of
    seconds, or an edge without an end, is drawn from what is there."""
    record = {"run_id": "r2",
              "steps": [{"node": "ReadCSV", "status": "ok", "seconds": "n/a", "rows": "many"},
                        {"id": "train", "status": "running", "metrics": ["not", "a", "mapping"]}, "junk"],
              "edges": [{"from": "?", "to": "train"}, {"from": "train"}, "junk"]}
    root = ET.fromstring(run_graph(record))
    nodes = [g for g in root.findall(f"{SVG}g[@class]") if g.get("class").startswith("node")]
    assert [(g.get("data-step"), g.get("data-status")) for g in nodes] == [("?", "ok"), ("train", "running")]
    assert len([g for g in root.findall(f"{SVG}g[@class]") if g.get("class") == "edge"]) == 1


def test_a_graph_past_the_limits_is_refused_before_it_is_laid_out():
    many = [GraphNode(f"n{i}") for i in range(MAX_DRAWN_STEPS + 1)]
    with pytest.raises(TooLargeToDraw, match=f"{MAX_DRAWN_STEPS + 1:,} steps"):
        layout(many, [])
    # few steps, but every edge spans the whole chain: thousands of hidden bends
    chain = [GraphNode(f"n{i}") for i in range(100)]
    links = [GraphEdge(f"n{i}", f"n{i + 1}") for i in range(99)] + [GraphEdge("n0", "n99")] * 50
    with pytest.raises(TooLargeToDraw, match="100 steps and 149 edges"):
        layout(chain, links)
    assert len(layout(chain, links[:99]).routes) == 99


def test_the_page_of_a_run_too_large_to_draw_says_so(tmp_path):
    from emberflow.engine.store import ModelStore
    from emberflow.engine.ui.app import create_app
    from fastapi.testclient import TestClient

    steps = [{"id": f"s{i}", "node": "SplitData", "engine": "sklearn", "status": "ok", "seconds": 0.1, "rows": i}
             for i in range(MAX_DRAWN_STEPS + 1)]
    ModelStore(tmp_path).write_run({"run_id": "big-run", "status": "ok", "steps": steps, "edges": []})
    page = TestClient(create_app(tmp_path, [tmp_path])).get("/runs/big-run")
    assert page.status_code == 200 and "<svg" not in page.text
    assert f"Not drawn: {MAX_DRAWN_STEPS + 1:,} steps" in page.text and 'data-step="s300"' in page.text
