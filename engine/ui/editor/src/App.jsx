// The editor: palette, canvas (React Flow), side panel, problems list, toolbar. All checks of a workflow come
// from the server (POST /api/editor/validate); this file only keeps the canvas, history and run state.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Background, Controls, MiniMap, ReactFlow, applyEdgeChanges, applyNodeChanges, useReactFlow,
} from '@xyflow/react';
import { api } from './api.js';
import Palette, { DRAG_TYPE } from './Palette.jsx';
import StepNode, { EditorContext } from './StepNode.jsx';
import { StepDialog, StepResult, WorkflowForm } from './Inspector.jsx';
import { useHistory } from './history.js';
import { useRun } from './run.js';
import { useValidation } from './validation.js';
import {
  CLIPBOARD_KEY, EXTRA_HANDLE, autoLayout, copyPayload, freshId, fromWorkflow, makeEdge, pastePayload,
  portType, renameStep, toWorkflow,
} from './model.js';

const NODE_TYPES = { step: StepNode };
const EMPTY = { nodes: [], edges: [], meta: { name: 'untitled', engine: 'sklearn', vars: {} }, layoutTouched: true };

function isTyping(target) {
  const tag = target?.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target?.isContentEditable;
}

function metaOf(workflow) {
  const meta = {};
  for (const key of ['name', 'description', 'engine', 'vars']) if (key in workflow) meta[key] = workflow[key];
  return meta;
}

export default function App() {
  const flow = useReactFlow();
  const [defs, setDefs] = useState(null);
  const [files, setFiles] = useState([]);
  const [file, setFile] = useState({ path: null, etag: null, baseText: null, hadLayout: false });
  const [pathDraft, setPathDraft] = useState('');
  const [doc, setDoc] = useState(EMPTY);
  const [message, setMessage] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [savedSig, setSavedSig] = useState(null);
  const [panel, setPanel] = useState('problems');
  const [quick, setQuick] = useState('');
  const docRef = useRef(doc);
  docRef.current = doc;
  const history = useHistory(docRef, setDoc);
  const run = useRun(setMessageText);

  function setMessageText(text, kind = 'info') {
    setMessage({ text, kind, at: Date.now() });
  }

  useEffect(() => {
    if (!message) return undefined;
    const timer = setTimeout(() => setMessage(null), message.kind === 'error' ? 9000 : 4000);
    return () => clearTimeout(timer);
  }, [message]);

  const loadFile = useCallback(async (path, nodeDefs) => {
    const loaded = await api.file(path);
    const { nodes, edges, hasLayout } = fromWorkflow(loaded.workflow, nodeDefs);
    const next = { nodes, edges, meta: metaOf(loaded.workflow), layoutTouched: hasLayout };
    setFile({ path: loaded.path, etag: loaded.etag, baseText: loaded.text, hadLayout: hasLayout });
    setDoc(next);
    docRef.current = next;
    history.reset();
    run.clear();
    setConflict(null);
    setSavedSig(JSON.stringify(toWorkflow(next.meta, nodes, edges, nodeDefs, hasLayout)));
    setTimeout(() => flow.fitView({ padding: 0.15, maxZoom: 1 }), 50);
  }, [flow, history, run]);

  useEffect(() => {
    (async () => {
      try {
        const list = await api.nodes();
        const byName = Object.fromEntries(list.map((d) => [d.name, d]));
        setDefs(byName);
        api.files().then((listed) => {
          setFiles(listed);
          const folder = listed.find((f) => f.folder)?.folder;
          if (folder) setPathDraft((p) => p || `${folder}/`);
        }, () => setFiles([]));
        const wanted = new URLSearchParams(window.location.search).get('file');
        if (wanted) await loadFile(wanted, byName);
      } catch (e) {
        setMessageText(`Could not load: ${e.message}`, 'error');
        setDefs((d) => d || {});
      }
    })();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const workflow = useMemo(() => (defs ? toWorkflow(doc.meta, doc.nodes, doc.edges, defs, doc.layoutTouched) : null),
    [defs, doc.meta, doc.nodes, doc.edges, doc.layoutTouched]);
  const signature = useMemo(() => JSON.stringify(workflow), [workflow]);
  const validation = useValidation(workflow, signature, file.baseText);
  const dirty = savedSig === null ? doc.nodes.length > 0 : signature !== savedSig;

  useEffect(() => {
    const warn = (e) => { if (dirty) { e.preventDefault(); e.returnValue = ''; } };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const problemsByStep = useMemo(() => {
    const out = {};
    for (const p of validation.problems) if (p.step) (out[p.step] ||= []).push(p);
    return out;
  }, [validation.problems]);
  const context = useMemo(() => ({ defs: defs || {}, problems: problemsByStep, status: run.steps }),
    [defs, problemsByStep, run.steps]);

  // ---- edits (each one a history entry; ``key`` merges quick successive edits of the same field) ----
  const edit = history.apply;

  const onNodesChange = useCallback((changes) => {
    setDoc((d) => ({ ...d, nodes: applyNodeChanges(changes.filter((c) => c.type !== 'remove'), d.nodes) }));
  }, []);
  const onEdgesChange = useCallback((changes) => {
    setDoc((d) => ({ ...d, edges: applyEdgeChanges(changes.filter((c) => c.type !== 'remove'), d.edges) }));
  }, []);

  const dragStart = useRef(null);
  const onNodeDragStart = useCallback(() => { dragStart.current = history.snapshot(docRef.current); }, [history]);
  const onNodeDragStop = useCallback(() => {
    if (dragStart.current) history.pushSnapshot(dragStart.current);
    dragStart.current = null;
    setDoc((d) => ({ ...d, layoutTouched: true }));
  }, [history]);

  const addNode = useCallback((nodeName, position) => {
    if (!defs?.[nodeName]) { setMessageText(`There is no node called ${nodeName}.`, 'error'); return; }
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
    if (!match) { setMessageText(`No node is called “${name}”.`, 'error'); return; }
    addNode(match, canvasCenter());
    setQuick('');
  }, [defs, addNode, canvasCenter]);

  const onConnect = useCallback((conn) => {
    const d = docRef.current;
    const source = d.nodes.find((n) => n.id === conn.source);
    const target = d.nodes.find((n) => n.id === conn.target);
    if (!source || !target) return;
    if (source.id === target.id) { setMessageText('A step cannot take its own output.', 'error'); return; }
    const targetDef = defs[target.data.step.node];
    const outType = portType(defs[source.data.step.node], conn.sourceHandle, 'out');
    const inType = portType(targetDef, conn.targetHandle, 'in', target.data.step);
    if (outType && inType && outType !== inType) {
      const portName = conn.targetHandle === EXTRA_HANDLE ? 'an extra input' : `input “${conn.targetHandle}”`;
      setMessageText(`Not connected: ${source.id}.${conn.sourceHandle} gives a ${outType}, but ${target.id}'s `
        + `${portName} (${target.data.step.node}) takes a ${inType}.`, 'error');
      return;
    }
    edit((cur) => {
      let port = conn.targetHandle;
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
  }, [defs, edit]);

  const deleteSelected = useCallback(() => {
    edit((d) => {
      const gone = new Set(d.nodes.filter((n) => n.selected).map((n) => n.id));
      const edges = d.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
      if (!gone.size && edges.length === d.edges.length) return null;
      return { ...d, nodes: d.nodes.filter((n) => !gone.has(n.id)), edges };
    });
  }, [edit]);

  const copy = useCallback(() => {
    const payload = copyPayload(docRef.current.nodes, docRef.current.edges);
    if (!payload.nodes.length) { setMessageText('Select the steps to copy first.'); return; }
    const text = JSON.stringify(payload);
    localStorage.setItem(CLIPBOARD_KEY, text);
    navigator.clipboard?.writeText(text).catch(() => {});
    setMessageText(`Copied ${payload.nodes.length} step(s) and ${payload.edges.length} connection(s).`);
  }, []);

  const paste = useCallback(() => {
    let payload = null;
    try { payload = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || 'null'); } catch { payload = null; }
    if (payload?.kind !== 'emberflow-steps' || !payload.nodes?.length) {
      setMessageText('Nothing to paste: copy steps first.'); return;
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
    const wanted = to.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(wanted)) {
      setMessageText('A step id is letters, digits, _ or -, starting with a letter or _.', 'error'); return;
    }
    if (docRef.current.nodes.some((n) => n.id === wanted)) {
      setMessageText(`There is already a step called ${wanted}.`, 'error'); return;
    }
    edit((d) => ({ ...d, ...renameStep(d.nodes, d.edges, from, wanted) }));
  }, [edit]);

  // ---- save, reload, run ----
  const save = useCallback(async () => {
    const path = file.path || pathDraft.trim();
    if (!path) { setMessageText('Give the new file a path first (the box next to Save).', 'error'); return false; }
    try {
      const saved = await api.save(path, workflow, file.etag);
      setFile((f) => ({ ...f, path: saved.path, etag: saved.etag, baseText: saved.text }));
      setSavedSig(signature);
      const url = new URL(window.location.href);
      url.searchParams.set('file', saved.path);
      window.history.replaceState(null, '', url);
      const n = saved.problems?.length || 0;
      setMessageText(n ? `Saved ${saved.path} as a draft with ${n} problem(s).` : `Saved ${saved.path}.`);
      return true;
    } catch (e) {
      if (e.status === 409) setConflict({ etag: e.body.etag, error: e.message });
      else setMessageText(`Not saved: ${e.message}`, 'error');
      return false;
    }
  }, [file, pathDraft, workflow, signature]);

  const startRun = useCallback(async () => {
    if (dirty && !(await save())) return;
    if (validation.problems.length) {
      setMessageText(`Fix the ${validation.problems.length} problem(s) before running.`, 'error'); return;
    }
    run.start(file.path || pathDraft.trim());
  }, [dirty, save, validation.problems, run, file.path, pathDraft]);

  const undo = history.undo;
  const redo = history.redo;
  const keys = useRef({});
  keys.current = { undo, redo, copy, paste, deleteSelected, save };
  useEffect(() => {
    const onKey = (e) => {
      const k = keys.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') { e.preventDefault(); k.save(); return; }
      if (isTyping(e.target)) return;
      if (mod && key === 'z' && !e.shiftKey) { e.preventDefault(); k.undo(); } else if (mod && (key === 'y' || (key === 'z' && e.shiftKey))) {
        e.preventDefault(); k.redo();
      } else if (mod && key === 'c') { k.copy(); } else if (mod && key === 'v') { e.preventDefault(); k.paste(); } else if (key === 'delete' || key === 'backspace') {
        e.preventDefault(); k.deleteSelected();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const onDrop = useCallback((e) => {
    e.preventDefault();
    const name = e.dataTransfer.getData(DRAG_TYPE) || e.dataTransfer.getData('text/plain');
    if (name) addNode(name, flow.screenToFlowPosition({ x: e.clientX - 90, y: e.clientY - 20 }));
  }, [addNode, flow]);

  const selected = doc.nodes.filter((n) => n.selected);
  const one = selected.length === 1 ? selected[0] : null;
  const columnsFor = (id) => {
    const found = new Set();
    for (const e of doc.edges.filter((x) => x.target === id)) {
      for (const c of validation.columns[`${e.source}.${e.sourceHandle}`] || []) found.add(c);
    }
    return [...found];
  };
  const shownEdges = useMemo(() => doc.edges.map((e) => {
    const src = doc.nodes.find((n) => n.id === e.source);
    const type = portType(defs?.[src?.data.step.node], e.sourceHandle, 'out') || 'frame';
    return { ...e, className: `edge-${type}` };
  }), [doc.edges, doc.nodes, defs]);

  if (!defs) return <div className="loading">Loading the node definitions…</div>;
  return (
    <EditorContext.Provider value={context}>
      <div className="ef-editor">
        <header className="toolbar">
          <a className="brand" href="/workflows">emberflow</a>
          <span className="file-name" data-dirty={dirty ? 'yes' : 'no'}>
            {file.path ? file.path : (
              <input type="text" name="new-path" placeholder="folder/new_flow.yaml" value={pathDraft}
                onChange={(e) => setPathDraft(e.target.value)} />)}
            {dirty && <span className="dirty" title="unsaved changes"> ●</span>}
          </span>
          <button type="button" id="save" onClick={save} title="Save (Ctrl+S)">Save</button>
          <select className="open-file" value="" onChange={(e) => { if (e.target.value) window.location.search = `?file=${encodeURIComponent(e.target.value)}`; }}>
            <option value="">Open…</option>
            {files.map((f) => <option key={f.path} value={f.path}>{f.path}</option>)}
          </select>
          <span className="sep" />
          <button type="button" id="undo" onClick={undo} disabled={!history.canUndo} title="Undo (Ctrl+Z)">Undo</button>
          <button type="button" id="redo" onClick={redo} disabled={!history.canRedo} title="Redo (Ctrl+Y)">Redo</button>
          <button type="button" id="copy" onClick={copy} title="Copy (Ctrl+C)">Copy</button>
          <button type="button" id="paste" onClick={paste} title="Paste (Ctrl+V)">Paste</button>
          <button type="button" id="delete" onClick={deleteSelected} title="Delete (Del)">Delete</button>
          <button type="button" id="layout" onClick={layout} title="Arrange the steps in layers">Auto-layout</button>
          <button type="button" id="fit" onClick={() => flow.fitView({ padding: 0.15, maxZoom: 1, duration: 200 })}>Fit</button>
          <span className="sep" />
          <input type="text" className="quick-add" list="node-names" placeholder="Quick add…" value={quick}
            onChange={(e) => setQuick(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && quickAdd(quick)} />
          <datalist id="node-names">{Object.keys(defs).map((n) => <option key={n} value={n} />)}</datalist>
          <span className="sep" />
          <button type="button" id="run" className="primary" onClick={startRun} disabled={run.active}>Run</button>
          <button type="button" id="cancel" onClick={run.cancel} disabled={!run.active}>Cancel</button>
          <span className="run-state" data-run-status={run.status || ''}>
            {run.status && `run ${run.status}`}{run.error ? `: ${run.error}` : ''}</span>
          <span className="validity" data-state={validation.state} data-problems={validation.problems.length}>
            {validation.state === 'pending' ? 'checking…' : validation.problems.length
              ? `${validation.problems.length} problem(s)` : validation.state === 'ok' ? 'valid' : ''}</span>
        </header>
        {conflict && (
          <div className="banner conflict">
            The file changed on disk since it was opened ({conflict.error}).
            <button type="button" id="reload" onClick={() => loadFile(file.path, defs)}>Reload it</button>
            <button type="button" onClick={() => { setFile((f) => ({ ...f, etag: conflict.etag })); setConflict(null); }}>
              Keep my version (next save overwrites)</button>
          </div>
        )}
        {message && <div className={`toast ${message.kind}`} role="status">{message.text}</div>}
        <Palette defs={defs} onAdd={(name) => addNode(name, canvasCenter())} />
        <main className="canvas" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; }} onDrop={onDrop}>
          <ReactFlow nodes={doc.nodes} edges={shownEdges} nodeTypes={NODE_TYPES} onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange} onConnect={onConnect} onNodeDragStart={onNodeDragStart}
            onNodeDragStop={onNodeDragStop} deleteKeyCode={null}
            minZoom={0.1} maxZoom={2}
            proOptions={{ hideAttribution: true }}>
            <Background gap={20} />
            <Controls />
            <MiniMap pannable zoomable style={{ width: 140, height: 90 }} />
          </ReactFlow>
        </main>
        <aside className="inspector">
          {one ? (
            <>
              <StepResult status={run.steps[one.id]} />
              <StepDialog step={one.data.step} def={defs[one.data.step.node]} problems={problemsByStep[one.id] || []}
                columns={columnsFor(one.id)} onParam={(name, v) => setParam(one.id, name, v)}
                onEngine={(v) => updateStep(one.id, (s) => ({ ...s, engine: v }))}
                onRename={(to) => rename(one.id, to)} />
            </>
          ) : selected.length > 1 ? <p className="muted">{selected.length} steps selected.</p> : (
            <WorkflowForm meta={doc.meta} problems={validation.problems.filter((p) => !p.step)}
              onMeta={(meta, key) => edit((d) => ({ ...d, meta }), key && `meta.${key}`)} />
          )}
        </aside>
        <footer className="bottom">
          <nav>
            <button type="button" className={panel === 'problems' ? 'on' : ''} onClick={() => setPanel('problems')}>
              Problems ({validation.problems.length})</button>
            <button type="button" className={panel === 'yaml' ? 'on' : ''} onClick={() => setPanel('yaml')}>YAML</button>
            <span className="muted timing">{validation.lastMs != null && `checked in ${validation.lastMs.toFixed(0)} ms`}</span>
          </nav>
          {panel === 'problems' ? (
            <ul className="problems">
              {validation.problems.map((p, i) => (
                <li key={i} data-step={p.step || ''} data-field={p.field || ''}
                  onClick={() => p.step && setDoc((d) => ({ ...d, nodes: d.nodes.map((n) => ({ ...n, selected: n.id === p.step })) }))}>
                  {p.line ? <span className="where">line {p.line}</span> : null}
                  {p.step ? <b>{p.step}{p.field ? `.${p.field}` : ''}</b> : null} {p.message}
                </li>
              ))}
              {validation.warnings.map((w, i) => <li key={`w${i}`} className="warning">warning: {w}</li>)}
              {validation.problems.length === 0 && validation.state === 'ok' && <li className="muted">No problems.</li>}
              {validation.error && <li className="field-problem">{validation.error}</li>}
            </ul>
          ) : <pre className="yaml">{validation.text}</pre>}
        </footer>
      </div>
    </EditorContext.Provider>
  );
}
