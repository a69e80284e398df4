"""Workflow graphs drawn as SVG on the server: a layered (Sugiyama-style) layout written here, no JavaScript.

1. Layers: each step goes one layer right of its furthest input (longest-path layering), so every edge
   points rightwards.
2. An edge that spans several layers gets a hidden waypoint in each layer between, so it is routed around
   the steps instead of through them.
3. Order within a layer: a few sweeps of the barycenter heuristic (each step moves towards the average
   position of its neighbours in the layer before or after), which removes most edge crossings.
4. Drawing: one ``<g class="node">`` per step (coloured by its status) and one ``<g class="edge">`` per
   edge, as smooth curves through the waypoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

NODE_W, NODE_H = 176, 56
GAP_X, GAP_Y = 72, 28
MARGIN = 16
SWEEPS = 4
# Beyond these a drawing is no longer readable, and laying it out costs more than a page should: a step is
# one box, an edge one path, and an edge spanning k layers k - 1 hidden waypoints.
MAX_DRAWN_STEPS = 300
MAX_DRAWN_CELLS = 4000  # boxes + edges + waypoints

# fill, stroke: by the status a step had in a run; "planned" for a workflow that has not run.
STATUS_COLOURS = {
    "ok": ("#dff3e0", "#2e7d32"),
    "failed": ("#fde0e0", "#c62828"),
    "skipped": ("#eeeeee", "#8a8a8a"),
    "running": ("#fff4d6", "#b7791f"),
    "cancelled": ("#f3e8fd", "#6b3fa0"),  # a run stopped from outside (SIGTERM, the editor's Cancel)
    "planned": ("#e4effb", "#1e5aa8"),
}


class TooLargeToDraw(ValueError):
    """A graph past what the UI draws; the message says why, to show where the drawing would be."""


@dataclass
class GraphNode:
    id: str
    title: str = ""
    subtitle: str = ""
    status: str = "planned"
    tooltip: str = ""


@dataclass
class GraphEdge:
    source: str
    target: str
    label: str = ""


@dataclass
class Layout:
    layers: list[list[str]]                     # node ids and waypoint ids, by layer, in drawing order
    position: dict[str, tuple[float, float]]    # centre of every node and waypoint
    routes: list[tuple[GraphEdge, list[str]]] = field(default_factory=list)  # edge -> ids along it
    width: float = 0
    height: float = 0


def longest_path_layers(ids: list[str], edges: list[GraphEdge]) -> dict[str, int]:
    """Layer of each node: 0 for one without inputs, else one more than its furthest input's layer.

    Nodes left in a cycle (a workflow that failed validation) go one layer right of everything else, so the
    drawing still shows them.
    """
    preds: dict[str, set[str]] = {i: set() for i in ids}
    for edge in edges:
        if edge.source in preds and edge.target in preds and edge.source != edge.target:
            preds[edge.target].add(edge.source)
    layer: dict[str, int] = {}
    remaining = list(ids)
    while remaining:
        ready = [i for i in remaining if preds[i] <= layer.keys()]
        if not ready:
            deepest = max(layer.values(), default=-1)
            layer.update({i: deepest + 1 for i in remaining})
            break
        for node in ready:
            layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
        remaining = [i for i in remaining if i not in layer]
    return layer


def layout(nodes: list[GraphNode], edges: list[GraphEdge]) -> Layout:
    """Layers, waypoints and positions; ``TooLargeToDraw`` past ``MAX_DRAWN_STEPS`` steps or
    ``MAX_DRAWN_CELLS`` boxes, edges and waypoints (checked before any of them is made)."""
    ids = [n.id for n in nodes]
    if len(ids) > MAX_DRAWN_STEPS:
        raise TooLargeToDraw(f"{len(ids):,} steps; the graph is drawn for up to {MAX_DRAWN_STEPS:,}")
    layer_of = longest_path_layers(ids, edges)
    _check_cells(ids, edges, layer_of)
    layers: list[list[str]] = [[] for _ in range(max(layer_of.values(), default=-1) + 1)]
    for node_id in ids:
        layers[layer_of[node_id]].append(node_id)
    routes: list[tuple[GraphEdge, list[str]]] = []
    for number, edge in enumerate(edges):
        if edge.source not in layer_of or edge.target not in layer_of:
            continue
        chain = [edge.source]
        for depth in range(layer_of[edge.source] + 1, layer_of[edge.target]):
            waypoint = f"\0{number}:{depth}"
            layers[depth].append(waypoint)
            chain.append(waypoint)
        routes.append((edge, chain + [edge.target]))
    _order_layers(layers, routes)
    return _place(layers, routes)


def _check_cells(ids: list[str], edges: list[GraphEdge], layer_of: dict[str, int]) -> None:
    drawn = [e for e in edges if e.source in layer_of and e.target in layer_of]
    waypoints = sum(max(layer_of[e.target] - layer_of[e.source] - 1, 0) for e in drawn)
    cells = len(ids) + len(drawn) + waypoints
    if cells > MAX_DRAWN_CELLS:
        raise TooLargeToDraw(f"{len(ids):,} steps and {len(drawn):,} edges, which would take {cells:,} boxes, "
                             f"curves and bends; the graph is drawn for up to {MAX_DRAWN_CELLS:,}")


def _order_layers(layers: list[list[str]], routes: list[tuple[GraphEdge, list[str]]]) -> None:
    """Barycenter sweeps, down then up; ties keep the current order (so the file's order is the start)."""
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for _edge, chain in routes:
        for left, right in zip(chain, chain[1:], strict=False):
            after.setdefault(left, []).append(right)
            before.setdefault(right, []).append(left)
    for _ in range(SWEEPS):
        for index in range(1, len(layers)):
            _sort_by_barycenter(layers[index], layers[index - 1], before)
        for index in range(len(layers) - 2, -1, -1):
            _sort_by_barycenter(layers[index], layers[index + 1], after)


def _sort_by_barycenter(layer: list[str], fixed: list[str], neighbours: dict[str, list[str]]) -> None:
    rank = {node: i for i, node in enumerate(fixed)}
    current = {node: i for i, node in enumerate(layer)}

    def key(node: str) -> tuple[float, int]:
        linked = [rank[n] for n in neighbours.get(node, []) if n in rank]
        return (sum(linked) / len(linked) if linked else current[node], current[node])

    layer.sort(key=key)


def _place(layers: list[list[str]], routes: list[tuple[GraphEdge, list[str]]]) -> Layout:
    tallest = max((len(layer) for layer in layers), default=0)
    pitch = NODE_H + GAP_Y
    position: dict[str, tuple[float, float]] = {}
    for column, layer in enumerate(layers):
        top = MARGIN + (tallest - len(layer)) * pitch / 2
        for row, node in enumerate(layer):
            position[node] = (MARGIN + column * (NODE_W + GAP_X) + NODE_W / 2, top + row * pitch + NODE_H / 2)
    width = 2 * MARGIN + len(layers) * NODE_W + max(len(layers) - 1, 0) * GAP_X
    height = 2 * MARGIN + tallest * NODE_H + max(tallest - 1, 0) * GAP_Y
    return Layout(layers, position, routes, width, height)


def _edge_path(chain: list[str], position: dict[str, tuple[float, float]], start: float, end: float) -> str:
    """A smooth curve from the right side of the source to the left side of the target; across a waypoint's
    column the edge runs straight on. ``start``/``end`` shift it up or down on the source's/target's side."""
    points: list[tuple[float, float]] = []
    for index, node in enumerate(chain):
        x, y = position[node]
        if index > 0:
            points.append((x - NODE_W / 2, y + (end if index == len(chain) - 1 else 0)))
        if index < len(chain) - 1:
            points.append((x + NODE_W / 2, y + (start if index == 0 else 0)))
    parts = []
    for (x1, y1), (x2, y2) in zip(points[::2], points[1::2], strict=True):
        bend = (x2 - x1) / 2
        parts.append(f"{'M' if not parts else 'L'} {x1:.1f} {y1:.1f} "
                     f"C {x1 + bend:.1f} {y1:.1f} {x2 - bend:.1f} {y2:.1f} {x2:.1f} {y2:.1f}")
    return " ".join(parts)


def render_svg(nodes: list[GraphNode], edges: list[GraphEdge], label: str = "workflow graph") -> str:
    """The graph as one standalone ``<svg>`` element (colours inline, so it reads the same when saved)."""
    placed = layout(nodes, edges)
    width, height = max(placed.width, NODE_W + 2 * MARGIN), max(placed.height, NODE_H + 2 * MARGIN)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-graph" role="img" '
        f'aria-label="{escape(label)}" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="system-ui, sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#5b6470"/></marker></defs>',
    ]
    starts, ends = _attachments(placed)
    for number, (edge, chain) in enumerate(placed.routes):
        out.append(_edge_svg(edge, chain, placed.position, starts[number], ends[number]))
    for node in nodes:
        out.append(_node_svg(node, placed.position[node.id]))
    out.append("</svg>")
    return "\n".join(out)


def _attachments(placed: Layout) -> tuple[list[float], list[float]]:
    """Where each edge leaves its source and enters its target, as offsets from the side's middle: edges
    sharing a side are spread over it in the order of where they come from, so they and their labels do
    not overlap."""
    starts = [0.0] * len(placed.routes)
    ends = [0.0] * len(placed.routes)
    leaving: dict[str, list[tuple[float, int]]] = {}
    entering: dict[str, list[tuple[float, int]]] = {}
    for number, (_edge, chain) in enumerate(placed.routes):
        leaving.setdefault(chain[0], []).append((placed.position[chain[1]][1], number))
        entering.setdefault(chain[-1], []).append((placed.position[chain[-2]][1], number))
    for groups, offsets in ((leaving, starts), (entering, ends)):
        for group in groups.values():
            step = min(16.0, (NODE_H - 16) / max(len(group) - 1, 1))
            for rank, (_y, number) in enumerate(sorted(group)):
                offsets[number] = (rank - (len(group) - 1) / 2) * step
    return starts, ends


def _edge_svg(edge: GraphEdge, chain: list[str], position: dict[str, tuple[float, float]], start: float,
              end: float) -> str:
    title = f"{edge.source} \u2192 {edge.target}" + (f" ({edge.label})" if edge.label else "")
    x, y = position[chain[-1]]
    y += end
    label = (f'<text x="{x - NODE_W / 2 - 6:.1f}" y="{y - 6:.1f}" text-anchor="end" font-size="10" '
             f'fill="#5b6470">{escape(edge.label)}</text>') if edge.label else ""
    return (f'<g class="edge" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}">'
            f"<title>{escape(title)}</title>"
            f'<path d="{_edge_path(chain, position, start, end)}" fill="none" stroke="#5b6470" stroke-width="1.5" '
            f'marker-end="url(#arrow)"/>{label}</g>')


def _node_svg(node: GraphNode, centre: tuple[float, float]) -> str:
    fill, stroke = STATUS_COLOURS.get(node.status, STATUS_COLOURS["planned"])
    x, y = centre[0] - NODE_W / 2, centre[1] - NODE_H / 2
    tooltip = node.tooltip or f"{node.id}: {node.status}"
    return (f'<g class="node status-{escape(node.status)}" data-step="{escape(node.id)}" '
            f'data-status="{escape(node.status)}"><title>{escape(tooltip)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/>'
            f'<text x="{centre[0]:.1f}" y="{y + 23:.1f}" text-anchor="middle" font-size="14" font-weight="600" '
            f'fill="#1d2530">{escape(_clip(node.title or node.id))}</text>'
            f'<text x="{centre[0]:.1f}" y="{y + 42:.1f}" text-anchor="middle" font-size="11" '
            f'fill="#4a5563">{escape(_clip(node.subtitle, 28))}</text></g>')


def _clip(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def run_graph(record: dict) -> str:
    """A run record's steps, coloured by how each went, and its edges. A step that failed, was skipped or is
    still running has no rows (nor seconds): only what the record holds is shown."""
    nodes = []
    for step in record.get("steps") or []:
        if not isinstance(step, dict):
            continue
        step_id, status = str(step.get("id", "?")), str(step.get("status") or "planned")
        nodes.append(GraphNode(step_id, step_id, f"{step.get('node')} \u00b7 {step.get('engine')}", status,
                               f"{step_id}\n" + "\n".join(_step_facts(step))))
    edges = [GraphEdge(str(e["from"]), str(e["to"]), str(e.get("port") or "")) for e in record.get("edges") or []
             if isinstance(e, dict) and "from" in e and "to" in e]
    return render_svg(nodes, edges, f"steps of run {record.get('run_id')}")


def _step_facts(step: dict) -> list[str]:
    facts = [f"{step.get('node')} on {step.get('engine')}: {step.get('status')}"]
    if isinstance(step.get("seconds"), (int, float)):
        facts.append(f"{step['seconds']:.2f} s")
    if isinstance(step.get("rows"), int):
        facts.append(f"{step['rows']:,} rows")
    metrics = step.get("metrics")
    facts += [f"{k} = {v:.4f}" if isinstance(v, float) else f"{k} = {v}"
              for k, v in (metrics.items() if isinstance(metrics, dict) else ())]
    if step.get("error"):
        facts.append(str(step["error"]))
    return facts


def workflow_graph(steps: list[tuple[str, str, str]], edges: list[tuple[str, str, str]], name: str) -> str:
    """A workflow's steps (id, node, engine) and edges (from, to, port), before any run."""
    nodes = [GraphNode(i, i, f"{node} \u00b7 {engine}" if engine else node, "planned") for i, node, engine in steps]
    return render_svg(nodes, [GraphEdge(*e) for e in edges], f"steps of workflow {name}")
