// A step on the canvas: its id and node type, its ports (typed: frame or model), its problems and run status.
import { createContext, memo, useContext } from 'react';
import { Handle, Position } from '@xyflow/react';
import { EXTRA_HANDLE, inputPorts } from './model.js';

export const EditorContext = createContext({ defs: {}, problems: {}, status: {} });

function statusText(st) {
  if (!st) return null;
  if (st.status === 'done') {
    const parts = ['done'];
    if (st.seconds != null) parts.push(`${Number(st.seconds).toFixed(2)} s`);
    if (st.rows != null) parts.push(`${Number(st.rows).toLocaleString('en-US')} rows`);
    return parts.join(' · ');
  }
  return st.status;
}

function PortRow({ port, side, offset, bad }) {
  const isIn = side === 'in';
  return (
    <div className={`port port-${side} port-${port.type}${bad ? ' port-problem' : ''}`} style={{ top: offset }}
      data-port={port.name}>
      <Handle type={isIn ? 'target' : 'source'} position={isIn ? Position.Left : Position.Right} id={port.name}
        className={`handle-${port.type}`} title={`${port.name} (${port.type})`} />
      <span className="port-label">{port.label || port.name}</span>
    </div>
  );
}

function StepNode({ id, data, selected }) {
  const { defs, problems, status } = useContext(EditorContext);
  const step = data.step;
  const def = defs[step.node];
  const ins = inputPorts(def, step);
  if (def?.extra_inputs) ins.push({ name: EXTRA_HANDLE, label: '+ input', type: def.extra_inputs });
  const outs = (def?.outputs || []).map((p) => ({ name: p.name, type: p.type }));
  const mine = problems[id] || [];
  const st = status[id];
  const rows = Math.max(ins.length, outs.length, 1);
  const classes = ['step-node', `kind-${def?.type || 'unknown'}`];
  if (selected) classes.push('selected');
  if (mine.length) classes.push('has-problems');
  if (st) classes.push(`status-${st.status}`);
  return (
    <div className={classes.join(' ')} data-step={id} data-node={step.node} data-status={st?.status || ''}
      data-problems={mine.length} style={{ minHeight: 46 + rows * 22 }}>
      <div className="step-head">
        <span className="step-id">{id}</span>
        <span className="step-type">{step.node}{step.engine ? ` · ${step.engine}` : ''}</span>
      </div>
      {!def && <div className="step-warn">unknown node type</div>}
      {ins.map((p, i) => <PortRow key={`i${p.name}`} port={p} side="in" offset={46 + i * 22}
        bad={mine.some((x) => x.field === `inputs.${p.name}`
          || (x.field === 'inputs' && x.message.includes(`input '${p.name}'`)))} />)}
      {outs.map((p, i) => <PortRow key={`o${p.name}`} port={p} side="out" offset={46 + i * 22} />)}
      <div className="step-foot" style={{ marginTop: rows * 22 + 4 }}>
        {mine.length > 0 && (
          <div className="step-problems" title={mine.map((p) => p.message).join('\n')}>
            {mine.length === 1 ? mine[0].message : `${mine.length} problems: ${mine[0].message}`}
          </div>
        )}
        {st && <div className="step-status">{statusText(st)}</div>}
        {st?.status === 'failed' && st.error && <div className="step-error" title={st.error}>{st.error}</div>}
      </div>
    </div>
  );
}

export default memo(StepNode);
