// The side panel: the selected step's dialog (a form generated from its node's field declarations), its run
// result, or, with nothing selected, the workflow's name, description, default engine and vars.
import { useEffect, useState } from 'react';
import { api } from './api.js';

const ENGINES = ['sklearn', 'spark', 'h2o'];
/** Fields whose values are column names of the step's input frame (offered from the upstream columns). */
const COLUMN_FIELDS = new Set(['label', 'features', 'columns', 'categorical', 'stratify', 'weight_col', 'keys',
  'column', 'by', 'drop', 'order_by']);

function shown(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The value a text box holds, typed as the field declares where it reads as that type (``${var}`` stays text). */
function typed(field, text) {
  const t = text.trim();
  if (t === '') return undefined;
  if (field.type === 'integer' && /^-?\d+$/.test(t)) return Number(t);
  if (field.type === 'number' && t !== '' && !Number.isNaN(Number(t))) return Number(t);
  if (field.type.startsWith('array')) {
    if (t.startsWith('[')) { try { return JSON.parse(t); } catch { return t; } }
    if (t.startsWith('${')) return t;
    return t.split(',').map((x) => x.trim()).filter(Boolean);
  }
  if (field.type === 'object' || field.type === 'any') {
    try { return JSON.parse(t); } catch { return t; }
  }
  return text;
}

function FieldInput({ field, value, columns, onChange }) {
  const name = `field-${field.name}`;
  if (field.choices || field.type === 'boolean') {
    const listed = field.choices || [true, false];
    // a value the choices do not hold (``${var}``, or a mistake the validator reports) stays shown as written
    const choices = value === undefined || listed.some((c) => String(c) === String(value)) ? listed : [...listed, value];
    return (
      <select name={name} value={value === undefined ? '' : String(value)}
        onChange={(e) => {
          const v = e.target.value;
          if (v === '') onChange(undefined);
          else onChange(choices.find((c) => String(c) === v) ?? v);
        }}>
        <option value="">{field.default != null ? `(default: ${shown(field.default)})` : '(not set)'}</option>
        {choices.map((c) => <option key={String(c)} value={String(c)}>{String(c)}</option>)}
      </select>
    );
  }
  const isColumns = COLUMN_FIELDS.has(field.name) && columns?.length;
  if (isColumns && field.type.startsWith('array')) {
    const chosen = Array.isArray(value) ? value : [];
    return (
      <div className="column-picks" data-field={field.name}>
        {columns.map((c) => (
          <label key={c} className={chosen.includes(c) ? 'pick on' : 'pick'}>
            <input type="checkbox" checked={chosen.includes(c)} onChange={(e) => {
              const next = e.target.checked ? [...chosen, c] : chosen.filter((x) => x !== c);
              onChange(next.length ? next : undefined);
            }} />{c}
          </label>
        ))}
      </div>
    );
  }
  const text = (
    <TextField name={name} field={field} value={value} onChange={onChange}
      list={isColumns ? `cols-${field.name}` : undefined} columns={isColumns ? columns : null} />
  );
  if (!isColumns) return text;
  return (
    <div className="column-choice">
      {text}
      <select name={`${name}-column`} value={columns.includes(value) ? value : ''} title="a column of the input"
        onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">(column…)</option>
        {columns.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    </div>
  );
}

/** A text box that keeps what is typed while typing and sends the typed value on each change. */
function TextField({ name, field, value, onChange, list, columns }) {
  const [text, setText] = useState(shown(value));
  const [focused, setFocused] = useState(false);
  useEffect(() => { if (!focused) setText(shown(value)); }, [value, focused]);
  const multi = field.type === 'object' || field.type === 'any' || field.name === 'query';
  const props = {
    name, value: text, list, placeholder: field.default != null ? `default: ${shown(field.default)}` : '',
    onFocus: () => setFocused(true), onBlur: () => setFocused(false),
    onChange: (e) => { setText(e.target.value); onChange(typed(field, e.target.value)); },
  };
  return (
    <>
      {multi ? <textarea rows={3} {...props} /> : <input type="text" {...props} />}
      {columns && <datalist id={list}>{columns.map((c) => <option key={c} value={c} />)}</datalist>}
    </>
  );
}

function Field({ field, value, problems, columns, onChange }) {
  return (
    <div className={`field${problems.length ? ' has-problem' : ''}`} data-field={field.name}>
      <label>
        <span className="field-name">{field.name}{field.required ? ' *' : ''}</span>
        <span className="field-type">{field.type}</span>
        {field.engines && <span className="field-engines" title="engines this parameter applies to">
          {field.engines.join(', ')} only</span>}
      </label>
      <FieldInput field={field} value={value} columns={columns} onChange={onChange} />
      {field.doc && <div className="field-doc">{field.doc}</div>}
      {problems.map((p, i) => <div key={i} className="field-problem">{p.message}</div>)}
    </div>
  );
}

export function StepDialog({ step, def, problems, columns, onParam, onEngine, onRename, onConnectOutput }) {
  const [idText, setIdText] = useState(step.id);
  useEffect(() => setIdText(step.id), [step.id]);
  const fields = def?.fields || [];
  const stepProblems = problems.filter((p) => !p.field || !fields.some((f) => f.name === p.field));
  const unknown = Object.keys(step.params || {}).filter((k) => !fields.some((f) => f.name === k || f.aliases?.includes(k)));
  return (
    <div className="dialog" data-dialog-step={step.id}>
      <h3>{step.node}</h3>
      {def?.description && <p className="node-doc">{def.description}</p>}
      {(def?.outputs || []).length > 0 && (
        <button type="button" id="connect-output" aria-keyshortcuts="C" onClick={onConnectOutput}
          title="Connect an output of this step to an input of another step, from the keyboard (C on the canvas)">
          Connect output…</button>)}
      <div className="field" data-field="__id">
        <label><span className="field-name">step id</span></label>
        <input type="text" name="step-id" value={idText} onChange={(e) => setIdText(e.target.value)}
          onBlur={() => idText !== step.id && onRename(idText)}
          onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()} />
      </div>
      <div className="field" data-field="__engine">
        <label><span className="field-name">engine</span></label>
        <select name="step-engine" value={step.engine || ''} onChange={(e) => onEngine(e.target.value || null)}>
          <option value="">(the workflow's)</option>
          {(def?.engines || ENGINES).map((e) => <option key={e} value={e}>{e}</option>)}
        </select>
      </div>
      {stepProblems.map((p, i) => <div key={i} className="field-problem">{p.message}</div>)}
      {fields.map((f) => {
        const key = f.name in (step.params || {}) ? f.name : (f.aliases || []).find((a) => a in (step.params || {}));
        return (
          <Field key={f.name} field={f} value={step.params?.[key || f.name]}
            problems={problems.filter((p) => p.field === f.name || (key && p.field === key))}
            columns={COLUMN_FIELDS.has(f.name) ? columns : null}
            onChange={(v) => onParam(key || f.name, v)} />
        );
      })}
      {unknown.length > 0 && <p className="field-doc">Other parameters kept as written: {unknown.join(', ')}</p>}
    </div>
  );
}

function MetricsTable({ metrics }) {
  const rows = Object.entries(metrics || {}).filter(([, v]) => typeof v !== 'object');
  if (!rows.length) return null;
  return (
    <table className="metrics"><tbody>
      {rows.map(([k, v]) => <tr key={k} data-metric={k}><th>{k}</th>
        <td>{typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v)}</td></tr>)}
    </tbody></table>
  );
}

function Preview({ url }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setData(null); setError(null);
    api.preview(url).then(setData, (e) => setError(e.message));
  }, [url]);
  if (error) return <div className="field-problem">{error}</div>;
  if (!data) return <div className="muted">loading…</div>;
  return (
    <div className="preview">
      <div className="muted">first {data.rows.length}{data.total_rows != null ? ` of ${data.total_rows}` : ''} rows</div>
      <div className="preview-scroll">
        <table className="preview-table">
          <thead><tr>{data.columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
          <tbody>{data.rows.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{shown(v)}</td>)}</tr>)}</tbody>
        </table>
      </div>
    </div>
  );
}

export function StepResult({ status }) {
  const [open, setOpen] = useState(null);
  if (!status) return null;
  const outputs = Object.entries(status.outputs || {});
  return (
    <div className="result" data-result-status={status.status}>
      <h3>Result: {status.status}</h3>
      <p className="muted">
        {status.seconds != null && `${Number(status.seconds).toFixed(2)} s`}
        {status.rows != null && ` · ${Number(status.rows).toLocaleString('en-US')} rows`}
      </p>
      {status.error && <pre className="step-error-full">{status.error}</pre>}
      {outputs.map(([port, out]) => (
        <div key={port} className="output" data-output={port}>
          {out.kind === 'model'
            ? <a className="model-link" href={out.url} target="_blank" rel="noreferrer">
              model {out.name} version {out.version}</a>
            : <button type="button" className="preview-button" onClick={() => setOpen(open === port ? null : port)}>
              {open === port ? 'Hide' : 'Preview'} {port}</button>}
          {open === port && out.preview && <Preview url={out.preview} />}
        </div>
      ))}
      <MetricsTable metrics={status.metrics} />
    </div>
  );
}

export function WorkflowForm({ meta, problems, onMeta }) {
  const vars = Object.entries(meta.vars || {});
  const setVar = (index, name, value) => {
    const next = vars.map((kv, i) => (i === index ? [name, value] : kv)).filter(([k]) => k !== null);
    onMeta({ ...meta, vars: Object.fromEntries(next) }, `vars.${index}`);
  };
  const varValue = (text) => (/^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text);
  return (
    <div className="dialog" data-dialog="workflow">
      <h3>Workflow</h3>
      <div className="field" data-field="name"><label><span className="field-name">name</span></label>
        <input type="text" name="wf-name" value={meta.name || ''}
          onChange={(e) => onMeta({ ...meta, name: e.target.value }, 'name')} /></div>
      <div className="field" data-field="description"><label><span className="field-name">description</span></label>
        <textarea rows={2} name="wf-description" value={meta.description || ''}
          onChange={(e) => onMeta({ ...meta, description: e.target.value }, 'description')} /></div>
      <div className="field" data-field="engine"><label><span className="field-name">default engine</span></label>
        <select name="wf-engine" value={meta.engine || ''}
          onChange={(e) => onMeta({ ...meta, engine: e.target.value || undefined }, 'engine')}>
          <option value="">(sklearn)</option>
          {ENGINES.map((e) => <option key={e} value={e}>{e}</option>)}
        </select></div>
      <div className="field" data-field="vars"><label><span className="field-name">vars</span>
        <span className="field-type">used as {'${name}'} in parameters</span></label>
        {vars.map(([k, v], i) => (
          <div className="var-row" key={i}>
            <input type="text" name={`var-name-${i}`} value={k} onChange={(e) => setVar(i, e.target.value, v)} />
            <input type="text" name={`var-value-${i}`} value={shown(v)}
              onChange={(e) => setVar(i, k, varValue(e.target.value))} />
            <button type="button" title="remove" onClick={() => setVar(i, null, null)}>×</button>
          </div>
        ))}
        <button type="button" onClick={() => onMeta({ ...meta, vars: { ...(meta.vars || {}),
          [`var${vars.length + 1}`]: '' } }, null)}>+ var</button>
      </div>
      {problems.map((p, i) => <div key={i} className="field-problem">{p.message}</div>)}
    </div>
  );
}
