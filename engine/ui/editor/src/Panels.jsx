// The toolbar above the canvas and the panel below it (problems and the YAML that Save writes).
import { useState } from 'react';

function openFile(path) {
  if (path) window.location.search = `?file=${encodeURIComponent(path)}`;
}

function validityText(validation) {
  if (validation.state === 'pending') return 'checking…';
  if (validation.problems.length) return `${validation.problems.length} problem(s)`;
  return validation.state === 'ok' ? 'valid' : '';
}

export function Toolbar({ file, dirty, pathDraft, setPathDraft, files, nodeNames, history, run, validation, act }) {
  const [quick, setQuick] = useState('');
  const button = (id, label, title, extra = {}) => (
    <button type="button" id={id} onClick={act[id]} title={title} {...extra}>{label}</button>);
  return (
    <header className="toolbar">
      <a className="brand" href="/workflows">emberflow</a>
      <span className="file-name" data-dirty={dirty ? 'yes' : 'no'}>
        {file.path ? file.path : (
          <input type="text" name="new-path" placeholder="folder/new_flow.yaml" value={pathDraft}
            onChange={(e) => setPathDraft(e.target.value)} />)}
        {dirty && <span className="dirty" title="unsaved changes"> ●</span>}
      </span>
      {button('save', 'Save', 'Save (Ctrl+S)')}
      <a className="new-file" href="/editor" title="A new workflow">New</a>
      <select className="open-file" value="" onChange={(e) => openFile(e.target.value)}>
        <option value="">Open…</option>
        {files.map((f) => <option key={f.path} value={f.path}>{f.path}</option>)}
      </select>
      <span className="sep" />
      {button('undo', 'Undo', 'Undo (Ctrl+Z)', { disabled: !history.canUndo })}
      {button('redo', 'Redo', 'Redo (Ctrl+Y)', { disabled: !history.canRedo })}
      {button('copy', 'Copy', 'Copy the selected steps (Ctrl+C)')}
      {button('paste', 'Paste', 'Paste (Ctrl+V)')}
      {button('delete', 'Delete', 'Delete the selection (Del)')}
      {button('layout', 'Auto-layout', 'Arrange the steps in layers')}
      {button('fit', 'Fit', 'Fit the workflow in the view')}
      <span className="sep" />
      <input type="text" className="quick-add" list="node-names" placeholder="Quick add…" value={quick}
        onChange={(e) => setQuick(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Enter' && act.quickAdd(quick)) setQuick(''); }} />
      <datalist id="node-names">{nodeNames.map((n) => <option key={n} value={n} />)}</datalist>
      <span className="sep" />
      {button('run', 'Run', 'Save and run', { className: 'primary', disabled: run.active })}
      {button('cancel', 'Cancel', 'Cancel the run', { disabled: !run.active })}
      <span className="run-state" data-run-status={run.status || ''}>
        {run.status && `run ${run.status}`}{run.error ? `: ${run.error}` : ''}</span>
      <span className="validity" data-state={validation.state} data-problems={validation.problems.length}>
        {validityText(validation)}</span>
    </header>
  );
}

export function BottomPanel({ validation, onPick }) {
  const [panel, setPanel] = useState('problems');
  const tab = (name, label) => (
    <button type="button" className={panel === name ? 'on' : ''} onClick={() => setPanel(name)}>{label}</button>);
  return (
    <footer className="bottom">
      <nav>
        {tab('problems', `Problems (${validation.problems.length})`)}
        {tab('yaml', 'YAML')}
        <span className="muted timing">
          {validation.lastMs != null && `checked in ${validation.lastMs.toFixed(0)} ms`}</span>
      </nav>
      {panel === 'problems' ? (
        <ul className="problems">
          {validation.problems.map((p, i) => (
            <li key={i} data-step={p.step || ''} data-field={p.field || ''} onClick={() => p.step && onPick(p.step)}>
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
  );
}
