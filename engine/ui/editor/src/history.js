// Undo and redo over whole snapshots of the canvas (steps with their parameters, connections, positions and the
// workflow's settings). Selection is not history: undoing keeps what is selected where it still exists.
import { useCallback, useMemo, useRef, useState } from 'react';

const LIMIT = 200;
const MERGE_MS = 1500;

export function snapshotOf(doc) {
  return {
    nodes: doc.nodes.map(({ id, type, position, data }) => ({ id, type, position, data })),
    edges: doc.edges.map(({ id, source, sourceHandle, target, targetHandle, data }) =>
      ({ id, source, sourceHandle, target, targetHandle, data })),
    meta: doc.meta,
    layoutTouched: doc.layoutTouched,
  };
}

function restore(snap, current) {
  const chosen = new Set(current.nodes.filter((n) => n.selected).map((n) => n.id));
  const measured = new Map(current.nodes.map((n) => [n.id, n.measured]));
  return { ...snap, nodes: snap.nodes.map((n) => ({ ...n, selected: chosen.has(n.id), measured: measured.get(n.id) })) };
}

export function useHistory(docRef, setDoc) {
  const stacks = useRef({ past: [], future: [], lastKey: null, lastAt: 0 });
  const [, setTick] = useState(0);
  const bump = () => setTick((t) => t + 1);

  const pushSnapshot = useCallback((snap) => {
    const s = stacks.current;
    s.past.push(snap);
    if (s.past.length > LIMIT) s.past.shift();
    s.future = [];
    s.lastKey = null;
    bump();
  }, []);

  /** Apply ``change`` (doc -> new doc, or null for nothing) as one undoable edit; edits with the same ``key``
   * within 1.5 s (typing in one field) make one entry. */
  const apply = useCallback((change, key = null) => {
    const current = docRef.current;
    const next = change(current);
    if (!next) return;
    const s = stacks.current;
    const now = Date.now();
    if (!(key && s.lastKey === key && now - s.lastAt < MERGE_MS)) {
      s.past.push(snapshotOf(current));
      if (s.past.length > LIMIT) s.past.shift();
    }
    s.lastKey = key;
    s.lastAt = now;
    s.future = [];
    docRef.current = next;
    setDoc(next);
    bump();
  }, [docRef, setDoc]);

  const move = useCallback((from, to) => {
    const s = stacks.current;
    if (!s[from].length) return;
    const current = docRef.current;
    s[to].push(snapshotOf(current));
    const next = restore(s[from].pop(), current);
    s.lastKey = null;
    docRef.current = next;
    setDoc(next);
    bump();
  }, [docRef, setDoc]);

  const undo = useCallback(() => move('past', 'future'), [move]);
  const redo = useCallback(() => move('future', 'past'), [move]);
  const reset = useCallback(() => { stacks.current = { past: [], future: [], lastKey: null, lastAt: 0 }; bump(); }, []);

  const s = stacks.current;
  return useMemo(() => ({ apply, undo, redo, reset, pushSnapshot, snapshot: snapshotOf,
    canUndo: s.past.length > 0, canRedo: s.future.length > 0 }),
  // eslint-disable-next-line react-hooks/exhaustive-deps
  [apply, undo, redo, reset, pushSnapshot, s.past.length, s.future.length]);
}
