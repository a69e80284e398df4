// Conversions between the API's workflow model and the canvas (React Flow nodes and edges), port typing, the
// layered auto-layout and the copy/paste payload. No validation happens here: the server validates.

const LAYER_GAP = 260;
const ROW_GAP = 130;

/** Parse an input reference ("step" or "step.port") against the known step ids. */
export function parseRef(ref, stepIds) {
  const text = String(ref);
  if (stepIds.has(text)) return { step: text, port: null };
  const dot = text.lastIndexOf('.');
  if (dot > 0) return { step: text.slice(0, dot), port: text.slice(dot + 1) };
  return { step: text, port: null };
}

/** The output port an edge leaves from: the named one, else the node's first output. */
export function outputPort(def, port) {
  if (port) return port;
  return def?.outputs?.[0]?.name || 'data';
}

/** The ports a step's node takes as inputs: declared ones, then extra inputs already used by the step. */
export function inputPorts(def, step) {
  const ports = (def?.inputs || []).map((p) => ({ name: p.name, type: p.type }));
  if (def?.extra_inputs) {
    for (const name of Object.keys(step.inputs || {})) {
      if (!ports.some((p) => p.name === name)) ports.push({ name, type: def.extra_inputs, extra: true });
    }
  }
  return ports;
}

export function portType(def, name, direction, step) {
  if (direction === 'out') return (def?.outputs || []).find((p) => p.name === name)?.type;
  const port = inputPorts(def, step || {}).find((p) => p.name === name);
  if (port) return port.type;
  if (def?.extra_inputs && name === EXTRA_HANDLE) return def.extra_inputs;
  return undefined;
}

/** Handle id of the "one more input" port of nodes that take extra inputs (SQL's tables). */
export const EXTRA_HANDLE = '__more__';

/** Why the connection ``conn`` from node ``source`` to node ``target`` is refused (a sentence), or null: a step
 * cannot take its own output, and an output goes only into an input of its type (a model into a model input). */
export function connectionRefusal(defs, source, target, conn) {
  if (source.id === target.id) return 'a step cannot take its own output.';
  const outType = portType(defs[source.data.step.node], conn.sourceHandle, 'out');
  const inType = portType(defs[target.data.step.node], conn.targetHandle, 'in', target.data.step);
  if (!outType || !inType || outType === inType) return null;
  const portName = conn.targetHandle === EXTRA_HANDLE ? 'an extra input' : `input “${conn.targetHandle}”`;
  return `${source.id}.${conn.sourceHandle} gives a ${outType}, but ${target.id}'s ${portName} `
    + `(${target.data.step.node}) takes a ${inType}.`;
}

/** Every input of the other steps that an output of step ``sourceId`` could go into, as choices for the keyboard:
 * {conn, label, type, refused (the reason, or null), replaces (the reference the input holds now)}; the ones the
 * port types allow first, in the canvas's order of steps. */
export function connectionChoices(defs, nodes, edges, sourceId) {
  const source = nodes.find((n) => n.id === sourceId);
  if (!source) return [];
  const choices = [];
  for (const out of defs[source.data.step.node]?.outputs || []) {
    for (const target of nodes.filter((n) => n.id !== sourceId)) {
      const def = defs[target.data.step.node];
      const ports = inputPorts(def, target.data.step);
      if (def?.extra_inputs) ports.push({ name: EXTRA_HANDLE, type: def.extra_inputs });
      for (const port of ports) {
        const conn = { source: sourceId, sourceHandle: out.name, target: target.id, targetHandle: port.name };
        const now = edges.find((e) => e.target === target.id && e.targetHandle === port.name);
        const portText = port.name === EXTRA_HANDLE ? '+ input' : port.name;
        choices.push({ conn, type: port.type, refused: connectionRefusal(defs, source, target, conn),
          label: `${out.name} → ${target.id}.${portText} (${target.data.step.node}, ${port.type})`,
          replaces: now ? `${now.source}.${now.sourceHandle}` : null });
      }
    }
  }
  return [...choices.filter((c) => !c.refused), ...choices.filter((c) => c.refused)];
}

/** Canvas nodes and edges from a workflow model; positions from its layout, the auto-layout's for steps it lacks. */
export function fromWorkflow(workflow, defs) {
  const steps = workflow.steps || [];
  const ids = new Set(steps.map((s) => s.id));
  const nodes = steps.map((s) => ({
    id: s.id,
    type: 'step',
    position: { x: 0, y: 0 },
    data: { step: { id: s.id, node: s.node, engine: s.engine ?? null, params: { ...(s.params || {}) },
      inputs: { ...(s.inputs || {}) } } },
  }));
  const edges = [];
  for (const s of steps) {
    for (const [port, ref] of Object.entries(s.inputs || {})) {
      const { step, port: out } = parseRef(ref, ids);
      const sourceDef = defs[steps.find((x) => x.id === step)?.node];
      edges.push(makeEdge(step, outputPort(sourceDef, out), s.id, port, String(ref)));
    }
  }
  const layout = workflow.layout || {};
  const placed = autoLayout(nodes, edges).map((n) => (layout[n.id]
    ? { ...n, position: { x: Number(layout[n.id].x) || 0, y: Number(layout[n.id].y) || 0 } } : n));
  return { nodes: placed, edges, hasLayout: steps.some((s) => layout[s.id]) };
}

export function makeEdge(source, sourceHandle, target, targetHandle, ref = null) {
  return { id: `${source}.${sourceHandle}->${target}.${targetHandle}`, source, sourceHandle, target, targetHandle,
    data: { ref } };
}

/** The reference text an input holds: the original text while it still points at the same port, else the
 * shortest form ("step" when the source has one output). */
function refText(edge, defs, nodesById) {
  const source = nodesById.get(edge.source);
  const def = defs[source?.data.step.node];
  if (edge.data?.ref) {
    const ids = new Set([edge.source]);
    const parsed = parseRef(edge.data.ref, ids);
    if (parsed.step === edge.source && outputPort(def, parsed.port) === edge.sourceHandle) return edge.data.ref;
  }
  return (def?.outputs || []).length <= 1 ? edge.source : `${edge.source}.${edge.sourceHandle}`;
}

/** The workflow model the API takes, from the canvas. The layout is sent only when it means something (the file
 * had one, or the user placed nodes), so that opening and saving a hand-written file adds no layout section. */
export function toWorkflow(meta, nodes, edges, defs, withLayout) {
  const nodesById = new Map(nodes.map((n) => [n.id, n]));
  const steps = nodes.map((n) => {
    const s = n.data.step;
    const incoming = edges.filter((e) => e.target === n.id);
    const inputs = {};
    const order = [...Object.keys(s.inputs || {}), ...incoming.map((e) => e.targetHandle)];
    for (const port of order) {
      const edge = incoming.find((e) => e.targetHandle === port);
      if (edge && !(port in inputs)) inputs[port] = refText(edge, defs, nodesById);
    }
    return { id: s.id, node: s.node, engine: s.engine || null, inputs, params: s.params || {} };
  });
  const workflow = { ...meta, steps };
  if (withLayout) {
    workflow.layout = Object.fromEntries(nodes.map((n) => [n.id, { x: Math.round(n.position.x),
      y: Math.round(n.position.y) }]));
  }
  return workflow;
}

/** A layered layout: each node one layer right of its deepest input, rows ordered by their inputs' rows. */
export function autoLayout(nodes, edges) {
  const layer = new Map(nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < nodes.length; pass += 1) {
    let changed = false;
    for (const e of edges) {
      const want = (layer.get(e.source) ?? 0) + 1;
      if (layer.has(e.target) && layer.get(e.target) < want) { layer.set(e.target, want); changed = true; }
    }
    if (!changed) break;
  }
  const row = new Map();
  const layers = [...new Set(layer.values())].sort((a, b) => a - b);
  for (const l of layers) {
    const members = nodes.filter((n) => layer.get(n.id) === l);
    const weight = (n) => {
      const rows = edges.filter((e) => e.target === n.id && row.has(e.source)).map((e) => row.get(e.source));
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : nodes.indexOf(n);
    };
    members.map((n) => [n, weight(n)]).sort((a, b) => a[1] - b[1]).forEach(([n], i) => row.set(n.id, i));
  }
  return nodes.map((n) => ({ ...n, position: { x: 40 + layer.get(n.id) * LAYER_GAP, y: 40 + row.get(n.id) * ROW_GAP } }));
}

/** A step id for a new node of type ``nodeName``, not among ``taken``. */
export function freshId(base, taken) {
  const stem = base.toLowerCase().replace(/[^a-z0-9_]+/g, '_') || 'step';
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i += 1) if (!taken.has(`${stem}${i}`)) return `${stem}${i}`;
}

export const CLIPBOARD_KEY = 'emberflow-editor-clipboard';

/** The clipboard payload of the selected nodes and the edges among them. */
export function copyPayload(nodes, edges) {
  const chosen = nodes.filter((n) => n.selected);
  const ids = new Set(chosen.map((n) => n.id));
  return {
    kind: 'emberflow-steps',
    nodes: chosen.map((n) => ({ step: n.data.step, position: n.position })),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target))
      .map((e) => ({ source: e.source, sourceHandle: e.sourceHandle, target: e.target, targetHandle: e.targetHandle })),
  };
}

/** Nodes and edges to add for a pasted payload: new ids where taken, shifted so they do not cover the originals. */
export function pastePayload(payload, taken) {
  const used = new Set(taken);
  const rename = new Map();
  for (const { step } of payload.nodes) {
    const id = used.has(step.id) ? freshId(step.id.replace(/\d+$/, ''), used) : step.id;
    used.add(id);
    rename.set(step.id, id);
  }
  const nodes = payload.nodes.map(({ step, position }) => ({
    id: rename.get(step.id), type: 'step', selected: true,
    position: { x: position.x + 40, y: position.y + 40 },
    data: { step: { ...step, id: rename.get(step.id), inputs: {}, params: structuredClone(step.params || {}) } },
  }));
  const edges = payload.edges.map((e) => makeEdge(rename.get(e.source), e.sourceHandle, rename.get(e.target),
    e.targetHandle));
  return { nodes, edges };
}

/** Rename a step: its node, the edges that touch it, its layout. */
export function renameStep(nodes, edges, from, to) {
  const fix = (id) => (id === from ? to : id);
  return {
    nodes: nodes.map((n) => (n.id === from ? { ...n, id: to, data: { ...n.data, step: { ...n.data.step, id: to } } } : n)),
    edges: edges.map((e) => (e.source === from || e.target === from
      ? { ...makeEdge(fix(e.source), e.sourceHandle, fix(e.target), e.targetHandle), data: { ref: null } } : e)),
  };
}
