// The canvas's edits, each one undoable (through ``edit``, the history's apply): adding, connecting (with the
// port types checked, a refusal told with its reason), deleting, copying and pasting, auto-layout, parameters,
// the step's engine and id.
import { useCallback } from 'react';
import {
  CLIPBOARD_KEY, EXTRA_HANDLE, autoLayout, connectionRefusal, copyPayload, freshId, makeEdge, pastePayload,
  renameStep,
} from './model.js';

export function useCanvasEdits({ defs, edit, docRef, flow, tell, announce }) {
  const addNode = useCallback((nodeName, position) => {
    if (!defs?.[nodeName]) { tell(`There is no node called ${nodeName}.`, 'error'); return; }
    edit((d) => {
      const id = freshId(nodeName, new Set(d.nodes.map((n) => n.id)));
      const node = { id, type: 'step', position, selected: true,
        data: { step: { id, node: nodeName, engine: null, inputs: {}, params: {} } } };
      return { ...d, layoutTouched: true, nodes: [...d.nodes.map((n) => ({ ...n, selected: false })), node],
        edges: d.edges.map((e) => ({ ...e, selected: false })) };
    });
  }, [defs, edit]);

  const canvasCenter = useCallback(() => {
    const box = document.querySelector('.canvas')?.getBoundingClientRect();
    const at = flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 3 });
    const shift = (docRef.current.nodes.length % 5) * 30;
    return { x: at.x - 100 + shift, y: at.y + shift };
  }, [flow]);

  const quickAdd = useCallback((name) => {
    const match = Object.keys(defs || {}).find((n) => n.toLowerCase() === name.trim().toLowerCase());
    if (!match) { tell(`No node is called “${name}”.`, 'error'); return false; }
    addNode(match, canvasCenter());
    return true;
  }, [defs, addNode, canvasCenter]);

  /** Make the connection ``conn`` ({source, sourceHandle, target, targetHandle}) as one undoable edit, or tell
   * why not (the same reasons for the mouse and the keyboard). Returns whether it was made. */
  const onConnect = useCallback((conn) => {
    const d = docRef.current;
    const source = d.nodes.find((n) => n.id === conn.source);
    const target = d.nodes.find((n) => n.id === conn.target);
    if (!source || !target) return false;
    const refused = connectionRefusal(defs, source, target, conn);
    if (refused) { tell(`Not connected: ${refused}`, 'error'); return false; }
    const targetDef = defs[target.data.step.node];
    let port = conn.targetHandle;
    edit((cur) => {
      let nodes = cur.nodes;
      if (port === EXTRA_HANDLE) {
        const used = new Set([...Object.keys(target.data.step.inputs || {}),
          ...(targetDef.inputs || []).map((p) => p.name)]);
        port = freshId(source.id, used);
        nodes = nodes.map((n) => (n.id === target.id ? { ...n, data: { ...n.data, step: { ...n.data.step,
          inputs: { ...n.data.step.inputs, [port]: source.id } } } } : n));
      }
      const kept = cur.edges.filter((e) => !(e.target === target.id && e.targetHandle === port));
      return { ...cur, nodes, edges: [...kept, makeEdge(source.id, conn.sourceHandle, target.id, port)] };
    });
    announce(`Connected ${source.id}.${conn.sourceHandle} to ${target.id}.${port}.`);
    return true;
  }, [defs, edit]);

  const deleteSelected = useCallback(() => {
    edit((d) => {
      const gone = new Set(d.nodes.filter((n) => n.selected).map((n) => n.id));
      const edges = d.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
      if (!gone.size && edges.length === d.edges.length) return null;
      const parts = [gone.size && `${gone.size} step(s)`, d.edges.length - edges.length
        && `${d.edges.length - edges.length} connection(s)`].filter(Boolean);
      announce(`Deleted ${parts.join(' and ')}.`);
      return { ...d, nodes: d.nodes.filter((n) => !gone.has(n.id)), edges };
    });
  }, [edit]);

  const copy = useCallback(() => {
    const payload = copyPayload(docRef.current.nodes, docRef.current.edges);
    if (!payload.nodes.length) { tell('Select the steps to copy first.'); return; }
    const text = JSON.stringify(payload);
    localStorage.setItem(CLIPBOARD_KEY, text);
    navigator.clipboard?.writeText(text).catch(() => {});
    tell(`Copied ${payload.nodes.length} step(s) and ${payload.edges.length} connection(s).`);
  }, []);

  const paste = useCallback(() => {
    let payload = null;
    try { payload = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || 'null'); } catch { payload = null; }
    if (payload?.kind !== 'emberflow-steps' || !payload.nodes?.length) {
      tell('Nothing to paste: copy steps first.'); return;
    }
    edit((d) => {
      const added = pastePayload(payload, new Set(d.nodes.map((n) => n.id)));
      return { ...d, layoutTouched: true, nodes: [...d.nodes.map((n) => ({ ...n, selected: false })), ...added.nodes],
        edges: [...d.edges.map((e) => ({ ...e, selected: false })), ...added.edges] };
    });
  }, [edit]);

  const layout = useCallback(() => {
    edit((d) => ({ ...d, layoutTouched: true, nodes: autoLayout(d.nodes, d.edges) }));
    setTimeout(() => flow.fitView({ padding: 0.15, maxZoom: 1, duration: 200 }), 30);
  }, [edit, flow]);

  const updateStep = useCallback((id, change, key) => {
    edit((d) => ({ ...d, nodes: d.nodes.map((n) => (n.id === id
      ? { ...n, data: { ...n.data, step: change(n.data.step) } } : n)) }), key);
  }, [edit]);

  const setParam = useCallback((id, name, value) => updateStep(id, (s) => {
    const params = { ...s.params };
    if (value === undefined) delete params[name]; else params[name] = value;
    return { ...s, params };
  }, `${id}.${name}`), [updateStep]);

  const rename = useCallback((from, to) => {
    const wanted = to.trim();  // its form is the validator's to check; the canvas needs it non-empty and unique
    if (!wanted) return;
    if (docRef.current.nodes.some((n) => n.id === wanted)) {
      tell(`There is already a step called ${wanted}.`, 'error'); return;
    }
    edit((d) => ({ ...d, ...renameStep(d.nodes, d.edges, from, wanted) }));
  }, [edit]);

  return { addNode, canvasCenter, quickAdd, onConnect, deleteSelected, copy, paste, layout, updateStep, setParam,
    rename };
}
