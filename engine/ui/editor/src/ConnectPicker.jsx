// Connecting ports without a mouse: the inputs of the other steps that an output of one step could go into, as a
// filter box over a list (the ARIA combobox pattern). Arrow keys move, Enter connects, Escape closes; the choices
// the port types refuse stay listed, after the others, with their reason, and choosing one tells it as the mouse does.
import { useEffect, useMemo, useRef, useState } from 'react';

function matches(choice, words) {
  const text = choice.label.toLowerCase();
  return words.every((w) => text.includes(w));
}

function Choice({ choice, index, active, onPick }) {
  const { conn } = choice;
  return (
    <li id={`connect-choice-${index}`} role="option" aria-selected={active} aria-disabled={Boolean(choice.refused)}
      className={`connect-choice${active ? ' active' : ''}${choice.refused ? ' refused' : ''}`}
      data-source-port={conn.sourceHandle} data-target={conn.target} data-target-port={conn.targetHandle}
      onMouseDown={(e) => e.preventDefault()} onClick={() => onPick(choice)}>
      <span className="connect-label">{choice.label}</span>
      {choice.replaces && !choice.refused && (
        <span className="connect-note">{choice.replaces === `${conn.source}.${conn.sourceHandle}`
          ? 'already connected' : `replaces ${choice.replaces}`}</span>)}
      {choice.refused && <span className="connect-note">refused: {choice.refused}</span>}
    </li>
  );
}

/** ``choices`` from model.connectionChoices; ``onPick(choice)`` returns true when the connection was made. */
export default function ConnectPicker({ sourceId, choices, onPick, onClose }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const box = useRef(null);
  useEffect(() => { box.current?.focus(); }, [sourceId]);
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return choices.filter((c) => matches(c, words));
  }, [choices, query]);
  const current = Math.min(active, Math.max(shown.length - 1, 0));
  const allowed = shown.filter((c) => !c.refused).length;
  useEffect(() => { document.getElementById(`connect-choice-${current}`)?.scrollIntoView({ block: 'nearest' }); },
    [current, shown]);

  const pick = (choice) => { if (choice && onPick(choice)) onClose(); };
  const onKeyDown = (e) => {
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
    if (e.key in moves && shown.length) {
      setActive(Math.max(0, Math.min(shown.length - 1, current + moves[e.key])));
    } else if (e.key === 'Enter') {
      pick(shown[current]);
    } else if (e.key === 'Escape') {
      onClose();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  };
  const listId = 'connect-choices';
  return (
    <section className="connect-picker" role="dialog" aria-labelledby="connect-title" data-connect-from={sourceId}>
      <h3 id="connect-title">Connect an output of {sourceId}</h3>
      <input ref={box} type="text" name="connect-filter" role="combobox" aria-expanded="true"
        aria-controls={listId} aria-autocomplete="list" aria-describedby="connect-help"
        aria-activedescendant={shown.length ? `connect-choice-${current}` : undefined}
        placeholder="Filter: step, port or type" value={query} onKeyDown={onKeyDown}
        onChange={(e) => { setQuery(e.target.value); setActive(0); }} />
      <p id="connect-help" className="muted">
        {allowed} input(s) can take it{shown.length > allowed ? `, ${shown.length - allowed} refused` : ''}.
        ↑ ↓ choose, Enter connects, Escape closes.</p>
      <ul id={listId} role="listbox" aria-label={`inputs for an output of ${sourceId}`} className="connect-choices">
        {shown.map((c, i) => (
          <Choice key={`${c.conn.sourceHandle}>${c.conn.target}.${c.conn.targetHandle}`} choice={c} index={i}
            active={i === current} onPick={pick} />))}
        {!shown.length && <li className="muted">{choices.length ? 'No input matches the filter.'
          : `${sourceId} has no output, or there is no other step to connect it to.`}</li>}
      </ul>
    </section>
  );
}
