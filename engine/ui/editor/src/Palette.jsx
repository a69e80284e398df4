// The palette: every registered node from GET /api/nodes, grouped by its type, searchable, with descriptions.
// Items are dragged onto the canvas (HTML drag and drop) or added with a double click.
import { useMemo, useState } from 'react';

export const DRAG_TYPE = 'application/x-emberflow-node';

const KIND_ORDER = ['dataset', 'transform', 'ml-estimator', 'ml-predict', 'ml-modelload', 'ml-modelsave',
  'dataset-save'];

function plain(text) {
  return (text || '').replace(/``/g, '');
}

export default function Palette({ defs, onAdd }) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const chosen = Object.values(defs).filter((d) => !q || d.name.toLowerCase().includes(q)
      || (d.description || '').toLowerCase().includes(q) || (d.type || '').includes(q));
    const byKind = new Map();
    for (const d of chosen) {
      const kind = d.type || 'other';
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind).push(d);
    }
    const rank = (k) => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length);
    return [...byKind.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))
      .map(([kind, list]) => [kind, list.sort((a, b) => a.name.localeCompare(b.name))]);
  }, [defs, query]);
  return (
    <aside className="palette">
      <input type="search" className="palette-search" placeholder="Search nodes…" value={query}
        onChange={(e) => setQuery(e.target.value)} />
      {groups.map(([kind, list]) => (
        <section key={kind} className="palette-group" data-kind={kind}>
          <h4>{kind}</h4>
          {list.map((d) => (
            <div key={d.name} className={`palette-item kind-${kind}`} data-node={d.name} draggable
              title={`${plain(d.description)}\nDrag onto the canvas, or double-click to add.`}
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_TYPE, d.name);
                e.dataTransfer.setData('text/plain', d.name);
                e.dataTransfer.effectAllowed = 'copy';
              }}
              onDoubleClick={() => onAdd(d.name)}>
              <div className="palette-name">{d.name}</div>
              <div className="palette-desc">{plain(d.description)}</div>
            </div>
          ))}
        </section>
      ))}
      {groups.length === 0 && <p className="muted">No node matches “{query}”.</p>}
    </aside>
  );
}
