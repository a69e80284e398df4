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
import ConnectPicker from './ConnectPicker.jsx';
import { useHistory } from './history.js';
import { useRun } from './run.js';
import { useValidation } from './validation.js';
import { useShortcuts } from './shortcuts.js';
import { BottomPanel, Toolbar } from './Panels.jsx';
import { useCanvasEdits } from './edits.js';
import { connectionChoices, fromWorkflow, portType, toWorkflow } from './model.js';

const NODE_TYPES = { step: StepNode };
/** What screen readers say about a focused step or connection (React Flow's descriptions, with our keys). */
const ARIA_LABELS = {
  'node.a11yDescription.default': 'Press Enter or Space to select the step, C to connect one of its outputs to an '
    + 'input of another step, Delete to remove it, Escape to cancel.',
  'node.a11yDescription.keyboardDisabled': 'Press Enter or Space to select the step, C to connect one of its '
    + 'outputs to an input of another step, the arrow keys to move it, Delete to remove it, Escape to cancel.',
  'edge.a11yDescription.default': 'Press Enter or Space to select the connection, then Delete to remove it or '
    + 'Escape to cancel.',
};
const EMPTY = { nodes: [], edges: [], meta: { name: 'untitled', engine: 'sklearn', vars: {} }, layoutTouched: true };

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
  const [live, setLive] = useState({ text: '', n: 0 });
  const [connectFrom, setConnectFrom] = useState(null);
  const connectReturn = useRef(null);
  const docRef = useRef(doc);
  docRef.current = doc;
  const history = useHistory(docRef, setDoc);
  const run = useRun(setMessageText);

  /** Said by screen readers (the page's aria-live region) without a visible message. */
  function announce(text) {
    setLive((l) => ({ text, n: l.n + 1 }));
  }

  function setMessageText(text, kind = 'info') {
    setMessage({ text, kind, at: Date.now() });
    announce(text);
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
        const wanted = new URLSearchParams(window.location.search).get('file')
          || document.getElementById('editor-root')?.dataset.file;
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

  const {
    addNode, canvasCenter, quickAdd, onConnect, deleteSelected, copy, paste, layout, updateStep, setParam, rename,
  } = useCanvasEdits({ defs, edit, docRef, flow, tell: setMessageText, announce });

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

  /** The keyboard's way to connect: the step with the focus (else the one selected) gets the connect list. */
  const openConnect = () => {
    const focused = document.activeElement?.closest?.('.react-flow__node')?.dataset.id;
    const chosen = docRef.current.nodes.filter((n) => n.selected);
    const id = focused || (chosen.length === 1 ? chosen[0].id : null);
    if (!id) {
      setMessageText('Select one step first (Tab to it, then Enter), then press C to connect one of its outputs.');
      return;
    }
    connectReturn.current = document.activeElement;
    if (focused) setDoc((d) => ({ ...d, nodes: d.nodes.map((n) => ({ ...n, selected: n.id === id })),
      edges: d.edges.map((e) => ({ ...e, selected: false })) }));
    setConnectFrom(id);
  };
  const closeConnect = () => {
    const back = connectReturn.current;
    const node = connectFrom && document.querySelector(`.react-flow__node[data-id="${CSS.escape(connectFrom)}"]`);
    setConnectFrom(null);
    (back?.isConnected && back !== document.body ? back : node)?.focus();
  };

  const selectAll = (on) => setDoc((d) => ({ ...d, nodes: d.nodes.map((n) => ({ ...n, selected: on })),
    edges: d.edges.map((e) => ({ ...e, selected: false })) }));
  useShortcuts({ save, undo: history.undo, redo: history.redo, copy, paste, deleteSelected, connect: openConnect,
    selectAll: () => selectAll(true), selectNone: () => selectAll(false) });

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
    return { ...e, className: `edge-${type}`,
      ariaLabel: `Connection from ${e.source}.${e.sourceHandle} to ${e.target}.${e.targetHandle}` };
  }), [doc.edges, doc.nodes, defs]);

  const connecting = one && one.id === connectFrom ? connectFrom : null;
  useEffect(() => { if (connectFrom && !connecting) setConnectFrom(null); }, [connectFrom, connecting]);
  const choices = useMemo(() => (connecting ? connectionChoices(defs, doc.nodes, doc.edges, connecting) : []),
    [connecting, defs, doc.nodes, doc.edges]);

  const pick = (id) => {  // a problem's step: selected (its dialog opens) and centred
    setDoc((d) => ({ ...d, nodes: d.nodes.map((n) => ({ ...n, selected: n.id === id })) }));
    const found = doc.nodes.find((n) => n.id === id);
    if (found) flow.setCenter(found.position.x + 105, found.position.y + 40, { zoom: flow.getZoom(), duration: 200 });
  };
  const actions = {
    save, undo: history.undo, redo: history.redo, copy, paste, delete: deleteSelected, layout, quickAdd,
    fit: () => flow.fitView({ padding: 0.15, maxZoom: 1, duration: 200 }), run: startRun, cancel: run.cancel,
  };

  if (!defs) return <div className="loading">Loading the node definitions…</div>;
  return (
    <EditorContext.Provider value={context}>
      <div className="ef-editor">
        <Toolbar file={file} dirty={dirty} pathDraft={pathDraft} setPathDraft={setPathDraft} files={files}
          nodeNames={Object.keys(defs)} history={history} run={run} validation={validation} act={actions} />
        {conflict && (
          <div className="banner conflict">
            The file changed on disk since it was opened ({conflict.error}).
            <button type="button" id="reload" onClick={() => loadFile(file.path, defs)}>Reload it</button>
            <button type="button" onClick={() => { setFile((f) => ({ ...f, etag: conflict.etag })); setConflict(null); }}>
              Keep my version (next save overwrites)</button>
          </div>
        )}
        {message && <div className={`toast ${message.kind}`}>{message.text}</div>}
        <div id="editor-live" className="sr-only" role="status" aria-live="polite" aria-atomic="true">
          {live.text}{live.n % 2 ? '\u00a0' : ''}</div>
        <Palette defs={defs} onAdd={(name) => addNode(name, canvasCenter())} />
        <main className="canvas" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; }} onDrop={onDrop}>
          <ReactFlow nodes={doc.nodes} edges={shownEdges} nodeTypes={NODE_TYPES} onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange} onConnect={onConnect} onNodeDragStart={onNodeDragStart}
            onNodeDragStop={onNodeDragStop} deleteKeyCode={null} ariaLabelConfig={ARIA_LABELS}
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
              {connecting && <ConnectPicker sourceId={connecting} choices={choices}
                onPick={(c) => onConnect(c.conn)} onClose={closeConnect} />}
              <StepResult status={run.steps[one.id]} />
              <StepDialog step={one.data.step} def={defs[one.data.step.node]} problems={problemsByStep[one.id] || []}
                columns={columnsFor(one.id)} onParam={(name, v) => setParam(one.id, name, v)}
                onEngine={(v) => updateStep(one.id, (s) => ({ ...s, engine: v }))}
                onRename={(to) => rename(one.id, to)} onConnectOutput={openConnect} />
            </>
          ) : selected.length > 1 ? <p className="muted">{selected.length} steps selected.</p> : (
            <WorkflowForm meta={doc.meta} problems={validation.problems.filter((p) => !p.step)}
              onMeta={(meta, key) => edit((d) => ({ ...d, meta }), key && `meta.${key}`)} />
          )}
        </aside>
        <BottomPanel validation={validation} onPick={pick} />
      </div>
    </EditorContext.Provider>
  );
}
